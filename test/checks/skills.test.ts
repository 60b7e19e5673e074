import {mkdirSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import {describe, expect, it} from 'vitest'

import {readSkillFrontMatter} from '../../src/parse/front-matter.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import {skills} from '../../src/checks/skills.js'
import {readSkillsFolder} from '../../src/codex/skills.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {codexSkillsList} from '../codex/app-server.js'
import {addSkill, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox, codexBin: string = CODEX.v116) {
  const ctx = await resolveContext({env: s.env, cwd: s.home, codexBin, checkIds: CHECK_IDS, probe: false})
  return skills.run(ctx)
}

const fm = (yaml: string) => readSkillFrontMatter(`---\n${yaml}\n---\n\nBody\n`)

describe('SKILL.md front matter, as the skills loader reads it', () => {
  it('reads name and description, folding whitespace as Codex does', async () => {
    expect(await fm('name: greeter\ndescription: |-\n  Greets people\n  by name')).toEqual({ok: true, name: 'greeter', description: 'Greets people by name', shortDescription: null})
    expect(await fm('name: "quoted: yes"\ndescription: \'it\'\'s fine\'\nmetadata:\n  short-description: short')).toEqual({ok: true, name: 'quoted: yes', description: "it's fine", shortDescription: 'short'})
    expect(await fm('name: x\ndescription: >\n  folded\n  text\n# a comment\nother: [1, 2]')).toMatchObject({ok: true, description: 'folded text'})
  })

  it.each([
    ['no front matter', 'Just text\n', /^missing YAML frontmatter/],
    ['unclosed', '---\nname: x\ndescription: y\n', /^missing YAML frontmatter/],
    ['empty', '---\n---\n', /^missing YAML frontmatter/],
  ])('%s: not loaded', async (_, text, problem) => {
    expect(await readSkillFrontMatter(text)).toEqual({ok: false, problem: expect.stringMatching(problem)})
  })

  it.each([
    ['name: x', /^missing field `description`/],
    ['description: y', /^missing field `name`/, '0.116.0'],
    ['name: x\ndescription:', /^missing field `description`/],
    ['name: x\ndescription: Use it: often', /^invalid YAML: mapping values/, '0.169.0'],
    ['name: x\ndescription: ends with:', /^invalid YAML: mapping values/],
    ['name: x\ndescription: y\nname: z', /^invalid YAML: .*duplicate key "name"/],
    ['name: [a, b]\ndescription: y', /^invalid YAML: name: invalid type, expected a string/],
    ['name: x\ndescription: y\nstray line', /^invalid YAML/],
    [`name: ${'n'.repeat(65)}\ndescription: y`, /^invalid name: exceeds maximum length of 64/],
    [`name: x\ndescription: ${'💡'.repeat(1025)}`, /^invalid description: exceeds maximum length of 1024/],
  ])('%j: not loaded (newer Codex builds that load it anyway: %s)', async (yaml, problem, loadsFrom?: string) => {
    expect(await fm(yaml)).toEqual({ok: false, problem: expect.stringMatching(problem), ...(loadsFrom ? {loadsFrom} : {})})
  })

  it('reads a plain scalar as its text, as serde_yaml gives it to a String (every pinned release loads these)', async () => {
    expect(await fm('name: true\ndescription: 0x1F')).toMatchObject({ok: true, name: 'true', description: '0x1F'})
    expect(await fm('name: 1.50\ndescription: ~')).toMatchObject({ok: true, name: '1.50', description: '~'})
    expect(await fm('base: &d shared words\nname: alias\ndescription: *d')).toMatchObject({ok: true, description: 'shared words'})
    expect(await fm('name: x\ndescription: "true"')).toMatchObject({ok: true, description: 'true'})
  })

  it('limits count characters, not bytes', async () => {
    expect((await fm(`name: x\ndescription: ${'💡'.repeat(1024)}`)).ok).toBe(true)
  })
})

describe('skills in a sandbox', () => {
  it('a good skill, linked into CODEX_HOME, passes and is listed', async () => {
    const s = sandbox()
    const file = addSkill(s)
    s.link(path.join(s.codexHome, 'skills'), path.join(s.codexDir, 'skills'))
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    // read as Codex reads it: through CODEX_HOME
    expect(outcome.details).toMatchObject({folder: path.join(s.codexHome, 'skills'), linked: true, skills: [{name: 'greeter', path: path.join(s.codexHome, 'skills', 'greeter', 'SKILL.md')}], problems: []})
    expect(file).toBe(path.join(s.codexDir, 'skills', 'greeter', 'SKILL.md'))
    expect(outcome.summary).toBe('1 skill valid: greeter')
  })

  it('valid skills that nothing links into CODEX_HOME warn: Codex does not see them', async () => {
    const s = sandbox()
    addSkill(s)
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.details).toMatchObject({linked: false})
    expect(outcome.summary).toMatch(/^1 skill valid: greeter, but not linked into CODEX_HOME/)
  })

  it('a missing description fails, naming the file and the field', async () => {
    const s = sandbox()
    addSkill(s)
    const bad = addSkill(s, 'broken', 'name: broken')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.details).toMatchObject({problems: [{path: bad, problem: 'missing field `description`'}]})
    expect(outcome.summary).toContain('broken/SKILL.md')
  })

  it('a missing name fails on Codex 0.89 (skipped there) and warns on 0.116 (which takes the folder name)', async () => {
    const s = sandbox()
    const file = addSkill(s, 'nameless', 'description: Works without a name on newer Codex')
    const old = await check(s, CODEX.v089)
    expect(old.status).toBe('fail')
    expect(old.details).toMatchObject({problems: [{path: file, problem: 'missing field `name`', loadsFrom: '0.116.0'}]})
    const newer = await check(s, CODEX.v116)
    expect(newer.status).toBe('warn')
    expect(newer.summary).toMatch(/load on Codex 0\.116\.0 but not on older versions/)
    expect(newer.details).toMatchObject({problems: [], olderCodexSkips: [{path: file}]})
  })

  it('a symlinked SKILL.md is flagged: Codex skips it silently', async () => {
    const s = sandbox()
    const real = addSkill(s, 'real')
    mkdirSync(path.join(s.codexDir, 'skills', 'linked'))
    const link = path.join(s.codexDir, 'skills', 'linked', 'SKILL.md')
    symlinkSync(real, link)
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.details).toMatchObject({problems: [{path: link, problem: expect.stringMatching(/symlink/)}]})
    expect(outcome.remediation?.text).toMatch(/link the skill's folder instead/)
  })

  it('a linked skill folder is followed; .system and other hidden folders are ignored; CODEX_HOME/skills is used when managed', async () => {
    const s = sandbox()
    s.write(path.join(s.dotfiles, 'codex-doctor.toml'), 'links = ["config.toml", "prompts", "skills"]\n')
    addSkill(s)
    s.write(path.join(s.codexDir, 'skills', '.system', 'junk', 'SKILL.md'), 'not a skill\n')
    s.write(path.join(s.root, 'elsewhere', 'shared', 'SKILL.md'), '---\nname: shared\ndescription: Shared skill\n---\n')
    symlinkSync(path.join(s.root, 'elsewhere', 'shared'), path.join(s.codexDir, 'skills', 'shared'))
    symlinkSync(path.join(s.codexDir, 'skills'), path.join(s.codexHome, 'skills'))
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.details).toMatchObject({folder: path.join(s.codexHome, 'skills'), linked: true})
    expect((outcome.details!.skills as {name: string}[]).map((k) => k.name)).toEqual(['greeter', 'shared'])
  })

  it('a folder without SKILL.md is a draft, not a skill; one linked as a skill fails; too deep fails', async () => {
    const s = sandbox()
    addSkill(s)
    s.write(path.join(s.codexDir, 'skills', 'draft', 'notes.md'), 'todo\n')
    s.link(path.join(s.codexHome, 'skills', 'greeter'), path.join(s.codexDir, 'skills', 'greeter'))
    const draft = await check(s)
    expect(draft.status, draft.summary).toBe('pass')
    // linked as a skill, it is one that loads nothing
    s.link(path.join(s.codexHome, 'skills', 'draft'), path.join(s.codexDir, 'skills', 'draft'))
    const linked = await check(s)
    expect(linked.status).toBe('fail')
    expect(linked.summary).toMatch(/draft/)
    s.write(path.join(s.codexDir, 'skills', 'draft', 'a', 'b', 'c', 'd', 'e', 'f', 'SKILL.md'), '---\nname: deep\ndescription: too deep\n---\n')
    const deep = await check(s)
    expect(deep.status).toBe('fail')
    expect(deep.summary).toMatch(/deeper than the 6 folders/)
  })

  it('skips without a skills folder', async () => {
    const s = sandbox()
    expect((await check(s)).status).toBe('skip')
  })
})

describe('the skills reader agrees with real Codex builds (codex app-server skills/list)', () => {
  it.each([
    ['0.89.0', CODEX.v089],
    ['0.116.0', CODEX.v116],
    ['0.169.0', CODEX.latest],
  ])('Codex %s loads exactly the skills we pass, and we flag every one it skips', async (version, bin) => {
    const s = sandbox()
    const home = path.join(s.root, 'probe-home')
    const dir = path.join(home, 'skills')
    const put = (rel: string, text: string) => s.write(path.join(dir, rel), text)
    put('good/SKILL.md', '---\nname: good\ndescription: Good one\n---\nbody\n')
    put('nodesc/SKILL.md', '---\nname: nodesc\n---\n')
    put('noname/SKILL.md', '---\ndescription: no name key\n---\n')
    put('colon/SKILL.md', '---\nname: colon\ndescription: Use it: often\n---\n')
    put('quoted/SKILL.md', '---\nname: quoted\ndescription: "Use it: often"\n---\n')
    put('stray/SKILL.md', '---\nname: stray\ndescription: fine\nstray line\n---\n')
    put('dupkey/SKILL.md', '---\nname: dupkey\ndescription: a\ndescription: b\n---\n')
    put('longname/SKILL.md', `---\nname: ${'n'.repeat(65)}\ndescription: x\n---\n`)
    put('nofm/SKILL.md', 'no front matter\n')
    // where a YAML reader could differ from serde_yaml: a boolean name, tabs, CRLF lines, an alias, a folded value, a comment
    put('boolname/SKILL.md', '---\nname: true\ndescription: x\n---\n')
    put('numname/SKILL.md', '---\nname: 1.50\ndescription: 0x1F\n---\n')
    put('nullname/SKILL.md', '---\nname: ~\ndescription: x\n---\n')
    put('emptydesc/SKILL.md', '---\nname: emptydesc\ndescription:\n---\n')
    put('listname/SKILL.md', '---\nname: [a, b]\ndescription: x\n---\n')
    put('tabbed/SKILL.md', '---\nname: tabbed\n\tdescription: x\n---\n')
    put('crlf/SKILL.md', '---\r\nname: crlf\r\ndescription: windows lines\r\n---\r\nbody\r\n')
    put('alias/SKILL.md', '---\nbase: &d shared words\nname: alias\ndescription: *d\n---\n')
    put('folded/SKILL.md', '---\nname: folded\ndescription: >-\n  two\n  lines # kept\n---\n')
    put('comment/SKILL.md', '---\nname: comment # a note\ndescription: "x" # another\n---\n')
    put('.hidden/h/SKILL.md', '---\nname: hidden\ndescription: x\n---\n')
    put('a/b/c/d/e/f/SKILL.md', '---\nname: depth6\ndescription: x\n---\n')
    put('a/b/c/d/e/f/g/SKILL.md', '---\nname: depth7\ndescription: x\n---\n')
    s.write(path.join(s.root, 'ext', 'linkeddir', 'SKILL.md'), '---\nname: linkeddir\ndescription: x\n---\n')
    symlinkSync(path.join(s.root, 'ext', 'linkeddir'), path.join(dir, 'linkeddir'))
    mkdirSync(path.join(dir, 'linkedfile'))
    symlinkSync(path.join(s.root, 'ext', 'linkeddir', 'SKILL.md'), path.join(dir, 'linkedfile', 'SKILL.md'))

    const ours = await readSkillsFolder(dir)
    const listed = await codexSkillsList(bin, home, s.env)
    const codex = {loaded: listed.skills.filter((k) => k.scope === 'user').map((k) => k.path).sort(), errors: listed.errors.map((e) => e.path).sort()}
    const realDir = (p: string) => p.replace(path.join(s.root, 'ext', 'linkeddir'), path.join(dir, 'linkeddir'))
    const loadsHere = (p: {loadsFrom?: string}) => p.loadsFrom !== undefined && semver.gte(version, p.loadsFrom)
    const weLoad = [...ours.skills.map((k) => k.path), ...ours.problems.filter(loadsHere).map((p) => p.path)].sort()
    expect(codex.loaded.map(realDir).sort()).toEqual(weLoad)
    const weReject = ours.problems.filter((p) => !loadsHere(p)).map((p) => p.path)
    // Codex reports what it could not parse; a linked SKILL.md or one too deep it skips without a word
    expect(weReject.sort()).toEqual([...codex.errors, path.join(dir, 'a/b/c/d/e/f/g/SKILL.md'), path.join(dir, 'linkedfile/SKILL.md')].sort())
  })
})
