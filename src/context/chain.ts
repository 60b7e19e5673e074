import {lstatSync, readlinkSync, statSync} from 'node:fs'
import path from 'node:path'

/** One link of a chain: the link's path, its target as written, and that target made absolute. */
export interface Hop {
  path: string
  target: string
  resolved: string
}

export type ChainEnd =
  | 'file' // ends at a regular file
  | 'dir' // ends at a real folder
  | 'missing' // the path (or a hop's target) does not exist: dangling
  | 'loop' // a hop points back into the chain
  | 'other' // a socket, a device…

export interface Chain {
  /** The path we started from. */
  start: string
  hops: Hop[]
  /** The last path reached: the real file or folder, or the missing/looping target. */
  final: string
  end: ChainEnd
}

const MAX_HOPS = 40

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/**
 * Follows a chain of symlinks one hop at a time, as Codex ≥ 0.89 does: a relative target
 * resolves against the folder of the link that holds it. Folders along each path are
 * resolved by the OS, so a link inside a linked folder still works.
 *
 * The calls here (lstat, readlink, stat) are synchronous: each takes microseconds, where a trip
 * through libuv's thread pool and back costs far more, and locating the repository makes dozens
 * of them one after another before anything else can start.
 */
export function readChain(start: string): Chain {
  const hops: Hop[] = []
  const seen = new Set<string>()
  let current = path.resolve(start)
  for (;;) {
    let info
    try {
      // a missing path answers undefined: no error is made (a run asks of dozens that are not there)
      info = lstatSync(current, {throwIfNoEntry: false})
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return {start, hops, final: current, end: 'missing'}
      if (errnoCode(error) === 'ELOOP') return {start, hops, final: current, end: 'loop'}
      throw error
    }
    if (!info) return {start, hops, final: current, end: 'missing'}
    if (!info.isSymbolicLink()) {
      return {start, hops, final: current, end: info.isFile() ? 'file' : info.isDirectory() ? 'dir' : 'other'}
    }
    if (seen.has(current) || hops.length >= MAX_HOPS) return {start, hops, final: current, end: 'loop'}
    seen.add(current)
    const target = readlinkSync(current)
    const resolved = path.resolve(path.dirname(current), target)
    hops.push({path: current, target, resolved})
    current = resolved
  }
}

/** Whether `child` is `parent` or inside it (both absolute, compared as written). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/** `fn()`, or `fallback` when it throws: the synchronous calls' `.catch(() => fallback)`. */
export function tryOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn()
  } catch {
    return fallback
  }
}

/** `stat` that answers undefined instead of throwing for a missing path. */
export function statOrUndefined(p: string, follow = true) {
  try {
    return follow ? statSync(p, {throwIfNoEntry: false}) : lstatSync(p, {throwIfNoEntry: false})
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(error) ?? '')) return undefined
    throw error
  }
}

/** Walks up from `start` to the nearest folder holding `.git` (a folder, or a file for worktrees). */
export function gitRoot(start: string): string | null {
  let dir = path.resolve(start)
  for (;;) {
    if (statOrUndefined(path.join(dir, '.git'), false)) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}
