/**
 * move: folders merge item by item without overwriting (conflicts at several depths, the
 * destination's copy stays, the source's goes to the backup), links move as links, and across
 * file systems a move copies, verifies, keeps mode and times, and only then removes the source.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {BATCH_ITEMS} from '../../src/actions/real-system.js'
import {backupPathOf} from '../../src/actions/runs.js'
import {snapshot, sandboxesPerTest} from '../sandbox.js'
import {apply, contentMultiset, snapshotMicros, undo, world} from './helpers.js'
import {mountTmpfs, whyNoTmpfs} from '../tmpfs.js'

const sandbox = sandboxesPerTest()

/** A repository's sessions folder and CODEX_HOME's overlapping one, with conflicts at several depths and links inside. */
function overlapping() {
  const s = sandbox({state: false})
  const from = path.join(s.codexDir, 'sessions')
  const to = path.join(s.codexHome, 'sessions')
  const outside = s.write(s.p('outside', 'target.txt'), 'outside, never touched\n')
  // the repository's copy
  s.write(path.join(from, '2026', '01', '02', 'rollout-1.jsonl'), '{"from":"repo, same name"}\n')
  s.write(path.join(from, '2026', '01', '02', 'rollout-2.jsonl'), '{"from":"repo, only here"}\n', 0o600)
  s.write(path.join(from, '2025', '12', '31', 'rollout-0.jsonl'), '{"from":"repo, old year"}\n')
  s.write(path.join(from, '2026', '01', '03'), 'a file where CODEX_HOME has a folder\n')
  s.write(path.join(from, '2026', '04', 'deep', 'x.jsonl'), 'a folder where CODEX_HOME has a file\n')
  s.link(path.join(from, 'latest'), '2026/01/02/rollout-2.jsonl')
  s.link(path.join(from, '2026', 'outside-link'), outside)
  // CODEX_HOME's copy
  s.write(path.join(to, '2026', '01', '02', 'rollout-1.jsonl'), '{"from":"home"}\n')
  s.write(path.join(to, '2026', '01', '03', 'y.jsonl'), '{"from":"home, a folder"}\n')
  s.write(path.join(to, '2026', '04'), 'a file in CODEX_HOME\n')
  s.write(path.join(to, '2026', '02', 'z.jsonl'), '{"from":"home only"}\n')
  return {s, from, to, outside}
}

async function mergeCase(forceCopy: boolean) {
  const {s, from, to, outside} = overlapping()
  // a copy keeps times to the microsecond, a rename exactly
  const exactly = forceCopy ? snapshotMicros : snapshot
  const before = world(s, exactly)
  const bytes = contentMultiset(s.root)
  const {reports, runDir} = await apply(s, [{check: 'stray-state', op: 'move', path: from, to}], {forceCopy})
  expect(reports[0]).toMatchObject({status: 'applied'})
  const backup = (p: string) => backupPathOf(runDir, path.join(from, p))

  // CODEX_HOME's copies stay, the repository's conflicting ones are in the backup, the rest merged in
  expect(readFileSync(path.join(to, '2026', '01', '02', 'rollout-1.jsonl'), 'utf8')).toBe('{"from":"home"}\n')
  expect(readFileSync(backup('2026/01/02/rollout-1.jsonl'), 'utf8')).toBe('{"from":"repo, same name"}\n')
  expect(readFileSync(path.join(to, '2026', '01', '02', 'rollout-2.jsonl'), 'utf8')).toBe('{"from":"repo, only here"}\n')
  expect(lstatSync(path.join(to, '2026', '01', '02', 'rollout-2.jsonl')).mode & 0o777).toBe(0o600)
  expect(readFileSync(path.join(to, '2025', '12', '31', 'rollout-0.jsonl'), 'utf8')).toBe('{"from":"repo, old year"}\n')
  expect(readFileSync(path.join(to, '2026', '01', '03', 'y.jsonl'), 'utf8')).toBe('{"from":"home, a folder"}\n')
  expect(readFileSync(backup('2026/01/03'), 'utf8')).toBe('a file where CODEX_HOME has a folder\n')
  expect(readFileSync(path.join(to, '2026', '04'), 'utf8')).toBe('a file in CODEX_HOME\n')
  expect(readFileSync(backup('2026/04/deep/x.jsonl'), 'utf8')).toBe('a folder where CODEX_HOME has a file\n')
  expect(readFileSync(path.join(to, '2026', '02', 'z.jsonl'), 'utf8')).toBe('{"from":"home only"}\n')
  // links moved as links: same target text, and what they point to untouched
  expect(readlinkSync(path.join(to, 'latest'))).toBe('2026/01/02/rollout-2.jsonl')
  expect(readlinkSync(path.join(to, '2026', 'outside-link'))).toBe(outside)
  expect(readFileSync(outside, 'utf8')).toBe('outside, never touched\n')
  // the emptied source folder is gone; the report names the folder holding every backup
  expect(existsSync(from)).toBe(false)
  expect(reports[0]!.backup).toBe(backup('2026'))
  // not a byte lost, none duplicated
  expect(contentMultiset(s.root)).toEqual(bytes)

  const undone = await undo(s)
  expect(undone.changed).toEqual([])
  expect(world(s, exactly)).toEqual(before)
  return {s, runDir}
}

describe('move: merging folders', () => {
  it('merges without overwriting, conflicts at several depths, links as links; undo restores exactly', async () => {
    const {runDir} = await mergeCase(false)
    expect(readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')).not.toContain('"copy":true')
  })

  it('the same across file systems (forced): copy, verify, keep mode and time, then remove; undo restores times too', async () => {
    const {runDir} = await mergeCase(true)
    const journal = readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')
    expect(journal).toContain('"copy":true')
    expect(journal).not.toContain('"op":"rename"')
  })

  it.each([false, true])('1,200 files merged (forced copy: %s) are a few journal steps, not 1,200; undo restores exactly', async (forceCopy) => {
    const s = sandbox({state: false})
    const from = path.join(s.codexDir, 'sessions')
    const to = path.join(s.codexHome, 'sessions')
    for (let i = 0; i < 1200; i++) s.write(path.join(from, String(i % 3), `rollout-${i}.jsonl`), `{"i":${i}}\n`)
    // the destination has the folders already: every file is an item of its own
    for (let d = 0; d < 3; d++) s.write(path.join(to, String(d), 'home.jsonl'), '{"home":true}\n')
    const exactly = forceCopy ? snapshotMicros : snapshot
    const before = world(s, exactly)
    const {reports, runDir} = await apply(s, [{check: 'stray-state', op: 'move', path: from, to}], {forceCopy})
    expect(reports[0]!.status).toBe('applied')
    expect(readdirSync(path.join(to, '1'))).toHaveLength(401)
    const begun = readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"t":"begin"'))
    // three batches of moves, the source folders removed (four rmdir): no step per file
    expect(begun.filter((l) => l.includes('"op":"moves"'))).toHaveLength(Math.ceil(1200 / BATCH_ITEMS))
    expect(begun).toHaveLength(Math.ceil(1200 / BATCH_ITEMS) + 4)
    expect((await undo(s)).changed).toEqual([])
    expect(world(s, exactly)).toEqual(before)
  })

  it('a move into a destination that is a link to a folder never follows it: the source goes to the backup', async () => {
    const s = sandbox({state: false})
    const from = s.write(path.join(s.codexDir, 'log', 'a.log'), 'a\n')
    const elsewhere = path.join(s.root, 'elsewhere')
    mkdirSync(elsewhere)
    s.link(path.join(s.codexHome, 'log'), elsewhere)
    const {reports} = await apply(s, [{check: 'x', op: 'move', path: path.dirname(from), to: path.join(s.codexHome, 'log')}])
    expect(reports[0]!.status).toBe('applied')
    expect(readdirSync(elsewhere)).toEqual([])
    expect(readFileSync(path.join(reports[0]!.backup!, 'a.log'), 'utf8')).toBe('a\n')
  })
})

const cannotMount = whyNoTmpfs()

describe('move across two real file systems (tmpfs)', () => {
  it.skipIf(cannotMount !== null)(`copies, verifies, keeps content, modes and times; backups cross too; undo restores exactly${cannotMount ? ` (skipped: mount -t tmpfs failed: ${cannotMount})` : ''}`, async () => {
    const {s, from} = overlapping()
    const mnt = s.p('mnt')
    expect(mountTmpfs(mnt)).toBeNull()
    try {
      expect(statSync(mnt).dev).not.toBe(statSync(s.home).dev)
      // the state folder on the other file system too: backups cross it
      s.env.XDG_STATE_HOME = path.join(mnt, 'state')
      const to = path.join(mnt, 'codex-home', 'sessions')
      const clobbered = s.write(path.join(s.codexHome, 'config.toml.local'), 'mine\n', 0o600)
      const before = world(s, snapshotMicros)
      const moved = snapshotMicros(from)
      const {reports, runDir} = await apply(s, [
        {check: 'stray-state', op: 'move', path: from, to},
        {check: 'links', op: 'link', path: clobbered, to: path.join(s.codexDir, 'config.toml')},
      ])
      expect(reports.map((r) => r.status)).toEqual(['applied', 'applied'])
      // content, modes, link targets crossed exactly, file times to the microsecond
      expect(snapshotMicros(to)).toEqual(moved)
      expect(existsSync(from)).toBe(false)
      expect(readFileSync(reports[1]!.backup!, 'utf8')).toBe('mine\n')
      expect(lstatSync(reports[1]!.backup!).mode & 0o777).toBe(0o600)
      expect(readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')).toContain('"op":"moves"')

      const undone = await undo(s)
      expect(undone.changed).toEqual([])
      expect(world(s, snapshotMicros)).toEqual(before)
    } finally {
      execFileSync('umount', [mnt])
    }
  })
})
