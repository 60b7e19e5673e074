import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {gitignore} from '../../src/checks/gitignore.js'
import {broadLines, simplifyGitignore} from '../../src/repo/gitignore.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {gitIn, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox) {
  const ctx = await resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
  return gitignore.run(ctx)
}

const OLD = 'config/codex/*\n!config/codex/config.example.toml\n!config/codex/prompts\n'

describe('.gitignore edits (pure)', () => {
  it('finds the broad pattern and its exceptions, not unrelated lines', () => {
    const text = `# dotfiles\nnode_modules\n/config/codex/**\n!config/codex/prompts/\n!nvim/lazy-lock.json\n`
    expect(broadLines(text, 'config/codex')).toEqual([
      {line: 3, text: '/config/codex/**'},
      {line: 4, text: '!config/codex/prompts/'},
    ])
    expect(broadLines('config/codex/config.toml\n!config/codex/prompts\n', 'config/codex')).toEqual([])
    expect(broadLines('*\n!prompts\n!config.example.toml\n', '')).toHaveLength(3)
  })

  it('is the plan\'s step 6: before → after, and simplifying twice changes nothing', () => {
    const after = simplifyGitignore(OLD, 'config/codex')
    expect(after).toBe('config/codex/config.toml\n')
    expect(simplifyGitignore(after, 'config/codex')).toBe(after)
    expect(simplifyGitignore(`a\n${OLD}b\n`, 'config/codex')).toBe('a\nconfig/codex/config.toml\nb\n')
    expect(simplifyGitignore('a\n', 'config/codex')).toBe('a\nconfig/codex/config.toml\n')
    expect(simplifyGitignore('config/codex/config.toml\nconfig/codex/*\n', 'config/codex')).toBe('config/codex/config.toml\n')
  })
})

describe('gitignore', () => {
  it('the new layout passes, naming the rule', async () => {
    const s = sandbox()
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.summary).toBe('config/codex/config.toml is ignored (.gitignore:1: config/codex/config.toml)')
    expect(outcome.details).toMatchObject({configTracked: false, oldLines: [], tracked: [path.join(s.codexDir, 'config.example.toml'), path.join(s.codexDir, 'prompts', 'hello.md')]})
  })

  it('the old broad pattern warns with the replacement, the files tracked today, and what the simpler rule would show', async () => {
    const s = sandbox({layout: 'old'})
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.summary).toBe('.gitignore ignores all of config/codex with exceptions; config/codex/config.toml is all it needs')
    expect(outcome.details).toMatchObject({
      gitignorePath: path.join(s.dotfiles, '.gitignore'),
      oldLines: [
        {line: 1, text: 'config/codex/*'},
        {line: 2, text: '!config/codex/config.example.toml'},
        {line: 3, text: '!config/codex/prompts'},
      ],
      suggestedLines: ['config/codex/config.toml'],
      tracked: [path.join(s.codexDir, 'config.example.toml'), path.join(s.codexDir, 'prompts', 'hello.md')],
      wouldShow: ['auth.json', 'history.jsonl', 'log/', 'sessions/', 'version.json'].map((p) => path.join(s.dotfiles, 'config', 'codex', p)),
    })
    expect(outcome.remediation).toMatchObject({automatic: true})

    // the same with the state already moved out: nothing would show
    const t = sandbox({oldGitignore: true})
    expect((await check(t)).details).toMatchObject({wouldShow: []})
  })

  it('no rule for config.toml fails', async () => {
    const s = sandbox()
    writeFileSync(path.join(s.dotfiles, '.gitignore'), 'node_modules\n')
    s.git('commit', '-q', '-m', 'forget the rule', '--', '.gitignore')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('nothing ignores config/codex/config.toml: git add -A would commit the live config')
    expect(outcome.remediation?.commands).toEqual([`printf '%s\\n' config/codex/config.toml >> ${path.join(s.dotfiles, '.gitignore')}`])
  })

  it('a tracked config.toml fails even though a rule matches it', async () => {
    const s = sandbox()
    s.git('add', '-f', 'config/codex/config.toml')
    s.commit('track the live config')
    expect(gitIn(s.dotfiles, 'ls-files', 'config/codex/config.toml').trim()).toBe('config/codex/config.toml')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.details).toMatchObject({configTracked: true})
    expect(outcome.remediation?.commands).toEqual([`git -C ${s.dotfiles} rm --cached -- config/codex/config.toml`])
  })

  it('a rule only in .git/info/exclude warns: other clones do not share it', async () => {
    const s = sandbox()
    writeFileSync(path.join(s.dotfiles, '.gitignore'), '')
    writeFileSync(path.join(s.dotfiles, '.git', 'info', 'exclude'), 'config/codex/config.toml\n')
    s.commit('rule moved to info/exclude')
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.summary).toMatch(/^only \.git\/info\/exclude ignores/)
  })

  it('a dotfiles folder that is not a git work tree: skip', async () => {
    const s = sandbox()
    rmSync(path.join(s.dotfiles, '.git'), {recursive: true})
    const ctx = await resolveContext({env: {...s.env, DOTFILES: s.dotfiles}, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
    const outcome = await gitignore.run(ctx)
    expect(outcome).toMatchObject({status: 'skip', summary: `${s.dotfiles} is not a git work tree`})
  })

  it('a broad .gitignore inside the codex folder is found too', async () => {
    const s = sandbox()
    writeFileSync(path.join(s.dotfiles, '.gitignore'), '')
    writeFileSync(path.join(s.codexDir, '.gitignore'), '*\n!.gitignore\n!prompts\n!config.example.toml\n')
    s.commit('nested ignore')
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.details).toMatchObject({gitignorePath: path.join(s.codexDir, '.gitignore'), suggestedLines: ['/config.toml']})
    expect(simplifyGitignore(readFileSync(path.join(s.codexDir, '.gitignore'), 'utf8'), '')).toBe('/config.toml\n')
  })
})
