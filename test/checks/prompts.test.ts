import {mkdirSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {readPromptFrontMatter} from '../../src/parse/front-matter.js'
import {judgePrompts, prompts} from '../../src/checks/prompts.js'
import {loadsPrompts} from '../../src/codex/prompts.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX, LATEST_VERSION} from '../codex-bins.js'
import {type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox, codexBin: string) {
  const ctx = await resolveContext({env: {...s.env, DOTFILES: s.dotfiles}, cwd: s.home, codexBin, checkIds: CHECK_IDS, probe: false})
  return prompts.run(ctx)
}

describe('prompt front matter, as custom_prompts.rs reads it', () => {
  it('reads description and argument-hint, quotes stripped', () => {
    expect(readPromptFrontMatter('---\ndescription: "Say hi"\nargument_hint: \'NAME\'\n# comment\n---\nbody\n')).toEqual({description: 'Say hi', argumentHint: 'NAME', unclosed: false})
  })
  it('no front matter is fine; an unclosed one is sent as the prompt, without description', () => {
    expect(readPromptFrontMatter('Just a prompt\n')).toEqual({description: null, argumentHint: null, unclosed: false})
    expect(readPromptFrontMatter('---\r\ndescription: x\r\nbody\r\n')).toEqual({description: null, argumentHint: null, unclosed: true})
  })
})

describe('prompts verdict (pure)', () => {
  const folder = '/h/.codex/prompts'
  const hello = {name: 'hello', command: '/prompts:hello', description: 'Say hello', argumentHint: 'NAME'}
  it('0.117.0 is the first version without prompts; unknown versions count as loading', () => {
    expect([loadsPrompts('0.116.0'), loadsPrompts('0.117.0'), loadsPrompts('0.117.0-alpha.1'), loadsPrompts(null)]).toEqual([true, false, true, true])
  })
  it('an empty folder warns, a folder where nothing loads fails, a missing one fails', () => {
    expect(judgePrompts({folder, loaded: [], ignored: [], unclosed: [], renamable: []}, '0.116.0').status).toBe('warn')
    expect(judgePrompts({folder, loaded: [], ignored: [{name: 'x.txt', reason: 'not a .md file'}], unclosed: [], renamable: []}, '0.116.0').status).toBe('fail')
    expect(judgePrompts({folder, problem: `${folder} does not exist`}, '0.116.0').status).toBe('fail')
  })
  it('an unclosed front matter warns; an unknown version says so', () => {
    expect(judgePrompts({folder, loaded: [hello], ignored: [], unclosed: ['hello.md'], renamable: []}, '0.116.0').status).toBe('warn')
    const unknown = judgePrompts({folder, loaded: [hello], ignored: [], unclosed: [], renamable: []}, null)
    expect(unknown.status).toBe('pass')
    expect(unknown.summary).toMatch(/version unknown/)
  })
})

describe('prompts, against real Codex binaries', () => {
  it('Codex 0.116 loads the sandbox prompt: pass, with its name and description', async () => {
    const s = sandbox()
    const outcome = await check(s, CODEX.v116)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.summary).toContain('/prompts:hello')
    expect(outcome.details).toMatchObject({
      folder: path.join(s.codexHome, 'prompts'),
      version: '0.116.0',
      loaded: [{name: 'hello', command: '/prompts:hello', description: 'Say hello', argumentHint: 'NAME'}],
      ignored: [],
    })
  })

  it.each([
    ['0.117.0', CODEX.v117],
    [LATEST_VERSION, CODEX.latest],
  ])('Codex %s no longer loads prompts: warn, with how to move them to skills', async (version, bin) => {
    const s = sandbox()
    const outcome = await check(s, bin)
    expect(outcome.status).toBe('warn')
    expect(outcome.summary).toBe(`Codex ${version} no longer loads custom prompts; hello.md has no skill yet: move them to skills`)
    expect(outcome.remediation?.text).toMatch(/SKILL\.md/)
    expect(outcome.remediation).toMatchObject({automatic: true})
    expect(outcome.details).toMatchObject({skills: {done: [], missing: ['hello'], blocked: []}})
    expect(outcome.details).toMatchObject({loaded: [], ignored: [{name: 'hello.md'}]})
  })

  it('Codex 0.116 with a nested folder, a .txt and a dangling link: warn, each ignored entry with its reason', async () => {
    const s = sandbox()
    const dir = path.join(s.codexDir, 'prompts')
    mkdirSync(path.join(dir, 'nested'))
    writeFileSync(path.join(dir, 'nested', 'deep.md'), 'Deep prompt\n')
    writeFileSync(path.join(dir, 'notes.txt'), 'not a prompt\n')
    symlinkSync(path.join(s.root, 'nowhere.md'), path.join(dir, 'gone.md'))
    // a link to a real file is followed and loads
    writeFileSync(path.join(s.root, 'shared.md'), 'Shared prompt\n')
    symlinkSync(path.join(s.root, 'shared.md'), path.join(dir, 'shared.md'))
    const outcome = await check(s, CODEX.v116)
    expect(outcome.status).toBe('warn')
    expect(outcome.summary).toMatch(/^2 prompts load; 3 entries ignored: /)
    const details = outcome.details as {loaded: {name: string}[]; ignored: {name: string; reason: string}[]}
    expect(details.loaded.map((p) => p.name)).toEqual(['hello', 'shared'])
    expect(details.ignored).toEqual([
      {name: 'gone.md', reason: expect.stringMatching(/^a dangling link \(to .*nowhere\.md\)/)},
      {name: 'nested', reason: expect.stringMatching(/^a folder: .*top level/)},
      {name: 'notes.txt', reason: expect.stringMatching(/^not a \.md file/)},
    ])
    expect(outcome.remediation?.commands).toEqual([`mv ${path.join(dir, 'notes.txt')} ${path.join(dir, 'notes.md')}`])
  })

  it('every entry ignored: fail; a missing prompts link: fail pointing at the links fix', async () => {
    const s = sandbox()
    const dir = path.join(s.codexDir, 'prompts')
    s.git('mv', 'config/codex/prompts/hello.md', 'config/codex/prompts/hello.txt')
    expect((await check(s, CODEX.v116)).status).toBe('fail')
    writeFileSync(path.join(dir, 'ok.md'), 'ok\n')
    expect((await check(s, CODEX.v116)).status).toBe('warn')

    const t = sandbox()
    unlinkSync(path.join(t.codexHome, 'prompts'))
    const missing = await check(t, CODEX.v116)
    expect(missing.status).toBe('fail')
    expect(missing.remediation?.commands).toEqual(['codex-doctor links --fix'])
  })

  it('skips when prompts is neither managed nor present', async () => {
    const s = sandbox({layout: 'unlinked'})
    s.write(path.join(s.dotfiles, 'codex-doctor.toml'), 'links = ["config.toml"]\n')
    expect((await check(s, CODEX.v116)).status).toBe('skip')
  })
})
