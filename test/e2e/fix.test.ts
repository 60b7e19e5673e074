/**
 * Fix cases as ESLint's RuleTester states them: before → --fix → after → --fix again changes
 * nothing and records no run → undo → exactly the before state. Each on a real sandbox, through
 * the real CLI, with a real Codex binary.
 */
import {existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CODEX} from '../codex-bins.js'
import {AUTH, clobberConfig, CONFIG_TOML, gitIn, snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()

const BASE = ['--codex-bin', CODEX.v089, '--no-probe']

/** The user's world: HOME without the repository's .git (compared through git itself), which holds index timestamps. */
function world(s: Sandbox) {
  const files = Object.fromEntries(Object.entries(snapshot(s.home)).filter(([p]) => !p.includes('.git/') && !p.endsWith('.git')))
  return {files, index: gitIn(s.dotfiles, 'ls-files', '-s'), status: gitIn(s.dotfiles, 'status', '--porcelain', '--ignored')}
}

function runsIn(s: Sandbox): string[] {
  const runs = path.join(s.env.XDG_STATE_HOME!, 'codex-doctor', 'runs')
  return existsSync(runs) ? readdirSync(runs) : []
}

interface FixCase {
  name: string
  build(): Sandbox
  /** Checks that --fix must turn into a pass. */
  repairs: string[]
  /** More arguments for every run, e.g. --dotfiles where no link leads to the repository. */
  args?: (s: Sandbox) => string[]
  after(s: Sandbox, output: {stdout: string}): void
}

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8)

const CASES: FixCase[] = [
  {
    name: 'the old layout with state: the migration',
    build: () => sandbox({layout: 'old'}),
    repairs: ['codex-home', 'links', 'stray-state', 'gitignore'],
    after(s) {
      expect(lstatSync(s.codexHome).isDirectory()).toBe(true)
      expect(readlinkSync(path.join(s.codexHome, 'config.toml'))).toBe(path.join(s.codexDir, 'config.toml'))
      expect(readlinkSync(path.join(s.codexHome, 'prompts'))).toBe(path.join(s.codexDir, 'prompts'))
      expect(readFileSync(path.join(s.codexHome, 'auth.json'), 'utf8')).toBe(AUTH)
      expect(mode(path.join(s.codexHome, 'auth.json'))).toBe('600')
      expect(existsSync(path.join(s.codexHome, 'sessions', '2026', '01', '02', 'rollout-1.jsonl'))).toBe(true)
      for (const item of ['auth.json', 'history.jsonl', 'sessions', 'log', 'version.json']) expect(existsSync(path.join(s.codexDir, item))).toBe(false)
      expect(readFileSync(path.join(s.dotfiles, '.gitignore'), 'utf8')).toMatch(/^config\/codex\/config\.toml$/m)
      // every file tracked before stays tracked
      expect(gitIn(s.dotfiles, 'ls-files', 'config/codex').trim().split('\n').sort()).toEqual(['config/codex/config.example.toml', 'config/codex/prompts/hello.md'])
    },
  },
  {
    name: 'a clobbered config.toml: the copy goes to the backup and the diff is shown',
    build() {
      const s = sandbox()
      clobberConfig(s)
      return s
    },
    repairs: ['links'],
    after(s, {stdout}) {
      expect(readlinkSync(path.join(s.codexHome, 'config.toml'))).toBe(path.join(s.codexDir, 'config.toml'))
      expect(readFileSync(path.join(s.codexDir, 'config.toml'), 'utf8')).toBe(CONFIG_TOML)
      expect(stdout).toContain('+model_reasoning_effort = "high"')
      expect(stdout).toMatch(/backup/)
    },
  },
  {
    name: 'missing links',
    build() {
      const s = sandbox()
      unlinkSync(path.join(s.codexHome, 'config.toml'))
      unlinkSync(path.join(s.codexHome, 'prompts'))
      return s
    },
    repairs: ['links'],
    // with no link left, nothing leads to the repository: the user names it
    args: (s) => ['--dotfiles', s.dotfiles],
    after(s) {
      expect(readlinkSync(path.join(s.codexHome, 'config.toml'))).toBe(path.join(s.codexDir, 'config.toml'))
      expect(readlinkSync(path.join(s.codexHome, 'prompts'))).toBe(path.join(s.codexDir, 'prompts'))
    },
  },
  {
    name: 'stray state with conflicts in both places: history in both, overlapping session folders',
    build() {
      const s = sandbox()
      s.write(path.join(s.codexDir, 'history.jsonl'), '{"from":"repo"}\n', 0o600)
      s.write(path.join(s.codexDir, 'sessions', '2026', '01', '02', 'rollout-1.jsonl'), '{"from":"repo, same name"}\n')
      s.write(path.join(s.codexDir, 'sessions', '2026', '01', '02', 'rollout-2.jsonl'), '{"from":"repo, only here"}\n')
      s.write(path.join(s.codexDir, 'sessions', '2025', '12', '31', 'rollout-0.jsonl'), '{"from":"repo, old year"}\n')
      return s
    },
    repairs: ['stray-state'],
    after(s, {stdout}) {
      // CODEX_HOME's copies stay; the repository's go to the backup; the rest merges in
      expect(readFileSync(path.join(s.codexHome, 'history.jsonl'), 'utf8')).toBe('{"ts":1,"text":"hello"}\n')
      expect(readFileSync(path.join(s.codexHome, 'sessions', '2026', '01', '02', 'rollout-1.jsonl'), 'utf8')).toBe('{"id":1}\n')
      expect(readFileSync(path.join(s.codexHome, 'sessions', '2026', '01', '02', 'rollout-2.jsonl'), 'utf8')).toBe('{"from":"repo, only here"}\n')
      expect(readFileSync(path.join(s.codexHome, 'sessions', '2025', '12', '31', 'rollout-0.jsonl'), 'utf8')).toBe('{"from":"repo, old year"}\n')
      expect(existsSync(path.join(s.codexDir, 'sessions'))).toBe(false)
      expect(stdout).not.toContain('{"from":"repo"}')
      const backups = snapshot(path.join(s.env.XDG_STATE_HOME!, 'codex-doctor', 'runs'))
      const contents = Object.values(backups).filter((v) => v.startsWith('file')).map((v) => Buffer.from(v.split(' ').at(-1)!, 'base64').toString())
      expect(contents).toContain('{"from":"repo"}\n')
      expect(contents).toContain('{"from":"repo, same name"}\n')
    },
  },
  {
    name: 'a tracked secret: untracked, ignored, 0600, and a word about rotating it',
    build() {
      const s = sandbox()
      s.write(path.join(s.codexDir, '.credentials.json'), '{"token":"SECRET-never-print-me-2"}\n', 0o644)
      s.git('add', '-f', 'config/codex/.credentials.json')
      s.commit('oops')
      s.write(path.join(s.codexHome, 'auth.json'), AUTH, 0o644)
      return s
    },
    repairs: ['secrets'],
    after(s, {stdout}) {
      expect(gitIn(s.dotfiles, 'ls-files', 'config/codex/.credentials.json').trim()).toBe('')
      expect(mode(path.join(s.codexHome, 'auth.json'))).toBe('600')
      // the repository's copy moved into CODEX_HOME (stray-state), readable by its owner only
      expect(mode(path.join(s.codexHome, '.credentials.json'))).toBe('600')
      expect(stdout).toMatch(/codex logout/)
      expect(stdout).not.toContain('SECRET-never-print-me')
    },
  },
  {
    name: 'the old .gitignore: simplified as step 6 does, tracked files stay tracked',
    build: () => sandbox({oldGitignore: true}),
    repairs: ['gitignore'],
    after(s) {
      const text = readFileSync(path.join(s.dotfiles, '.gitignore'), 'utf8')
      expect(text).toMatch(/^config\/codex\/config\.toml$/m)
      expect(text).not.toMatch(/^config\/codex\/\*$/m)
      expect(gitIn(s.dotfiles, 'ls-files', 'config/codex').trim().split('\n').sort()).toEqual(['config/codex/config.example.toml', 'config/codex/prompts/hello.md'])
    },
  },
]

describe.each(CASES)('--fix: $name', (c) => {
  it('before → --fix → after → --fix again does nothing → undo → exactly before', () => {
    const s = c.build()
    const BIN = [...BASE, ...(c.args?.(s) ?? [])]
    const before = world(s)
    const initial = cliJson(BIN, s.env)
    for (const id of c.repairs) expect(initial.json.checks[id].status, `${id} before`).not.toBe('pass')

    // the human report is where a user reads the diff, the backup path and the advice
    const fix = cli(['--fix', ...BIN], s.env)
    expect(fix.stderr).toBe('')
    expect(fix.stdout).not.toMatch(/✗ (applied|failed)|^\s+✗ /m)
    const recheck = cliJson(BIN, s.env)
    for (const id of c.repairs) expect(recheck.json.checks[id].status, `${id} after: ${recheck.json.checks[id].summary}`).toBe('pass')
    c.after(s, fix)
    expect(runsIn(s)).toHaveLength(1)

    const again = cliJson(['--fix', ...BIN], s.env)
    expect(again.json.fix).toMatchObject({runId: null, actions: []})
    expect(runsIn(s)).toHaveLength(1)

    const undo = cli(['undo'], s.env)
    expect(undo.status, undo.stdout + undo.stderr).toBe(0)
    expect(world(s)).toEqual(before)
  })

  it('--dry-run plans the same actions and writes nothing at all (state folder included)', () => {
    const s = c.build()
    const BIN = [...BASE, ...(c.args?.(s) ?? [])]
    rmSync(path.join(s.root, 'cache'), {recursive: true, force: true})
    const before = snapshot(s.root)
    const dry = cliJson(['--fix', '--dry-run', ...BIN], s.env)
    expect(dry.json.fix.dryRun).toBe(true)
    expect(dry.json.fix.actions.length).toBeGreaterThan(0)
    for (const action of dry.json.fix.actions) expect(action.status).toBe('planned')
    expect(snapshot(s.root)).toEqual(before)
  })
})


it('--dry-run with the write probe on still writes nothing at all, not even the probe cache', () => {
  const s = sandbox({layout: 'old'})
  const before = snapshot(s.root)
  const dry = cliJson(['--fix', '--dry-run', '--codex-bin', CODEX.v089], s.env)
  expect(dry.json.checks['write-probe'].status).toBe('pass')
  expect(snapshot(s.root)).toEqual(before)
})

describe('--fix never exposes what the old .gitignore hid', () => {
  it.each([[['gitignore']], [['--skip', 'codex-home', '--skip', 'stray-state']]])('%j on the old layout: the live state stays ignored', (args) => {
    const s = sandbox({layout: 'old'})
    const fix = cli(['--fix', ...args, ...BASE], s.env)
    expect(fix.stderr).toBe('')
    const text = readFileSync(path.join(s.dotfiles, '.gitignore'), 'utf8')
    expect(text).not.toMatch(/^config\/codex\/\*$/m)
    // nothing under the codex folder shows up for `git add -A`, while Codex still writes there
    expect(gitIn(s.dotfiles, 'status', '--porcelain', '--untracked-files=all').split('\n').filter((l) => l.startsWith('??'))).toEqual([])
  })
})

describe('what Codex reads stays visible', () => {
  it('the migration links AGENTS.md, rules and each skill too; Codex\'s own skills/.system moves out with the rest of its state', () => {
    const s = sandbox({layout: 'old'})
    s.write(path.join(s.codexDir, 'AGENTS.md'), '# global instructions\n')
    s.write(path.join(s.codexDir, 'rules', 'default.rules'), 'prefix_rule(pattern=["ls"], decision="allow")\n')
    s.write(path.join(s.codexDir, 'skills', 'greeter', 'SKILL.md'), '---\nname: greeter\ndescription: Greets\n---\n')
    s.write(path.join(s.codexDir, 'skills', '.system', 'plan', 'SKILL.md'), '---\nname: plan\ndescription: written by Codex\n---\n')
    const fix = cli(['--fix', ...BASE], s.env)
    expect(fix.stderr).toBe('')
    expect(fix.stdout).not.toMatch(/^\s+✗ /m)
    for (const entry of ['AGENTS.md', 'rules', 'skills/greeter']) expect(readlinkSync(path.join(s.codexHome, entry))).toBe(path.join(s.codexDir, entry))
    // skills/ stays a real folder: Codex writes its own skills there
    expect(lstatSync(path.join(s.codexHome, 'skills')).isDirectory()).toBe(true)
    expect(readFileSync(path.join(s.codexHome, 'skills', '.system', 'plan', 'SKILL.md'), 'utf8')).toContain('written by Codex')
    expect(existsSync(path.join(s.codexDir, 'skills', '.system'))).toBe(false)

    // and again, nothing to do; stray-state does not try to move .system onto itself
    const again = cliJson(['--fix', ...BASE], s.env)
    expect(again.json.fix.actions).toEqual([])
    expect(again.json.checks['stray-state'].status).toBe('pass')
  })
})
