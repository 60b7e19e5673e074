/** One fixer at a time (SPEC rule 6): `stateDir/lock`, created with O_EXCL, names its holder. */
import {link, lstat, mkdir, open, readFile, rename, rmdir, unlink} from 'node:fs/promises'
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

/** A lock this young with no holder written yet belongs to a process that is writing it right now. */
const BEING_WRITTEN_MS = 5000

export function lockPathOf(stateDir: string): string {
  return path.join(stateDir, 'lock')
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

/** May a lock be taken over? Only when its holder is known to be dead: a dead pid on this host. */
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

async function readLock(lockPath: string): Promise<{holder: LockHolder | null; ino: number; ageMs: number} | null> {
  try {
    const st = await lstat(lockPath)
    return {holder: parseHolder(await readFile(lockPath, 'utf8')), ino: st.ino, ageMs: Date.now() - st.mtimeMs}
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null
    throw error
  }
}

async function createLock(lockPath: string, holder: LockHolder): Promise<boolean> {
  let handle
  try {
    handle = await open(lockPath, 'wx', 0o600)
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false
    throw error
  }
  try {
    await handle.writeFile(JSON.stringify(holder) + '\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
  return true
}

/** Removes the folders `mkdir -p` created for the lock, if they are empty again: a run that recorded nothing leaves nothing. */
async function removeIfEmpty(stateDir: string, created: string | undefined): Promise<void> {
  if (!created) return
  for (let dir = stateDir; ; dir = path.dirname(dir)) {
    try {
      await rmdir(dir)
    } catch {
      return
    }
    if (dir === created || path.dirname(dir) === dir) return
  }
}

export async function acquireLock(stateDir: string, command: LockCommand): Promise<Lock> {
  const created = await mkdir(stateDir, {recursive: true, mode: 0o700})
  const lockPath = lockPathOf(stateDir)
  const host = os.hostname()
  const me: LockHolder = {pid: process.pid, started: new Date().toISOString(), host, command}
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createLock(lockPath, me)) {
      return {
        path: lockPath,
        async release() {
          const now = await readLock(lockPath)
          if (now?.holder?.pid === process.pid) await unlink(lockPath)
          await removeIfEmpty(stateDir, created)
        },
      }
    }
    const seen = await readLock(lockPath)
    if (!seen) continue
    if (!isStale(seen.holder, seen.ageMs, host, pidAlive)) {
      await removeIfEmpty(stateDir, created)
      throw new UsageError(heldMessage(seen.holder, lockPath, host))
    }
    // take the stale lock over: move it aside and make sure it is the one we judged dead
    const aside = `${lockPath}.stale-${process.pid}`
    try {
      await rename(lockPath, aside)
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue
      throw error
    }
    // another process took it meanwhile: put its lock back (link never replaces a newer one)
    if ((await lstat(aside)).ino !== seen.ino) await link(aside, lockPath).catch(() => undefined)
    await unlink(aside)
  }
  throw new UsageError(`could not take the lock ${lockPath}: other codex-doctor processes keep taking it`)
}
