/** The pure decisions of the actions layer: run ids, journal reading, expectations, lock staleness, dependencies, batches of moves. */
import {mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {replay} from '../../src/actions/expect.js'
import {describeChange, type Expect, type Fingerprint, msOf, utimesSeconds} from '../../src/actions/fingerprint.js'
import {JournalWriter, parseJournal, type JournalLine, summarize} from '../../src/actions/journal.js'
import {heldMessage, isStale, parseHolder} from '../../src/actions/lock.js'
import {backupPathOf, isRunId, newRunId} from '../../src/actions/runs.js'
import {endsOf, type ItemResult, matchesCopy, type MovesStep, reversedStep} from '../../src/actions/moves.js'
import {itemOf} from '../../src/actions/real-system.js'
import {parseIndex, stillMoved} from '../../src/actions/steps.js'
import {backupSummary, blockedBy, reportOf} from '../../src/actions/system.js'
import {chainOf, pickTarget, stepsToReverse} from '../../src/actions/undo.js'
import {UsageError} from '../../src/errors.js'
import {seededRandom} from '../seeded.js'

describe('run ids', () => {
  const at = new Date('2026-11-23T20:15:00.123Z')
  it('are the UTC time and 4 hex digits', () => {
    expect(newRunId(at, [], '1a2b')).toBe('20261123T201500Z-1a2b')
    expect(isRunId('20261123T201500Z-1a2b')).toBe(true)
    expect(isRunId('../etc')).toBe(false)
  })
  it('sort after every run of the same second', () => {
    expect(newRunId(at, ['20261123T201500Z-f000'], '0001')).toBe('20261123T201500Z-f001')
    expect(newRunId(at, ['20261123T201500Z-0001', '20261123T201459Z-ffff'], 'abcd')).toBe('20261123T201500Z-abcd')
  })
})

it('a backup mirrors the absolute path, so a user finds their file', () => {
  expect(backupPathOf('/s/runs/R', '/home/u/.codex/config.toml')).toBe('/s/runs/R/backup/home/u/.codex/config.toml')
})

describe('reading a journal', () => {
  const header: JournalLine = {t: 'run', v: 1, runId: 'R', started: '2026-11-23T20:15:00.000Z', pid: 1, host: 'h', version: '0.1.0'}
  const step = {op: 'mkdir' as const, path: '/a', mode: 0o755}
  const text = (lines: JournalLine[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n'

  it('drops a last line cut short by a crash, and refuses a damaged line in the middle', () => {
    const good = text([header, {t: 'begin', n: 0, a: 0, step}])
    expect(parseJournal(good + '{"t":"do')).toHaveLength(2)
    expect(() => parseJournal(text([header]) + '{"t":"do\n' + text([{t: 'done', n: 0}]))).toThrow(/line 2/)
  })

  it('a writer appending to a journal whose last line a kill cut short cuts that line off first', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journal-'))
    try {
      const file = path.join(dir, 'journal.jsonl')
      // a long batch line, cut inside its second page as a SIGKILL during write(2) leaves it
      const long = JSON.stringify({t: 'done', n: 0, items: Array.from({length: 400}, () => ({moved: false, why: 'x'.repeat(20)}))})
      writeFileSync(file, text([header, {t: 'begin', n: 0, a: 0, step}]) + long.slice(0, 5000))
      const writer = await JournalWriter.open(file)
      await writer.write({t: 'settled', n: 0, state: 'before', by: 'R2'}, {sync: true})
      await writer.close()
      expect(parseJournal(readFileSync(file, 'utf8')).map((l) => l.t)).toEqual(['run', 'begin', 'settled'])
      // an intact journal is left as it is
      const intact = readFileSync(file, 'utf8')
      await (await JournalWriter.open(file)).close()
      expect(readFileSync(file, 'utf8')).toBe(intact)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('tells done, begun (a crash) and settled steps apart, and what undo has reversed', () => {
    const run = summarize('R', '/d', [
      header,
      {t: 'action', a: 0, check: 'x', op: 'mkdir', path: '/a'},
      {t: 'begin', n: 0, a: 0, step},
      {t: 'done', n: 0},
      {t: 'begin', n: 1, a: 0, step: {...step, path: '/b'}},
      {t: 'begin', n: 2, a: 0, step: {...step, path: '/c'}},
      {t: 'settled', n: 2, state: 'before', by: 'S'},
      {t: 'begin', n: 3, a: 0, step: {...step, path: '/e'}},
      {t: 'settled', n: 3, state: 'after', by: 'S'},
      {t: 'undo-begin', n: 3},
      {t: 'undo-done', n: 3},
    ])!
    expect(run.steps.map((s) => [s.state, s.undo])).toEqual([['done', 'no'], ['begun', 'no'], ['not-done', 'no'], ['done', 'done']])
    expect(run.end).toBeUndefined()
    expect(stepsToReverse(run).map((s) => s.n)).toEqual([0])
  })

  it('a journal without its header is no run', () => {
    expect(summarize('R', '/d', [])).toBeNull()
  })
})

describe('what undo expects to find', () => {
  const file: Fingerprint = {kind: 'file', mode: 0o600, size: 3, mtimeMs: 1}
  it('replays moves, merges and removals into the state of each path', () => {
    const {paths} = replay([
      {step: {op: 'mkdir', path: '/h', mode: 0o755}},
      {step: {op: 'rename', from: '/r/s', to: '/h/s', item: {kind: 'dir', mode: 0o755}, tree: {a: file, d: {kind: 'dir', mode: 0o700}, 'd/b': file}}},
      {step: {op: 'rename', from: '/h/s/a', to: '/b/a', item: file, backup: true}},
      {step: {op: 'symlink', path: '/h/c', target: '/r/c'}},
      {step: {op: 'chmod', path: '/h/s/d/b', kind: 'file', from: 0o600, to: 0o644}},
      {step: {op: 'rmdir', path: '/r', mode: 0o755}},
    ])
    expect(Object.fromEntries(paths)).toEqual({
      '/h': {kind: 'dir', mode: 0o755, complete: true},
      '/r': {kind: 'missing'},
      '/h/s': {kind: 'dir', mode: 0o755, complete: true},
      '/h/s/a': {kind: 'missing'},
      '/h/s/d': {kind: 'dir', mode: 0o700, complete: true},
      '/h/s/d/b': {...file, mode: 0o644},
      '/b/a': file,
      '/h/c': {kind: 'link', target: '/r/c'},
    })
  })

  it.each<[string, Expect, Fingerprint, RegExp | null]>([
    ['same', {kind: 'file', size: 3, mode: 0o600}, file, null],
    ['gone', {kind: 'file'}, {kind: 'missing'}, /is gone/],
    ['in the way', {kind: 'missing'}, file, /is there now/],
    ['kind', {kind: 'dir'}, file, /is a file now/],
    ['target', {kind: 'link', target: '/a'}, {kind: 'link', target: '/b'}, /points to \/b/],
    ['mode', {kind: 'file', mode: 0o600}, {...file, mode: 0o644}, /mode is 644/],
    ['size', {kind: 'file', size: 4}, file, /size 4 → 3/],
    ['hash', {kind: 'file', sha256: 'a'}, {...file, sha256: 'b'}, /content changed/],
    ['time', {kind: 'file', mtimeMs: 2}, file, /time changed/],
  ])('describeChange: %s', (_name, expected, actual, message) => {
    const why = describeChange(expected, actual)
    if (message) expect(why).toMatch(message)
    else expect(why).toBeNull()
  })
})

describe('the lock', () => {
  const alive = (pid: number) => pid === 1
  it('is stale only when its holder is a dead pid on this host, or unreadable and old', () => {
    expect(isStale({pid: 2, started: '', host: 'h'}, 0, 'h', alive)).toBe(true)
    expect(isStale({pid: 1, started: '', host: 'h'}, 0, 'h', alive)).toBe(false)
    expect(isStale({pid: 2, started: '', host: 'other'}, 0, 'h', alive)).toBe(false)
    expect(isStale(null, 100, 'h', alive)).toBe(false)
    expect(isStale(null, 60_000, 'h', alive)).toBe(true)
  })
  it('names its holder', () => {
    expect(parseHolder('{"pid":42,"started":"t","host":"h","command":"fix"}')).toEqual({pid: 42, started: 't', host: 'h', command: 'fix'})
    expect(parseHolder('garbage')).toBeNull()
    expect(heldMessage({pid: 42, started: 't', host: 'h', command: 'fix'}, '/s/lock', 'h')).toMatch(/--fix is running \(pid 42, since t\)/)
    expect(heldMessage({pid: 42, started: 't', host: 'far', command: 'undo'}, '/s/lock', 'h')).toMatch(/undo is running \(pid 42 on far/)
  })
})

describe('a plan', () => {
  it('an action depends on a failed one when it touches the same path, one inside it, or one around it', () => {
    const failed = ['/h/.codex/sessions']
    expect(blockedBy({check: 'x', op: 'chmod', path: '/h/.codex/sessions/a', mode: 0o600}, failed)).toBe('/h/.codex/sessions')
    expect(blockedBy({check: 'x', op: 'mkdir', path: '/h/.codex'}, failed)).toBe('/h/.codex/sessions')
    expect(blockedBy({check: 'x', op: 'move', path: '/r/x', to: '/h/.codex/sessions'}, failed)).toBe('/h/.codex/sessions')
    expect(blockedBy({check: 'x', op: 'link', path: '/h/.codex/prompts', to: '/h/.codex/sessions'}, failed)).toBeUndefined()
    expect(blockedBy({check: 'x', op: 'mkdir', path: '/h/.codex/sessions2'}, failed)).toBeUndefined()
  })

  it('reports one backup path: the file, or the folder holding them all', () => {
    expect(backupSummary([])).toBeUndefined()
    expect(backupSummary(['/b/x/y/1', '/b/x/z/2'])).toBe('/b/x')
    expect(reportOf({check: 'secrets', op: 'chmod', path: '/a', mode: 0o600}, 'planned')).toEqual({check: 'secrets', op: 'chmod', path: '/a', mode: '600', status: 'planned'})
    expect(reportOf({check: 'gitignore', op: 'edit', path: '/a', content: 'SECRET'}, 'applied')).not.toHaveProperty('content')
  })

  it('parses git ls-files -s -z, spaces and tabs in names included', () => {
    expect(parseIndex('100644 abc 0\ta b\tc\x00120000 def 0\tl\x00')).toEqual([
      {mode: '100644', sha: 'abc', stage: '0', path: 'a b\tc'},
      {mode: '120000', sha: 'def', stage: '0', path: 'l'},
    ])
  })
})

describe('which run undo takes', () => {
  const run = (id: string, extra: object = {}) =>
    ({id, dir: path.join('/s', id), header: {t: 'run', v: 1, runId: id, started: id, pid: 1, host: 'h', version: '0'}, actions: [], steps: [], ...extra}) as never
  it('the latest not undone, or the one named', () => {
    const runs = [run('20260101T000000Z-0001'), run('20260101T000000Z-0002', {undone: 'x'})]
    expect(pickTarget(runs, undefined, '/s')).toMatchObject({kind: 'run', run: {id: '20260101T000000Z-0001'}})
    expect(pickTarget(runs, '20260101T000000Z-0002', '/s')).toMatchObject({kind: 'already'})
    expect(pickTarget([], undefined, '/s')).toEqual({kind: 'nothing'})
    expect(() => pickTarget(runs, '20260101T000000Z-0003', '/s')).toThrow(UsageError)
  })
  it('with the interrupted runs it resumed, newest first', () => {
    const a = run('20260101T000000Z-0001')
    const b = run('20260101T000001Z-0001', {header: {...(run('20260101T000001Z-0001') as {header: object}).header, resumes: ['20260101T000000Z-0001']}})
    expect(chainOf(b, [a, b]).map((r) => r.id)).toEqual(['20260101T000001Z-0001', '20260101T000000Z-0001'])
  })
})

describe('batches of moves', () => {
  const file: Fingerprint = {kind: 'file', mode: 0o644, size: 3, mtimeMs: 1.5}
  const moved = (after: Fingerprint): ItemResult => ({moved: true, after})

  it('an item is a path under the batch folders, or names its own ends (a backup)', () => {
    const batch = {from: '/r/sessions', to: '/h/sessions'}
    expect(itemOf(batch, '/r/sessions/2026/a.jsonl', '/h/sessions/2026/a.jsonl', file, false)).toEqual({path: '2026/a.jsonl', item: file})
    expect(itemOf(batch, '/r/sessions/2026/a.jsonl', '/s/backup/r/sessions/2026/a.jsonl', file, true)).toEqual({path: '2026/a.jsonl', item: file, backup: true, to: '/s/backup/r/sessions/2026/a.jsonl'})
    expect(itemOf(batch, '/elsewhere/x', '/h/sessions/x', file, false)).toEqual({path: 'x', item: file, from: '/elsewhere/x'})
    expect(endsOf(batch, {path: '2026/a.jsonl', item: file})).toEqual({from: '/r/sessions/2026/a.jsonl', to: '/h/sessions/2026/a.jsonl'})
  })

  it('undo moves back only what moved, each from the state the run left it in', () => {
    const step: MovesStep = {op: 'moves', from: '/r', to: '/h', tag: 'R', copy: true, items: [
      {path: 'a', item: file},
      {path: 'b', item: file},
      {path: 'c', item: file, to: '/s/backup/r/c', backup: true},
    ]}
    const copied = {...file, mtimeMs: 1.501, sha256: 'x'}
    const back = reversedStep(step, [moved(copied), {moved: false, why: 'changed'}, moved(file)])
    expect(back).toEqual({op: 'moves', from: '/h', to: '/r', tag: 'R-undo', copy: true, items: [{path: 'a', item: copied}, {path: 'c', item: file, from: '/s/backup/r/c'}]})
    expect(back.items.map((item) => endsOf(back, item))).toEqual([{from: '/h/a', to: '/r/a'}, {from: '/s/backup/r/c', to: '/r/c'}])
    // what went back is no longer moved; what did not, still is
    expect(stillMoved([moved(copied), {moved: false, why: 'changed'}, moved(file)], [{moved: false, why: 'x'}, moved(file)]).map((r) => r.moved)).toEqual([true, false, false])
  })

  it('replays only the items that moved, expecting what their destination really holds', () => {
    const step: MovesStep = {op: 'moves', from: '/r', to: '/h', tag: 'R', items: [{path: 'a', item: file}, {path: 'b', item: file}]}
    const copied: Fingerprint = {...file, mtimeMs: 1.5, sha256: 'x'}
    const {paths} = replay([{step, items: [moved(copied), {moved: false, why: 'changed'}]}])
    expect(Object.fromEntries(paths)).toEqual({'/r/a': {kind: 'missing'}, '/h/a': copied})
  })

  it('a copy keeps the bytes, the mode and the time to the microsecond', () => {
    expect(matchesCopy({...file, mtimeMs: 1795500618223.456}, {...file, mtimeMs: 1795500618223.4568})).toBe(true)
    expect(matchesCopy({...file, mtimeMs: 1795500618223.455}, {...file, mtimeMs: 1795500618223.4568})).toBe(false)
    expect(matchesCopy({...file, size: 4}, file)).toBe(false)
    expect(matchesCopy({kind: 'link', target: 'a'}, {kind: 'link', target: 'a'})).toBe(true)
  })

  it('utimes seconds land exactly on the microsecond (libuv keeps whole microseconds, cutting the rest)', () => {
    const next = seededRandom(42)
    for (let i = 0; i < 2000; i++) {
      const ns = 1_700_000_000_000_000_000n + BigInt(next()) * 1_000_000_000n + BigInt(next() % 1_000_000_000)
      const t = utimesSeconds(ns)
      // uv__fs_to_timespec
      const sec = Math.trunc(t)
      let nsec = Math.trunc((t - sec) * 1e9)
      nsec -= nsec % 1000
      expect(BigInt(sec) * 1_000_000_000n + BigInt(nsec), String(ns)).toBe((ns / 1000n) * 1000n)
    }
  })

  it('milliseconds from nanoseconds exactly as a plain stat gives them, before 1970 too', () => {
    const f = path.join(os.tmpdir(), `codex-doctor-ms-${process.pid}`)
    writeFileSync(f, 'x')
    try {
      expect(msOf(statSync(f, {bigint: true}).mtimeNs)).toBe(statSync(f).mtimeMs)
      utimesSync(f, -315619200.25, -315619200.123456)
      expect(msOf(statSync(f, {bigint: true}).mtimeNs)).toBe(statSync(f).mtimeMs)
    } finally {
      rmSync(f)
    }
  })
})
