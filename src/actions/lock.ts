/**
 * One fixer at a time (SPEC rule 6): `stateDir/lock` names its holder. The holder is written to a
 * temp file first and published with link(2), which fails when the lock exists: a lock file is
 * never seen empty or half-written, whenever its writer is killed. A dead holder's lock (and a
 * dead writer's temp file) is taken over by the next one.
 */
import {closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {randomBytes} from 'node:crypto'
import os from 'node:os'
import path from 'node:path'

import {UsageError} from '../errors.js'
import {errnoCode} from './fingerprint.js'

export type LockCommand = 'fix' | 'undo'

export interface LockHolder {
  pid: number
  started: string
  host: string
  command?: LockCommand
}

export interface Lock {
  path: string
  release(): Promise<void>
}

export interface LockOptions {
  /** Tests only: called between two disk effects (the kill tests stop the process there). */
  checkpoint?: (label: string) => void
}

/** An unreadable lock this young may be an older codex-doctor writing it right now (it wrote in place). */
const BEING_WRITTEN_MS = 5000

export function lockPathOf(stateDir: string): string {
  return path.join(stateDir, 'lock')
}

/** `lock.<pid>.<random>.tmp` (a holder being published) and `lock.stale-<pid>` (a dead holder's lock being taken over). */
const LEFTOVER = /^lock\.(?:\d+\.[0-9a-f]+\.tmp|stale-\d+)$/

export function isLeftover(name: string): boolean {
  return LEFTOVER.test(name)
}

export function parseHolder(text: string): LockHolder | null {
  try {
    const data = JSON.parse(text) as Partial<LockHolder>
    return typeof data.pid === 'number' && typeof data.host === 'string' ? {pid: data.pid, started: String(data.started ?? ''), host: data.host, command: data.command} : null
  } catch {
    return null
  }
}

/** Whether a process id is running here (EPERM: it is, it just is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errnoCode(error) === 'EPERM'
  }
}

/** May a lock (or a leftover of one) be taken over? Only when its holder is known to be dead: a dead pid on this host. */
export function isStale(holder: LockHolder | null, ageMs: number, host: string, alive: (pid: number) => boolean): boolean {
  if (!holder) return ageMs > BEING_WRITTEN_MS
  return holder.host === host && !alive(holder.pid)
}

export function heldMessage(holder: LockHolder | null, lockPath: string, host: string): string {
  if (!holder) return `another codex-doctor is starting (the lock ${lockPath} is being written); try again in a moment`
  const what = holder.command === 'undo' ? 'codex-doctor undo' : 'codex-doctor --fix'
  const where = holder.host === host ? '' : ` on ${holder.host}`
  return `another ${what} is running (pid ${holder.pid}${where}, since ${holder.started}); wait for it to finish, or remove ${lockPath} if that process is gone`
}

function readLock(file: string): {holder: LockHolder | null; ino: number; ageMs: number} | null {
  try {
    const st = statSync(file)
    return {holder: parseHolder(readFileSync(file, 'utf8')), ino: st.ino, ageMs: Date.now() - st.mtimeMs}
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null
    throw error
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error
  }
}

/** Temp files and set-aside locks that dead processes left behind (a kill while taking or taking over the lock). */
function cleanLeftovers(stateDir: string, host: string): void {
  for (const name of readdirSync(stateDir).filter(isLeftover)) {
    const file = path.join(stateDir, name)
    const seen = readLock(file)
    if (seen && isStale(seen.holder, seen.ageMs, host, pidAlive)) removeQuietly(file)
  }
}

/** The holder, written whole and synced under a name of its own; published by linking it as the lock. */
function writeHolder(file: string, holder: LockHolder): void {
  const fd = openSync(file, 'wx', 0o600)
  try {
    writeSync(fd, JSON.stringify(holder) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Removes the folders `mkdir -p` created for the lock, if they are empty again: a run that recorded nothing leaves nothing. */
function removeIfEmpty(stateDir: string, created: string | undefined): void {
  if (!created) return
  for (let dir = stateDir; ; dir = path.dirname(dir)) {
    try {
      rmdirSync(dir)
    } catch {
      return
    }
    if (dir === created || path.dirname(dir) === dir) return
  }
}

/** Takes a stale lock over: set it aside, and make sure the one set aside is the one judged dead. */
function takeOver(lockPath: string, seenIno: number, checkpoint: (label: string) => void): void {
  const aside = `${lockPath}.stale-${process.pid}`
  try {
    renameSync(lockPath, aside)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return
    throw error
  }
  checkpoint('lock-set-aside')
  // another process took it over meanwhile and this is its live lock: put it back (link never replaces a newer one)
  if (statSync(aside).ino !== seenIno) {
    try {
      linkSync(aside, lockPath)
    } catch {
      // a third one holds the lock now; the one set aside was taken from a process that will find out when it releases
    }
  }
  unlinkSync(aside)
}

export async function acquireLock(stateDir: string, command: LockCommand, options: LockOptions = {}): Promise<Lock> {
  const checkpoint = options.checkpoint ?? (() => {})
  const created = await mkdir(stateDir, {recursive: true, mode: 0o700})
  const lockPath = lockPathOf(stateDir)
  const host = os.hostname()
  const me: LockHolder = {pid: process.pid, started: new Date().toISOString(), host, command}
  cleanLeftovers(stateDir, host)
  const temp = path.join(stateDir, `lock.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    writeHolder(temp, me)
    checkpoint('lock-written')
    publish(temp, lockPath, host, checkpoint)
  } catch (error) {
    removeQuietly(temp)
    removeIfEmpty(stateDir, created)
    throw error
  }
  checkpoint('lock-linked')
  removeQuietly(temp)
  checkpoint('locked')
  return {
    path: lockPath,
    async release() {
      checkpoint('unlocking')
      // only our own: a lock taken over from us (we were thought dead) is the new holder's
      if (readLock(lockPath)?.holder?.pid === process.pid) removeQuietly(lockPath)
      checkpoint('unlocked')
      removeIfEmpty(stateDir, created)
    },
  }
}

/** Links the holder's temp file as the lock; a dead holder's lock is taken over, a live one's is a usage error naming it. */
function publish(temp: string, lockPath: string, host: string, checkpoint: (label: string) => void): void {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      linkSync(temp, lockPath)
      return
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error
    }
    const seen = readLock(lockPath)
    if (!seen) continue
    if (!isStale(seen.holder, seen.ageMs, host, pidAlive)) throw new UsageError(heldMessage(seen.holder, lockPath, host))
    takeOver(lockPath, seen.ino, checkpoint)
  }
  throw new UsageError(`could not take the lock ${lockPath}: other codex-doctor processes keep taking it`)
}
