/**
 * SPEC rule 3, by force: a fixer applying a large plan (hundreds of session files merged into an
 * existing folder with conflicts, a secret untracked and moved, a clobbered file replaced by a
 * link, a chmod, an edit) is SIGKILLed at many points between two disk effects, taking and
 * releasing the lock included (the first and last points). After each kill:
 * every original file's content is still there (in place, at its destination or in the backup)
 * and none is duplicated; the next --fix finishes the job exactly as an uninterrupted run does;
 * undo (of the finished chain, or straight after the kill) restores the state before, exactly.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'

import type {Action} from '../../src/actions/types.js'
import {REPO_ROOT} from '../codex-bins.js'
import {clobberConfig, gitIn, snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {parseJournal, type RunRecord, summarize} from '../../src/actions/journal.js'
import {parseHolder, pidAlive} from '../../src/actions/lock.js'
import {isUnfinished} from '../../src/actions/runs.js'
import {seededRandom} from '../seeded.js'
import {contentMultiset, expectBuiltFromSources, snapshotMicros, stateDirOf, world} from './helpers.js'

const CHILD = path.join(REPO_ROOT, 'test', 'actions', 'kill-child.mjs')

const sandbox = sandboxesPerTest()

// the child runs dist/: it must be built from these sources
beforeAll(expectBuiltFromSources)

/** CODEX_HOME with its state, and the repository holding hundreds of stray session files that overlap it. */
function machine(sessionFiles: number) {
  const s = sandbox()
  for (let i = 0; i < sessionFiles; i++) {
    const day = String(1 + (i % 30)).padStart(2, '0')
    s.write(path.join(s.codexDir, 'sessions', '2026', '01', day, `rollout-${i}.jsonl`), `{"repo":${i}}\n`.repeat(1 + (i % 7)), i % 5 === 0 ? 0o600 : 0o644)
  }
  // CODEX_HOME already holds some of the same days, some of the same names (conflicts), and its own files
  for (let i = 0; i < sessionFiles; i += 10) {
    const day = String(1 + (i % 30)).padStart(2, '0')
    s.write(path.join(s.codexHome, 'sessions', '2026', '01', day, `rollout-${i}.jsonl`), `{"home":${i}}\n`)
    s.write(path.join(s.codexHome, 'sessions', '2026', '01', day, `home-only-${i}.jsonl`), `{"home-only":${i}}\n`)
  }
  s.write(path.join(s.codexDir, 'history.jsonl'), '{"repo history":1}\n', 0o600)
  s.write(path.join(s.codexDir, 'log', 'codex-tui.log'), 'repo log\n')
  s.write(path.join(s.codexDir, 'log', 'older.log'), 'older repo log\n')
  s.link(path.join(s.codexDir, 'sessions', 'latest'), '2026/01/02/rollout-1.jsonl')
  const credentials = s.write(path.join(s.codexDir, '.credentials.json'), '{"token":"never-print-me"}\n', 0o600)
  s.git('add', '-f', 'config/codex/.credentials.json')
  s.commit('a secret, tracked by mistake')
  clobberConfig(s)
  s.write(path.join(s.codexHome, 'auth.json'), '{"auth":1}\n', 0o644)
  const plan: Action[] = [
    {check: 'codex-home', op: 'move', path: path.join(s.codexDir, 'sessions'), to: path.join(s.codexHome, 'sessions')},
    {check: 'codex-home', op: 'move', path: path.join(s.codexDir, 'history.jsonl'), to: path.join(s.codexHome, 'history.jsonl')},
    {check: 'codex-home', op: 'move', path: path.join(s.codexDir, 'log'), to: path.join(s.codexHome, 'log')},
    {check: 'codex-home', op: 'untrack', path: credentials, repo: s.dotfiles},
    {check: 'codex-home', op: 'move', path: credentials, to: path.join(s.codexHome, '.credentials.json')},
    {check: 'codex-home', op: 'link', path: path.join(s.codexHome, 'config.toml'), to: path.join(s.codexDir, 'config.toml')},
    {check: 'codex-home', op: 'chmod', path: path.join(s.codexHome, 'auth.json'), mode: 0o600},
    {check: 'codex-home', op: 'edit', path: path.join(s.dotfiles, '.gitignore'), content: 'config/codex/config.toml\nconfig/codex/.credentials.json\n'},
  ]
  return {s, plan}
}

/** The runs recorded so far, read from their journals. */
function runsOf(s: Sandbox): RunRecord[] {
  const dir = path.join(stateDirOf(s), 'runs')
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((id) => {
    const journal = path.join(dir, id, 'journal.jsonl')
    const run = existsSync(journal) ? summarize(id, path.join(dir, id), parseJournal(readFileSync(journal, 'utf8'))) : null
    return run ? [run] : []
  })
}

interface ChildResult {
  killed: boolean
  checkpoints: number
  report: {runId?: string | null; status?: string; changed?: unknown[]} | null
}

function child(s: Sandbox, job: {mode: 'fix' | 'undo'; plan: Action[]; killAt?: number; forceCopy?: boolean}): ChildResult {
  const result = spawnSync(process.execPath, [CHILD, JSON.stringify({...job, killAt: job.killAt ?? null, stateDir: stateDirOf(s), home: s.home})], {env: s.env, encoding: 'utf8', timeout: 120_000})
  if (result.signal === 'SIGKILL') return {killed: true, checkpoints: job.killAt ?? 0, report: null}
  if (result.status !== 0) throw new Error(`child ${job.mode} exited ${result.status}: ${result.stderr}`)
  const out = JSON.parse(result.stdout) as {checkpoints: number; report: ChildResult['report']}
  return {killed: false, ...out}
}

/** What the user sees, comparable between two machines: file times left out (undo's exact check has them), the sandbox root named. */
const userWorld = (s: Sandbox) => {
  const entries = Object.entries(world(s, snapshot)).map(([p, v]) => [p, (v.startsWith('file ') ? v.split(' ').filter((_, i) => i !== 2).join(' ') : v).replaceAll(s.root, '<root>')])
  return {...Object.fromEntries(entries), index: gitIn(s.dotfiles, 'ls-files', '-s')}
}

/** Our own journals and lock, and git's internals (the index is compared through `git ls-files -s`). */
const skipJournals = (p: string) => ['journal.jsonl', 'lock', '.git'].includes(path.basename(p))

/** Each original content counted: at least as often as before (a verified copy may briefly exist twice when copying), and exactly as often when renaming. */
function expectNothingLost(s: Sandbox, originals: string[], exact: boolean) {
  const now = new Map<string, number>()
  for (const h of contentMultiset(s.root, skipJournals)) now.set(h, (now.get(h) ?? 0) + 1)
  const before = new Map<string, number>()
  for (const h of originals) before.set(h, (before.get(h) ?? 0) + 1)
  for (const [h, n] of before) {
    if (exact) expect(now.get(h) ?? 0, `content ${h}`).toBe(n)
    else expect(now.get(h) ?? 0, `content ${h}`).toBeGreaterThanOrEqual(n)
  }
}

/** Kill points spread over the whole run, plus a few at random, and every point of its first and last steps (the edit, the chmod, the link, the untrack). */
function killPoints(total: number, spread: number, random: number, tail: number): number[] {
  const points = new Set<number>([1, 2, 3, 4])
  for (let p = total - tail + 1; p <= total; p++) points.add(p)
  for (let i = 1; i < spread; i++) points.add(Math.round((i * total) / spread))
  // "random" but the same on every run, so a failure can be replayed
  const rand = seededRandom(total * 7919)
  const next = () => rand() / 2147483648
  for (let i = 0; i < random; i++) points.add(1 + Math.floor(next() * total))
  return [...points].filter((p) => p >= 1 && p <= total).sort((a, b) => a - b)
}

describe.each([
  {name: 'renames (one file system)', forceCopy: false, files: 300, spread: 8, random: 2, tail: 20},
  {name: 'copies (across file systems, forced)', forceCopy: true, files: 150, spread: 8, random: 2, tail: 12},
])('SIGKILL at any point of a large --fix: $name, $files session files', ({forceCopy, files, spread, random, tail}) => {
  it('nothing lost after each kill; the next --fix finishes the job; undo restores the state before', {timeout: 600_000}, () => {
    // the uninterrupted run: how many points there are, and what "finished" looks like
    const clean = machine(files)
    const cleanBefore = userWorld(clean.s)
    const full = child(clean.s, {mode: 'fix', plan: clean.plan, forceCopy})
    expect(full.report!.runId).toBeTruthy()
    const finished = userWorld(clean.s)
    expect(finished).not.toEqual(cleanBefore)
    const points = killPoints(full.checkpoints, spread, random, tail)
    expect(points.length).toBeGreaterThan(spread / 2)

    // a copy keeps file times to the microsecond, a rename exactly
    const exactly = forceCopy ? snapshotMicros : snapshot
    points.forEach((killAt, i) => {
      const {s, plan} = machine(files)
      const before = userWorld(s)
      const exactBefore = world(s, exactly)
      const originals = contentMultiset(s.root, skipJournals)

      expect(child(s, {mode: 'fix', plan, killAt, forceCopy}).killed, `killed at ${killAt}`).toBe(true)
      expectNothingLost(s, originals, !forceCopy)
      // killed while taking the lock, nothing was recorded; killed while releasing it, the run was complete
      const recorded = runsOf(s)
      const interrupted = recorded.some(isUnfinished)

      if (i % 3 === 2) {
        // undo straight after the crash: the half-done run is reversed from its journal and the disk
        const undo = child(s, {mode: 'undo', plan})
        expect(undo.report, `undo after a kill at ${killAt}`).toMatchObject({status: recorded.length > 0 ? 'undone' : 'nothing', changed: []})
      } else {
        const resumed = child(s, {mode: 'fix', plan, forceCopy})
        if (interrupted) expect(resumed.report, `resume after a kill at ${killAt}`).toMatchObject({resumed: [expect.any(String)]})
        else expect(resumed.report, `after a kill at ${killAt}`).not.toHaveProperty('resumed')
        expect(userWorld(s), `finished after a kill at ${killAt}`).toEqual(finished)
        expectNothingLost(s, originals, !forceCopy)
        // now and then kill the undo too: the next undo carries on
        if (i % 3 === 1) expect(child(s, {mode: 'undo', plan, killAt: 1 + ((killAt * 7) % 40)}).killed).toBe(true)
        const undo = child(s, {mode: 'undo', plan})
        expect(undo.report, `undo after a kill at ${killAt}`).toMatchObject({status: 'undone', changed: []})
      }
      expect(userWorld(s)).toEqual(before)
      expect(world(s, exactly), `exactly as before, kill at ${killAt}`).toEqual(exactBefore)
      // the lock is free again and no temp file of it is left, once a fix or an undo took it after the kill
      // (an undo with nothing recorded takes no lock: what the killed one left names a dead process, for the next to take over)
      const leftovers = readdirSync(stateDirOf(s)).filter((name) => name.startsWith('lock'))
      if (recorded.length > 0 || i % 3 !== 2) expect(leftovers, `kill at ${killAt}`).toEqual([])
      else for (const name of leftovers) expect(pidAlive(parseHolder(readFileSync(path.join(stateDirOf(s), name), 'utf8'))!.pid), `${name} after a kill at ${killAt}`).toBe(false)
      s.cleanup()
    })
  })
})
