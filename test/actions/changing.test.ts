/**
 * SPEC rule 9's last sentence: a file that changes while it is being copied is never removed at
 * its source. Deterministic cases stop the copy at a chosen instant (the test hook) and write to
 * the source there; the last case races a real writer process against a move onto a real tmpfs.
 * Every time: every line is in exactly one file, the changed file is still at its source, the
 * action says so, and the next --fix moves it.
 */
import {execFileSync, spawn} from 'node:child_process'
import {appendFileSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {REPO_ROOT} from '../codex-bins.js'
import {type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {apply, snapshotMicros, undo, world} from './helpers.js'
import {mountTmpfs, whyNoTmpfs} from '../tmpfs.js'

const sandbox = sandboxesPerTest()

/** Every session line (`<file>#<n>`, written by these tests) in every file under `dirs` (once per inode), with how many times it is found. */
function lineCounts(...dirs: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  const seen = new Set<string>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name)
      const st = lstatSync(full)
      if (st.isDirectory()) {
        if (name !== '.git') walk(full)
        continue
      }
      if (!st.isFile() || name === 'journal.jsonl' || seen.has(`${st.dev}:${st.ino}`)) continue
      seen.add(`${st.dev}:${st.ino}`)
      for (const line of readFileSync(full, 'utf8').split('\n').filter((l) => l.includes('.jsonl#'))) counts.set(line, (counts.get(line) ?? 0) + 1)
    }
  }
  for (const d of dirs) if (existsSync(d)) walk(d)
  return counts
}

/** The repository's sessions: `n` files of a few numbered lines each. */
function sessions(s: Sandbox, n: number): {from: string; files: string[]} {
  const from = path.join(s.codexDir, 'sessions')
  const files: string[] = []
  for (let i = 0; i < n; i++) {
    const file = path.join(from, '2026', '01', String(1 + (i % 20)).padStart(2, '0'), `rollout-${i}.jsonl`)
    s.write(file, `${file}#start-a\n${file}#start-b\n`)
    files.push(file)
  }
  return {from, files}
}

/** After the hook fires `times` times with `label`, runs `then` (once). */
function at(label: string, times: number, then: () => void): (l: string) => void {
  let seen = 0
  return (l) => {
    if (l === label && ++seen === times) then()
  }
}

describe('a source that changes while it is copied (forced copy, deterministic)', () => {
  // six files, one a day folder: they are copied in this order, the victim last
  it.each([
    ['after it was planned, before its copy started', 'copied', 1],
    ['after it was copied, before it was placed', 'copied', 6],
    ['after its copy was placed, before the source was removed', 'placed', 6],
  ])('%s: it stays at its source, its copy goes, the next --fix moves it', async (_name, label, times) => {
    const s = sandbox({state: false})
    const {from, files} = sessions(s, 6)
    const to = path.join(s.codexHome, 'sessions')
    const victim = files[5]!
    const checkpoint = at(label, times, () => appendFileSync(victim, `${victim}#late\n`))
    const first = await apply(s, [{check: 'stray-state', op: 'move', path: from, to}], {forceCopy: true, checkpoint})

    expect(first.reports[0]).toMatchObject({status: 'failed', error: expect.stringContaining('changed while it was being copied')})
    expect(first.reports[0]!.error).toContain(victim)
    // the changed file is where it was, whole; no copy of it anywhere; every other file moved
    expect(readFileSync(victim, 'utf8')).toBe(`${victim}#start-a\n${victim}#start-b\n${victim}#late\n`)
    expect(existsSync(victim.replace(from, to))).toBe(false)
    for (const f of files.slice(0, 5)) expect([existsSync(f), existsSync(f.replace(from, to))]).toEqual([false, true])
    for (const [line, n] of lineCounts(s.root)) expect(n, line).toBe(1)

    // the next --fix: the destination folder exists now, the move merges the rest
    const second = await apply(s, [{check: 'stray-state', op: 'move', path: from, to}], {forceCopy: true})
    expect(second.reports[0]!.status).toBe('applied')
    expect(existsSync(from)).toBe(false)
    expect(readFileSync(victim.replace(from, to), 'utf8')).toContain('#late')
    for (const [line, n] of lineCounts(s.root)) expect(n, line).toBe(1)
  })

  it('a write that lands just after the source was removed (a writer had it open) is carried over to the copy', async () => {
    const s = sandbox({state: false})
    const from = s.write(path.join(s.codexDir, 'history.jsonl'), '{"n":1}\n', 0o600)
    const to = path.join(s.codexHome, 'history.jsonl')
    mkdirSync(s.codexHome, {recursive: true})
    const before = world(s, snapshotMicros)
    const writer = openSync(from, 'a')
    try {
      const checkpoint = at('removed', 1, () => writeSync(writer, '{"n":2}\n'))
      const {reports} = await apply(s, [{check: 'codex-home', op: 'move', path: from, to}], {forceCopy: true, checkpoint})
      expect(reports[0]!.status).toBe('applied')
    } finally {
      closeSync(writer)
    }
    expect(readFileSync(to, 'utf8')).toBe('{"n":1}\n{"n":2}\n')
    expect(lstatSync(to).mode & 0o777).toBe(0o600)
    expect(existsSync(from)).toBe(false)
    // what the journal says the copy holds is what it holds: undo takes it back, the late line with it
    const undone = await undo(s)
    expect(undone.changed).toEqual([])
    expect(readFileSync(from, 'utf8')).toBe('{"n":1}\n{"n":2}\n')
    expect(Object.keys(world(s, snapshotMicros))).toEqual(Object.keys(before))
  })

  it('a file whose time is restored after a change of the same size is still seen (its ctime moved)', async () => {
    const s = sandbox({state: false})
    const from = s.write(path.join(s.codexDir, 'version.json'), '{"v":"0.89.0"}\n')
    const to = path.join(s.codexHome, 'version.json')
    mkdirSync(s.codexHome, {recursive: true})
    const {mtime, atime} = statSync(from)
    const checkpoint = at('placed', 1, () => {
      writeFileSync(from, '{"v":"0.90.0"}\n')
      utimesSync(from, atime, mtime)
    })
    const {reports} = await apply(s, [{check: 'codex-home', op: 'move', path: from, to}], {forceCopy: true, checkpoint})
    expect(reports[0]).toMatchObject({status: 'failed', error: expect.stringContaining('changed while it was being copied')})
    expect([readFileSync(from, 'utf8'), existsSync(to)]).toEqual(['{"v":"0.90.0"}\n', false])
  })
})

const cannotMount = whyNoTmpfs()

/** Starts the writer; resolves once it has written a little, with a `stop()` that returns how many lines it wrote to each file. */
async function startWriter(s: Sandbox, files: string[]) {
  const stop = s.p('writer.stop')
  const started = s.p('writer.started')
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'test', 'actions', 'writer-child.mjs'), JSON.stringify({files, stop, started, pauseMs: 3})], {stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  while (!existsSync(started)) await new Promise((r) => setTimeout(r, 5))
  return {
    async stop(): Promise<Record<string, number>> {
      writeFileSync(stop, '')
      await exited
      return JSON.parse(out) as Record<string, number>
    },
  }
}

describe('a real writer racing a move onto another file system (tmpfs)', () => {
  it.skipIf(cannotMount !== null)(`every line it wrote is in exactly one file, after the move and after the next one${cannotMount ? ` (skipped: mount -t tmpfs failed: ${cannotMount})` : ''}`, {timeout: 120_000}, async () => {
    const s = sandbox({state: false})
    const {from, files} = sessions(s, 600)
    const mnt = s.p('mnt')
    expect(mountTmpfs(mnt)).toBeNull()
    try {
      expect(statSync(mnt).dev).not.toBe(statSync(from).dev)
      const to = path.join(mnt, 'codex-home', 'sessions')
      // one file in ten, all along the order the move takes them: some move untouched, some change on the way
      const targets = files.filter((_, i) => i % 10 === 3)
      const writer = await startWriter(s, targets)
      let written: Record<string, number>
      let first
      try {
        first = await apply(s, [{check: 'stray-state', op: 'move', path: from, to}])
      } finally {
        written = await writer.stop()
      }
      expect(['applied', 'failed']).toContain(first.reports[0]!.status)
      if (first.reports[0]!.status === 'failed') expect(first.reports[0]!.error).toMatch(/changed while it was being copied|not empty/)

      const expectEachLineOnce = (when: string) => {
        const counts = lineCounts(s.root)
        for (const file of targets) {
          for (let k = 0; k < written[file]!; k++) expect(counts.get(`${file}#${k}`) ?? 0, `${when}: line ${k} of ${file}`).toBe(1)
        }
        for (const [line, n] of counts) expect(n, `${when}: ${line}`).toBe(1)
      }
      expectEachLineOnce('after the move')

      // the next --fix moves what stayed (and what the writer made anew at the source)
      const second = await apply(s, [{check: 'stray-state', op: 'move', path: from, to}])
      expect(second.runId === null || second.reports[0]!.status === 'applied').toBe(true)
      expect(existsSync(from)).toBe(false)
      expectEachLineOnce('after the next move')
    } finally {
      execFileSync('umount', [mnt])
    }
  })
})
