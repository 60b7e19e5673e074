/** One fixer at a time: a second one is a usage error naming the holder; a dead holder's lock is taken over. */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, expect, it} from 'vitest'

import {acquireLock} from '../../src/actions/lock.js'
import {UsageError} from '../../src/errors.js'

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
