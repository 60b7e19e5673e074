/**
 * Which folders each real Codex reads skills from, measured through `codex app-server`
 * (`skills/list`), and proof that the skills codex-doctor writes from prompts load there:
 *
 * | folder                                         | 0.89 | 0.116 | 0.117 | 0.169 |
 * |------------------------------------------------|------|-------|-------|-------|
 * | CODEX_HOME/skills/<name> (a real folder)        | yes  | yes   | yes   | yes   |
 * | CODEX_HOME/skills/<name> → a folder elsewhere   | yes  | yes   | yes   | yes   |
 * | CODEX_HOME/skills → a folder elsewhere          | yes  | yes   | yes   | yes   |
 * | ~/.agents/skills/<name>                         | no   | yes   | yes   | yes   |
 * | <repo>/.agents/skills, <repo>/.codex/skills     | no   | yes   | yes   | yes   |
 * | ~/.codex/skills when CODEX_HOME is elsewhere    | no   | no    | no    | no    |
 *
 * Every one of them writes its own skills into CODEX_HOME/skills/.system at start-up, through a
 * linked skills/ folder too: linking skills/ whole puts Codex's files into the repository.
 */
import {existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {readSkillFrontMatter, skillFromPrompt} from '../../src/parse/front-matter.js'
import {CODEX} from '../codex-bins.js'
import {sandboxesPerTest} from '../sandbox.js'
import {codexSkillsList} from './app-server.js'

const sandbox = sandboxesPerTest()
const SKILL = (name: string) => `---\nname: ${name}\ndescription: the ${name} skill\n---\nbody\n`
const put = (file: string, text: string) => {
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, text)
}

describe.each([
  ['0.89.0', CODEX.v089, false],
  ['0.116.0', CODEX.v116, true],
  ['0.117.0', CODEX.v117, true],
  ['0.169.0', CODEX.latest, true],
])('the skills Codex %s reads', (_version, bin, readsAgents) => {
  it('CODEX_HOME/skills, its folders linked one by one, ~/.agents/skills and the repository\'s, as measured', async () => {
    const s = sandbox({bare: true})
    const codexHome = path.join(s.home, '.codex')
    put(path.join(codexHome, 'skills', 'real', 'SKILL.md'), SKILL('real'))
    put(path.join(s.root, 'elsewhere', 'linked', 'SKILL.md'), SKILL('linked'))
    symlinkSync(path.join(s.root, 'elsewhere', 'linked'), path.join(codexHome, 'skills', 'linked'))
    put(path.join(s.home, '.agents', 'skills', 'agents', 'SKILL.md'), SKILL('agents'))
    put(path.join(s.dotfiles, '.agents', 'skills', 'repo-agents', 'SKILL.md'), SKILL('repo-agents'))
    put(path.join(s.dotfiles, '.codex', 'skills', 'repo-codex', 'SKILL.md'), SKILL('repo-codex'))
    const listed = await codexSkillsList(bin, codexHome, {...s.env, CODEX_HOME: codexHome}, [s.dotfiles])
    const names = (scope: string) => listed.skills.filter((k) => k.scope === scope).map((k) => k.name).sort()
    expect(names('user')).toEqual(readsAgents ? ['agents', 'linked', 'real'] : ['linked', 'real'])
    expect(names('repo')).toEqual(readsAgents ? ['repo-agents', 'repo-codex'] : [])
    expect(readdirSync(path.join(codexHome, 'skills', '.system'))).toContain('skill-creator')
  })

  it('a skills/ folder linked whole is read, and Codex writes its .system into the folder it leads to; ~/.codex is not read then', async () => {
    const s = sandbox({bare: true})
    const codexHome = path.join(s.root, 'other-codex-home')
    mkdirSync(codexHome)
    put(path.join(s.dotfiles, 'skills', 'whole', 'SKILL.md'), SKILL('whole'))
    symlinkSync(path.join(s.dotfiles, 'skills'), path.join(codexHome, 'skills'))
    put(path.join(s.home, '.codex', 'skills', 'default-home', 'SKILL.md'), SKILL('default-home'))
    const listed = await codexSkillsList(bin, codexHome, {...s.env, CODEX_HOME: codexHome})
    const user = listed.skills.filter((k) => k.scope === 'user').map((k) => k.name)
    expect(user).toContain('whole')
    expect(user).not.toContain('default-home')
    expect(existsSync(path.join(s.dotfiles, 'skills', '.system', 'skill-creator'))).toBe(true)
  })
})

describe.each([
  ['0.117.0', CODEX.v117],
  ['0.169.0', CODEX.latest],
])('skills made from prompts load on Codex %s, with the name and description we meant', (_version, bin) => {
  const PROMPTS: Record<string, string> = {
    plain: 'Summarise the staged diff.\n',
    described: '---\ndescription: Review the staged diff\nargument-hint: FILE\n---\nReview $1.\n',
    colons: '---\ndescription: "Review: the diff: all of it"\n---\nReview.\n',
    quotes: `---\ndescription: it's "quoted" # not a comment\n---\nQuote.\n`,
    unicode: '---\ndescription: Überprüfe ✓ 日本語\n---\nText.\n',
    'lead-dash': '---\ndescription: - starts with a dash & an anchor *char\n---\nDash.\n',
    heading: '# Release notes\n\nWrite the release notes for $ARGUMENTS.\n',
    long: `---\ndescription: ${'very long words '.repeat(120)}\n---\nLong.\n`,
    unclosed: '---\ndescription: never closed\nThe whole file is the prompt.\n',
  }

  it('every generated SKILL.md is listed by the real Codex exactly as readSkillFrontMatter reads it', async () => {
    const s = sandbox({bare: true})
    const codexHome = path.join(s.home, '.codex')
    const expected: [string, string][] = []
    for (const [name, text] of Object.entries(PROMPTS)) {
      const made = await skillFromPrompt(name, text)
      if ('error' in made) throw new Error(`${name}: ${made.error}`)
      put(path.join(codexHome, 'skills', name, 'SKILL.md'), made.skillMd)
      const read = await readSkillFrontMatter(made.skillMd)
      if (!read.ok) throw new Error(`${name}: ${read.problem}`)
      expected.push([read.name, read.description])
    }
    const listed = await codexSkillsList(bin, codexHome, {...s.env, CODEX_HOME: codexHome})
    expect(listed.errors).toEqual([])
    const user = listed.skills.filter((k) => k.scope === 'user').map((k): [string, string] => [k.name, k.description])
    expect(user.sort()).toEqual(expected.sort())
  })
})

describe('skillFromPrompt (pure)', () => {
  it('takes the description from the front matter, else the first line; keeps the argument hint; the body follows unchanged', async () => {
    const made = await skillFromPrompt('review', '---\ndescription: Review the staged diff\nargument-hint: FILE\n---\nReview $1.\n')
    expect(made).toEqual({skillMd: '---\nname: "review"\ndescription: "Review the staged diff (arguments: FILE)"\n---\n\nReview $1.\n'})
    expect(await skillFromPrompt('notes', '# Release notes\n\nWrite them.\n')).toEqual({skillMd: '---\nname: "notes"\ndescription: "Release notes"\n---\n\n# Release notes\n\nWrite them.\n'})
  })

  it('refuses a name Codex would not load as a skill folder', async () => {
    expect(await skillFromPrompt('.hidden', 'x')).toMatchObject({error: expect.stringMatching(/hidden folder/)})
    expect(await skillFromPrompt('n'.repeat(65), 'x')).toMatchObject({error: expect.stringMatching(/longer than 64/)})
    expect(await skillFromPrompt('a b ', 'x')).toMatchObject({error: expect.stringMatching(/spaces at its ends/)})
  })

  it('cuts a long description to Codex\'s limit', async () => {
    const made = await skillFromPrompt('long', `---\ndescription: ${'word '.repeat(400)}\n---\nx\n`)
    if ('error' in made) throw new Error(made.error)
    const read = await readSkillFrontMatter(made.skillMd)
    expect(read.ok && [...read.description].length).toBeLessThanOrEqual(1024)
  })
})
