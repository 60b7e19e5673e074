/**
 * undo: reverses a run newest first to exactly the state before it; refuses, changing nothing
 * at all, when a path is not as the run left it; says so when there is nothing to undo.
 */
import {appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {listRuns} from '../../src/actions/runs.js'
import {UsageError} from '../../src/errors.js'
import {gitIn, snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {apply, migrationPlan, stateDirOf, undo, world} from './helpers.js'

const sandbox = sandboxesPerTest()
const oldLayout = () => {
  const s = sandbox({layout: 'old'})
  return s
}

interface Tamper {
  name: string
  /** Changes one path after the run; returns the path undo must name. */
  change(s: Sandbox, backup: string): string
  /** Puts it back as the run left it. */
  restore(s: Sandbox, backup: string): void
}

const TAMPERS: Tamper[] = [
  {
    name: 'a moved file whose content changed (Codex appended to history)',
    change(s) {
      const p = path.join(s.codexHome, 'history.jsonl')
      // the untouched original waits aside (a rename keeps its time) while Codex appends to a copy
      copyFileSync(p, `${p}.changed`)
      appendFileSync(`${p}.changed`, '{"ts":2}\n')
      renameSync(p, s.p('history.orig'))
      renameSync(`${p}.changed`, p)
      return p
    },
    restore(s) {
      renameSync(s.p('history.orig'), path.join(s.codexHome, 'history.jsonl'))
    },
  },
  {
    name: 'a new file in the folder the run created',
    change(s) {
      return s.write(path.join(s.codexHome, 'models_cache.json'), '{}\n')
    },
    restore(s) {
      unlinkSync(path.join(s.codexHome, 'models_cache.json'))
    },
  },
  {
    name: 'a new file inside a folder the run moved whole',
    change(s) {
      return s.write(path.join(s.codexHome, 'sessions', '2026', '01', '02', 'rollout-9.jsonl'), '{}\n')
    },
    restore(s) {
      unlinkSync(path.join(s.codexHome, 'sessions', '2026', '01', '02', 'rollout-9.jsonl'))
    },
  },
  {
    name: 'a link the run made, pointed elsewhere',
    change(s) {
      const p = path.join(s.codexHome, 'prompts')
      unlinkSync(p)
      symlinkSync('/nowhere', p)
      return p
    },
    restore(s) {
      const p = path.join(s.codexHome, 'prompts')
      unlinkSync(p)
      symlinkSync(path.join(s.codexDir, 'prompts'), p)
    },
  },
  {
    name: "a secret's mode",
    change(s) {
      const p = path.join(s.codexHome, 'auth.json')
      chmodSync(p, 0o644)
      return p
    },
    restore(s) {
      chmodSync(path.join(s.codexHome, 'auth.json'), 0o600)
    },
  },
  {
    name: 'the backup of the directory link, removed',
    change(_s, backup) {
      unlinkSync(backup)
      return backup
    },
    restore(s, backup) {
      symlinkSync(s.codexDir, backup)
    },
  },
  {
    name: 'something new where a moved item used to be',
    change(s) {
      mkdirSync(path.join(s.codexDir, 'log'))
      return path.join(s.codexDir, 'log')
    },
    restore(s) {
      rmSync(path.join(s.codexDir, 'log'), {recursive: true})
    },
  },
]

describe('undo refuses, changing nothing, when a path changed since the run', () => {
  it.each(TAMPERS)('$name', async (t) => {
    const s = oldLayout()
    const before = world(s, snapshot)
    const {reports, runId} = await apply(s, migrationPlan(s))
    expect(reports.every((r) => r.status === 'applied')).toBe(true)
    const changed = t.change(s, reports[0]!.backup!)

    const everything = snapshot(s.root)
    const refused = await undo(s)
    expect(refused.status).toBe('refused')
    expect(refused.changed.map((c) => c.path)).toEqual([changed])
    expect(refused.changed[0]!.change).toMatch(/\S/)
    expect(snapshot(s.root)).toEqual(everything)

    t.restore(s, reports[0]!.backup!)
    const undone = await undo(s)
    expect(undone).toMatchObject({status: 'undone', runId, changed: []})
    expect(world(s, snapshot)).toEqual(before)
  })

  it('a path untracked by the run, tracked again', async () => {
    const s = oldLayout()
    const secret = s.write(path.join(s.codexDir, 'config.example.toml.bak'), 'x\n')
    s.git('add', '-f', 'config/codex/config.example.toml.bak')
    s.commit('add')
    const {reports} = await apply(s, [{check: 'secrets', op: 'untrack', path: secret, repo: s.dotfiles}])
    expect(reports[0]!.status).toBe('applied')
    s.git('add', '-f', 'config/codex/config.example.toml.bak')
    const refused = await undo(s)
    expect(refused).toMatchObject({status: 'refused', changed: [{path: secret, change: expect.stringContaining('tracked')}]})
  })
})

describe('which run', () => {
  it('nothing recorded: says so and creates nothing', async () => {
    const s = oldLayout()
    await expect(undo(s)).resolves.toMatchObject({status: 'nothing', runId: null})
    expect(existsSync(s.env.XDG_STATE_HOME!)).toBe(false)
  })

  it('newest first, one run per undo; a run named twice says it was undone already', async () => {
    const s = oldLayout()
    const before = world(s, snapshot)
    const index = gitIn(s.dotfiles, 'ls-files', '-s')
    const first = await apply(s, migrationPlan(s))
    const middle = world(s, snapshot)
    const second = await apply(s, [{check: 'gitignore', op: 'edit', path: path.join(s.dotfiles, '.gitignore'), content: 'config/codex/config.toml\n'}])
    expect(first.runId! < second.runId!).toBe(true)

    await expect(undo(s)).resolves.toMatchObject({status: 'undone', runId: second.runId, runs: [second.runId]})
    expect(world(s, snapshot)).toEqual(middle)
    await expect(undo(s, second.runId!)).resolves.toMatchObject({status: 'already-undone', runId: second.runId})
    const undone = await undo(s)
    expect(undone).toMatchObject({status: 'undone', runId: first.runId})
    expect(undone.actions.map((a) => a.op)).toEqual(['link', 'link', 'move', 'move', 'move', 'move', 'move', 'mkdir'])
    expect(world(s, snapshot)).toEqual(before)
    expect(gitIn(s.dotfiles, 'ls-files', '-s')).toBe(index)
    await expect(undo(s)).resolves.toMatchObject({status: 'nothing'})
    expect((await listRuns(stateDirOf(s))).every((r) => r.undone)).toBe(true)
  })

  it('a step this version does not know (another version wrote the journal) is never guessed at: nothing changes', async () => {
    const s = oldLayout()
    const {runDir} = await apply(s, migrationPlan(s))
    appendFileSync(
      path.join(runDir, 'journal.jsonl'),
      JSON.stringify({t: 'begin', n: 90, a: 0, step: {op: 'teleport', from: s.p('a'), to: s.p('b')}}) + '\n' + JSON.stringify({t: 'done', n: 90}) + '\n',
    )
    const again = snapshot(s.root)
    await expect(undo(s)).rejects.toThrow(/"teleport" step: it was recorded by another version/)
    expect(snapshot(s.root)).toEqual(again)
  })

  it('an unknown run id is a usage error', async () => {
    const s = oldLayout()
    await apply(s, migrationPlan(s))
    await expect(undo(s, '20200101T000000Z-abcd')).rejects.toBeInstanceOf(UsageError)
  })
})
