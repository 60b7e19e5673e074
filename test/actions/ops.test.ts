/**
 * Each operation, RuleTester style: before → apply → the expected disk → apply again does
 * nothing and records no run → undo → exactly the before state (type, mode, link target,
 * content and file mtimes, as `snapshot()` compares them).
 */
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {listRuns} from '../../src/actions/runs.js'
import type {Action} from '../../src/actions/types.js'
import {AUTH, clobberConfig, CONFIG_TOML, gitIn, snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {apply, stateDirOf, undo, world} from './helpers.js'

const makeSandbox = sandboxesPerTest()
const sandbox = (layout: 'new' | 'old' | 'unlinked' = 'new') => makeSandbox({layout})
const mode = (p: string) => (lstatSync(p).mode & 0o777).toString(8)

/** before → apply → after → apply again is a no-op → undo → before. */
async function roundTrip(s: Sandbox, actions: Action[], after: (reports: Awaited<ReturnType<typeof apply>>) => void | Promise<void>) {
  const before = world(s, snapshot)
  const index = gitIn(s.dotfiles, 'ls-files', '-s')
  const first = await apply(s, actions)
  expect(first.runId).not.toBeNull()
  for (const r of first.reports) expect(r.status, `${r.op} ${r.path}: ${r.error ?? ''}`).toBe('applied')
  await after(first)

  const again = await apply(s, actions)
  expect(again.runId).toBeNull()
  for (const r of again.reports) expect(r.status).toBe('skipped')
  expect(await listRuns(stateDirOf(s))).toHaveLength(1)

  const undone = await undo(s)
  expect(undone.changed).toEqual([])
  expect(undone.status).toBe('undone')
  expect(world(s, snapshot)).toEqual(before)
  expect(gitIn(s.dotfiles, 'ls-files', '-s')).toBe(index)
  return first
}

describe('link', () => {
  it('replaces a clobbered config.toml; the user copy goes to the backup, mode and time kept', async () => {
    const s = sandbox()
    const at = path.join(s.codexHome, 'config.toml')
    const target = path.join(s.codexDir, 'config.toml')
    clobberConfig(s)
    const mtime = statSync(at).mtimeMs
    await roundTrip(s, [{check: 'links', op: 'link', path: at, to: target}], ({reports}) => {
      expect(readlinkSync(at)).toBe(target)
      const backup = reports[0]!.backup!
      expect(backup).toContain(path.join('backup', at))
      expect(readFileSync(backup, 'utf8')).toContain('model_reasoning_effort')
      expect(mode(backup)).toBe('600')
      expect(statSync(backup).mtimeMs).toBe(mtime)
    })
  })

  it('creates missing parent folders, and undo removes them', async () => {
    const s = sandbox()
    const at = path.join(s.codexHome, 'deep', 'er', 'prompts')
    await roundTrip(s, [{check: 'links', op: 'link', path: at, to: path.join(s.codexDir, 'prompts')}], () => {
      expect(readlinkSync(at)).toBe(path.join(s.codexDir, 'prompts'))
    })
    expect(existsSync(path.join(s.codexHome, 'deep'))).toBe(false)
  })

  it('moves a folder in the way to the backup whole, and a wrong link as a link', async () => {
    const s = sandbox()
    const prompts = path.join(s.codexHome, 'prompts')
    const config = path.join(s.codexHome, 'config.toml')
    const elsewhere = s.p('elsewhere.toml')
    s.write(elsewhere, 'x = 1\n')
    // prompts: a real folder; config.toml: a link to somewhere else
    rmSync(prompts)
    s.write(path.join(prompts, 'mine.md'), 'mine\n')
    rmSync(config)
    symlinkSync(elsewhere, config)
    await roundTrip(
      s,
      [
        {check: 'links', op: 'link', path: prompts, to: path.join(s.codexDir, 'prompts')},
        {check: 'links', op: 'link', path: config, to: path.join(s.codexDir, 'config.toml')},
      ],
      ({reports}) => {
        expect(readFileSync(path.join(reports[0]!.backup!, 'mine.md'), 'utf8')).toBe('mine\n')
        expect(readlinkSync(reports[1]!.backup!)).toBe(elsewhere)
        expect(readFileSync(elsewhere, 'utf8')).toBe('x = 1\n')
      },
    )
  })

  it('the same path backed up twice in one run: the second copy gets its own name', async () => {
    const s = sandbox()
    clobberConfig(s)
    const at = path.join(s.codexHome, 'config.toml')
    const before = world(s, snapshot)
    const {reports} = await apply(s, [
      {check: 'a', op: 'link', path: at, to: s.p('first-target')},
      {check: 'b', op: 'link', path: at, to: path.join(s.codexDir, 'config.toml')},
    ])
    expect(reports[1]!.backup).toBe(`${reports[0]!.backup}.~1~`)
    expect(readlinkSync(reports[1]!.backup!)).toBe(s.p('first-target'))
    expect(readFileSync(reports[0]!.backup!, 'utf8')).toContain('model_reasoning_effort')
    await undo(s)
    expect(world(s, snapshot)).toEqual(before)
  })

  it('a link already right is skipped and records no run', async () => {
    const s = sandbox()
    const {runId, reports} = await apply(s, [{check: 'links', op: 'link', path: path.join(s.codexHome, 'prompts'), to: path.join(s.codexDir, 'prompts')}])
    expect(runId).toBeNull()
    expect(reports[0]).toMatchObject({status: 'skipped', reason: expect.stringContaining('already a link')})
    expect(existsSync(stateDirOf(s))).toBe(false)
  })
})

describe('move', () => {
  it('a file to a free place: one rename, the secret keeps 0600 and its time', async () => {
    const s = sandbox('old')
    const from = path.join(s.codexDir, 'auth.json')
    const to = s.p('new-home', 'auth.json')
    const mtime = statSync(from).mtimeMs
    await roundTrip(s, [{check: 'stray-state', op: 'move', path: from, to}], () => {
      expect(readFileSync(to, 'utf8')).toBe(AUTH)
      expect(mode(to)).toBe('600')
      expect(statSync(to).mtimeMs).toBe(mtime)
      expect(existsSync(from)).toBe(false)
    })
  })

  it('a folder to a free place in one rename', async () => {
    const s = sandbox('old')
    const from = path.join(s.codexDir, 'sessions')
    const to = path.join(s.home, 'codex-real', 'sessions')
    await roundTrip(s, [{check: 'stray-state', op: 'move', path: from, to}], () => {
      expect(readFileSync(path.join(to, '2026', '01', '02', 'rollout-1.jsonl'), 'utf8')).toBe('{"id":1}\n')
    })
  })

  it('nothing at the source: skipped', async () => {
    const s = sandbox()
    const {runId, reports} = await apply(s, [{check: 'stray-state', op: 'move', path: s.p('nope'), to: s.p('there')}])
    expect(runId).toBeNull()
    expect(reports[0]).toMatchObject({status: 'skipped', reason: expect.stringContaining('nothing at')})
  })

  it('refuses to move a folder into itself', async () => {
    const s = sandbox()
    const {reports} = await apply(s, [{check: 'x', op: 'move', path: s.codexDir, to: path.join(s.codexDir, 'inner')}])
    expect(reports[0]!.status).toBe('failed')
  })
})

describe('mkdir', () => {
  it('a real folder in place of the old directory link; the link (not its target) goes to the backup', async () => {
    const s = sandbox('old')
    await roundTrip(s, [{check: 'codex-home', op: 'mkdir', path: s.codexHome}], ({reports}) => {
      expect(lstatSync(s.codexHome).isDirectory()).toBe(true)
      expect(readlinkSync(reports[0]!.backup!)).toBe(s.codexDir)
      expect(existsSync(path.join(s.codexDir, 'auth.json'))).toBe(true)
    })
  })

  it('with parents and a mode', async () => {
    const s = sandbox()
    const p = s.p('a', 'b', 'c')
    await roundTrip(s, [{check: 'x', op: 'mkdir', path: p, mode: 0o700}], ({reports}) => {
      expect(mode(p)).toBe('700')
      expect(reports[0]!.mode).toBe('700')
    })
  })
})

describe('chmod', () => {
  it('600 on a secret, undone to what it was', async () => {
    const s = sandbox()
    const auth = path.join(s.codexHome, 'auth.json')
    s.write(auth, AUTH, 0o644)
    await roundTrip(s, [{check: 'secrets', op: 'chmod', path: auth, mode: 0o600}], () => {
      expect(mode(auth)).toBe('600')
    })
    expect(mode(auth)).toBe('644')
  })

  it('never through a link', async () => {
    const s = sandbox()
    const {reports} = await apply(s, [{check: 'secrets', op: 'chmod', path: path.join(s.codexHome, 'config.toml'), mode: 0o600}])
    expect(reports[0]).toMatchObject({status: 'failed', error: expect.stringContaining('is a link')})
    expect(mode(path.join(s.codexDir, 'config.toml'))).toBe('644')
  })
})

describe('edit', () => {
  it('replaces .gitignore; the old one (same inode, mode, time) waits in the backup', async () => {
    const s = sandbox()
    const file = path.join(s.dotfiles, '.gitignore')
    chmodSync(file, 0o640)
    const old = readFileSync(file, 'utf8')
    const mtime = statSync(file).mtimeMs
    await roundTrip(s, [{check: 'gitignore', op: 'edit', path: file, content: 'config/codex/config.toml\n.DS_Store\n'}], ({reports, runDir}) => {
      expect(readFileSync(file, 'utf8')).toBe('config/codex/config.toml\n.DS_Store\n')
      expect(mode(file)).toBe('640')
      expect(readFileSync(reports[0]!.backup!, 'utf8')).toBe(old)
      expect(statSync(reports[0]!.backup!).mtimeMs).toBe(mtime)
      // the journal holds the hash of the new text, never the text
      expect(readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')).not.toContain('DS_Store')
    })
  })

  it('creates a missing file (and undo removes it)', async () => {
    const s = sandbox()
    const file = s.p('home', 'new', '.gitignore')
    await roundTrip(s, [{check: 'gitignore', op: 'edit', path: file, content: 'x\n'}], () => {
      expect(readFileSync(file, 'utf8')).toBe('x\n')
      expect(mode(file)).toBe('644')
    })
  })

  it('never through a link', async () => {
    const s = sandbox()
    const {reports} = await apply(s, [{check: 'x', op: 'edit', path: path.join(s.codexHome, 'config.toml'), content: 'x = 1\n'}])
    expect(reports[0]!.status).toBe('failed')
    expect(readFileSync(path.join(s.codexDir, 'config.toml'), 'utf8')).toBe(CONFIG_TOML)
  })
})

describe('untrack', () => {
  it('git rm --cached a secret; the file stays; undo puts the same index entry back', async () => {
    const s = sandbox()
    const secret = s.write(path.join(s.codexDir, '.credentials.json'), '{"token":"SECRET"}\n', 0o600)
    s.git('add', '-f', 'config/codex/.credentials.json')
    s.commit('oops')
    await roundTrip(s, [{check: 'secrets', op: 'untrack', path: secret, repo: s.dotfiles}], ({runDir}) => {
      expect(gitIn(s.dotfiles, 'ls-files', 'config/codex/.credentials.json')).toBe('')
      expect(readFileSync(secret, 'utf8')).toContain('SECRET')
      expect(readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')).not.toContain('SECRET')
    })
    expect(gitIn(s.dotfiles, 'ls-files', 'config/codex/.credentials.json').trim()).toBe('config/codex/.credentials.json')
    expect(gitIn(s.dotfiles, 'status', '--porcelain')).toBe('')
  })

  it('a tracked folder, every entry', async () => {
    const s = sandbox()
    await roundTrip(s, [{check: 'x', op: 'untrack', path: path.join(s.codexDir, 'prompts'), repo: s.dotfiles}], () => {
      expect(gitIn(s.dotfiles, 'ls-files', 'config/codex/prompts')).toBe('')
    })
  })
})

describe('a plan', () => {
  it('an action that fails skips those on the same path and goes on with the others', async () => {
    const s = sandbox()
    const blocked = s.p('home', 'blocked')
    writeFileSync(s.p('home', 'file'), 'x')
    mkdirSync(blocked)
    const {reports} = await apply(s, [
      {check: 'a', op: 'chmod', path: s.p('home', 'missing'), mode: 0o600},
      {check: 'a', op: 'edit', path: path.join(s.p('home', 'missing'), 'inside'), content: 'x'},
      {check: 'b', op: 'chmod', path: s.p('home', 'file'), mode: 0o600},
    ])
    expect(reports.map((r) => r.status)).toEqual(['failed', 'skipped', 'applied'])
    expect(reports[1]!.error).toContain('earlier action')
  })
})
