/**
 * One fixer at a time: a second one is a usage error naming the holder; a dead holder's lock is
 * taken over; a lock is published whole (the holder written to a temp file, then linked), so a kill
 * at any instant leaves no lock or a complete one, and the temp files of dead processes are cleaned.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'

import {acquireLock, isLeftover, parseHolder} from '../../src/actions/lock.js'
import {UsageError} from '../../src/errors.js'
import {REPO_ROOT} from '../codex-bins.js'
import {expectBuiltFromSources} from './helpers.js'

let roots: string[] = []
afterEach(() => {
  for (const r of roots) rmSync(r, {recursive: true, force: true})
  roots = []
})
const stateDir = () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-lock-'))
  roots.push(root)
  return path.join(root, 'state', 'codex-doctor')
}

/** A pid that surely is not running: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!

it('a second fixer gets a usage error naming the holder pid; after release the lock is free', async () => {
  const dir = stateDir()
  const lock = await acquireLock(dir, 'fix')
  expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({pid: process.pid, host: os.hostname(), command: 'fix'})
  const second = acquireLock(dir, 'fix')
  await expect(second).rejects.toBeInstanceOf(UsageError)
  await expect(second).rejects.toThrow(`pid ${process.pid}`)
  await lock.release()
  const again = await acquireLock(dir, 'undo')
  await again.release()
})

it('a lock left by a dead process is taken over', async () => {
  const dir = stateDir()
  mkdirSync(dir, {recursive: true})
  const pid = deadPid()
  writeFileSync(path.join(dir, 'lock'), JSON.stringify({pid, started: '2026-01-01T00:00:00Z', host: os.hostname(), command: 'fix'}))
  const lock = await acquireLock(dir, 'fix')
  expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid)
  await lock.release()
  expect(existsSync(path.join(dir, 'lock'))).toBe(false)
})

it("another host's lock is never taken over (its pid means nothing here)", async () => {
  const dir = stateDir()
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'lock'), JSON.stringify({pid: deadPid(), started: 't', host: 'another-host', command: 'fix'}))
  await expect(acquireLock(dir, 'fix')).rejects.toThrow(/on another-host/)
})

it('an unreadable lock is held while young, stale when old', async () => {
  const dir = stateDir()
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, 'lock')
  writeFileSync(file, '')
  await expect(acquireLock(dir, 'fix')).rejects.toBeInstanceOf(UsageError)
  utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
  const lock = await acquireLock(dir, 'fix')
  await lock.release()
})

it('a lock that recorded nothing leaves no state folder behind', async () => {
  const dir = stateDir()
  const lock = await acquireLock(dir, 'fix')
  expect(existsSync(dir)).toBe(true)
  await lock.release()
  expect(existsSync(path.dirname(dir))).toBe(false)
})

const CHILD = path.join(REPO_ROOT, 'test', 'actions', 'kill-child.mjs')
// the child runs dist/: it must be built from these sources
beforeAll(expectBuiltFromSources)

/** Takes and releases the lock in a child process that SIGKILLs itself at its `killAt`-th instant; whether it died there. */
function lockChild(dir: string, killAt: number | null): boolean {
  const result = spawnSync(process.execPath, [CHILD, JSON.stringify({mode: 'lock', killAt, stateDir: dir, plan: []})], {encoding: 'utf8'})
  if (result.signal === 'SIGKILL') return true
  if (result.status !== 0) throw new Error(result.stderr)
  return false
}

describe('a lock never exists half-written', () => {
  it('the lock is a second name of a complete temp file: after taking it, only the lock is there', async () => {
    const dir = stateDir()
    const lock = await acquireLock(dir, 'fix')
    expect(readdirSync(dir)).toEqual(['lock'])
    expect(parseHolder(readFileSync(lock.path, 'utf8'))).toMatchObject({pid: process.pid})
    await lock.release()
  })

  it('killed at each instant of taking and releasing it: the lock is absent or names a dead pid, and the next one takes it', async () => {
    // the uninterrupted child: how many instants there are
    const dir0 = stateDir()
    const count = JSON.parse(spawnSync(process.execPath, [CHILD, JSON.stringify({mode: 'lock', killAt: null, stateDir: dir0, plan: []})], {encoding: 'utf8'}).stdout).checkpoints as number
    expect(count).toBeGreaterThanOrEqual(5)
    for (let killAt = 1; killAt <= count; killAt++) {
      const dir = stateDir()
      expect(lockChild(dir, killAt), `killed at instant ${killAt}`).toBe(true)
      const names = readdirSync(dir)
      // never an empty or half-written lock: whatever is there names its (dead) holder in full
      for (const name of names) expect(parseHolder(readFileSync(path.join(dir, name), 'utf8')), `${name}, killed at instant ${killAt}`).not.toBeNull()
      const lock = await acquireLock(dir, 'fix')
      expect(readdirSync(dir), `killed at instant ${killAt}: the temp file is cleaned`).toEqual(['lock'])
      await lock.release()
      expect(existsSync(path.join(dir, 'lock'))).toBe(false)
    }
  })

  it("leftovers of dead processes are removed, a live one's temp file is left alone", async () => {
    const dir = stateDir()
    mkdirSync(dir, {recursive: true})
    const holder = (pid: number) => JSON.stringify({pid, started: 't', host: os.hostname(), command: 'fix'}) + '\n'
    const dead = deadPid()
    writeFileSync(path.join(dir, `lock.${dead}.0a1b2c3d.tmp`), holder(dead))
    writeFileSync(path.join(dir, `lock.stale-${dead}`), holder(dead))
    const live = path.join(dir, `lock.${process.pid}.deadbeef.tmp`)
    writeFileSync(live, holder(process.pid))
    const lock = await acquireLock(dir, 'fix')
    expect(readdirSync(dir).sort()).toEqual(['lock', `lock.${process.pid}.deadbeef.tmp`])
    await lock.release()
  })

  it('which names are ours to clean', () => {
    expect(isLeftover('lock.123.0a1b2c3d.tmp')).toBe(true)
    expect(isLeftover('lock.stale-123')).toBe(true)
    expect(isLeftover('lock')).toBe(false)
    expect(isLeftover('runs')).toBe(false)
    expect(isLeftover('lock.123.tmp.bak')).toBe(false)
  })
})
