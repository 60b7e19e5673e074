/**
 * SPEC rule 3 through the real command line: `codex-doctor --fix` itself (bin/run.js, real
 * checks, real planning, no test hook) is SIGKILLed at points spread over a migration that
 * merges hundreds of session files (in batches: inside a batch as well as between steps). After each kill nothing is lost; the next `--fix` finishes
 * the job and ends where an uninterrupted run ends; `undo` then restores the machine as it was.
 * (test/actions/kill.test.ts kills at every kind of step, deterministically, through a hook.)
 */
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {expect, it} from 'vitest'

import {contentMultiset, world} from '../actions/helpers.js'
import {CODEX, REPO_ROOT} from '../codex-bins.js'
import {gitIn, snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const ARGS = ['--no-probe', '--codex-bin', CODEX.v089]
const SESSIONS = 400

const sandbox = sandboxesPerTest()

/**
 * Hundreds of sessions left in the repository, while CODEX_HOME already has a file in every one
 * of their day folders: stray-state's move merges them one file at a time.
 */
function machine(): Sandbox {
  const s = sandbox()
  for (let day = 1; day <= 28; day++) {
    const d = String(day).padStart(2, '0')
    s.write(path.join(s.codexHome, 'sessions', '2026', '03', d, `home-${d}.jsonl`), `{"home":${day}}\n`)
  }
  for (let i = 0; i < SESSIONS; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0')
    s.write(path.join(s.codexDir, 'sessions', '2026', '03', day, `rollout-${i}.jsonl`), `{"session":${i}}\n`.repeat(1 + (i % 5)))
  }
  s.write(path.join(s.codexDir, 'history.jsonl'), '{"repo history":1}\n', 0o600)
  return s
}

/** Without times (a move keeps them, a resumed copy may not to the nanosecond) and with the sandbox root named alike. */
function userWorld(s: Sandbox) {
  const files = Object.entries(world(s, snapshot)).map(([p, v]) => [p, (v.startsWith('file ') ? v.split(' ').filter((_, i) => i !== 2).join(' ') : v).replaceAll(s.root, '<root>')])
  return {...Object.fromEntries(files), index: gitIn(s.dotfiles, 'ls-files', '-s')}
}

/** The paths whose entries differ, each with both sides: a failure that says where. */
function differences(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k}: ${a[k]?.slice(0, 80)} ≠ ${b[k]?.slice(0, 80)}`)
}

const ours = (p: string) => ['journal.jsonl', 'lock', '.git'].includes(path.basename(p))

/** How many journal lines the fix runs have written so far. */
function journalLines(s: Sandbox): number {
  const runs = path.join(s.env.XDG_STATE_HOME!, 'codex-doctor', 'runs')
  if (!existsSync(runs)) return 0
  let lines = 0
  for (const run of readdirSync(runs)) {
    try {
      lines += readFileSync(path.join(runs, run, 'journal.jsonl'), 'utf8').split('\n').length - 1
    } catch {
      // the run folder exists, its journal not yet
    }
  }
  return lines
}

/** How many of the repository's session files are in CODEX_HOME already (a batch moves hundreds in one journal step). */
function sessionsMoved(s: Sandbox): number {
  const days = path.join(s.codexHome, 'sessions', '2026', '03')
  if (!existsSync(days)) return 0
  let moved = 0
  for (const day of readdirSync(days)) {
    try {
      moved += readdirSync(path.join(days, day)).filter((name) => name.startsWith('rollout-')).length
    } catch {
      // a day folder being made or moved right now
    }
  }
  return moved
}

/** How far the fix has got, whatever the machine's speed: journal lines written plus session files moved. */
const progress = (s: Sandbox) => journalLines(s) + sessionsMoved(s)

/** Starts `codex-doctor --fix` and SIGKILLs it once its progress reaches `point` (null: let it finish). */
function fixKilledAt(s: Sandbox, point: number | null): Promise<{signal: NodeJS.Signals | null; status: number | null}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'run.js'), '--fix', ...ARGS], {env: s.env, cwd: s.home, stdio: 'ignore'})
    const watch = point === null ? undefined : setInterval(() => progress(s) >= point && child.kill('SIGKILL'), 1)
    child.on('exit', (status, signal) => {
      clearInterval(watch)
      resolve({signal, status})
    })
  })
}

it('a real --fix killed at many points: nothing lost, the next --fix finishes, undo restores', {timeout: 600_000}, async () => {
  // the uninterrupted run: how long it takes, and where it ends
  const clean = machine()
  const cleanBefore = userWorld(clean)
  const full = await fixKilledAt(clean, null)
  expect(full.status).toBe(0)
  const finished = userWorld(clean)
  expect(finished).not.toEqual(cleanBefore)
  const total = progress(clean)
  expect(total).toBeGreaterThan(SESSIONS)

  // kill points spread over the whole run: after the first step, in the merge, near the end
  const points = Array.from({length: 12}, (_, i) => Math.max(1, Math.round((total * i) / 12)))
  let killedMidRun = 0
  for (const point of points) {
    const s = machine()
    const before = userWorld(s)
    const originals = contentMultiset(s.home, ours)

    const killed = await fixKilledAt(s, point)
    if (killed.signal === 'SIGKILL') killedMidRun++
    // every original byte is somewhere: in place, at its destination, or in the run's backup
    const now = contentMultiset(s.root, ours)
    for (const h of new Set(originals)) expect(now.filter((x) => x === h).length, `after a kill at progress ${point}`).toBeGreaterThanOrEqual(originals.filter((x) => x === h).length)

    const again = cli(['--fix', ...ARGS], s.env)
    expect(again.status, `--fix after a kill at progress ${point}: ${again.stdout}${again.stderr}`).toBe(0)
    // the same end as an uninterrupted run: every check plans from the disk the fixes before it left
    expect(differences(userWorld(s), finished), `after a kill at progress ${point} and a second --fix`).toEqual([])
    const healthy = cliJson(ARGS, s.env)
    for (const id of ['codex-home', 'links', 'stray-state', 'secrets', 'gitignore']) expect(healthy.json.checks[id].status, healthy.json.checks[id].summary).toBe('pass')

    // undo takes back the finishing run together with the interrupted one it completed
    const undo = cli(['undo'], s.env)
    expect(undo.status, undo.stdout + undo.stderr).toBe(0)
    expect(differences(userWorld(s), before), `undo after a kill at progress ${point}`).toEqual([])
  }
  // the kills land inside the run, not after it (the last point may race the run's own end)
  expect(killedMidRun).toBeGreaterThanOrEqual(points.length - 2)
})
