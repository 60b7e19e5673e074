/**
 * A batch of moves, recorded as one journal step: each file or link goes to a free place, by one
 * rename on the same file system, else by a copy that is verified and placed before its source is
 * removed (SPEC rule 4). Copies are made one after the other with small synchronous calls (a
 * promise per call costs more than the call) while their data reaches the disk side by side
 * (fsync on the thread pool); the journal is synced once per batch, not once per file.
 *
 * A source that changes while it is copied (inode, size, times, or the bytes themselves) is never
 * removed: it stays where it is, the only copy of itself, and our copy is thrown away (it was
 * never the user's: a temp name, or placed a moment before and still ours by its inode). The item
 * says why, the action fails, and the next --fix moves it. Nothing is lost, nothing is there twice.
 */
import {type BigIntStats, close, closeSync, fchmodSync, fdatasync, fdatasyncSync, fstatSync, futimesSync, openSync, readlinkSync, readSync, renameSync, symlinkSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

import {fsyncDir, tempNameFor} from './disk.js'
import {errnoCode, type Fingerprint, fingerprintSync, lstatSyncOrNull, msOf, sameTimeAsCopied, sha256FileSync, utimesSeconds} from './fingerprint.js'

/** One item of a batch: a path under the step's `from` going to the same path under its `to`, unless it names its own ends. */
export interface MoveItem {
  /** Relative to the step's folders, `/`-separated. */
  path: string
  /** What the source was when the move was planned: a copy starts only from this very state. */
  item: Fingerprint
  /** The source, when it is not `path` under the step's `from` (undo of a backup). */
  from?: string
  /** The destination, when it is not `path` under the step's `to` (a backup's fresh name). */
  to?: string
  backup?: true
}

export interface MovesStep {
  op: 'moves'
  from: string
  to: string
  items: MoveItem[]
  /** Names our temp files (the run id): a crash leaves recognisable leftovers. */
  tag: string
  /** Copy even where a rename would do (tests: as if on another file system); undo copies back too. */
  copy?: true
}

/** Where one item is: moved (with what its destination really holds), or still at its source, and why. */
export type ItemResult = {moved: true; after: Fingerprint} | {moved: false; why: string}

export interface MovesIO {
  /** Called between two disk effects (the kill tests stop the process there). */
  checkpoint(label: string): void
}

export function endsOf(step: Pick<MovesStep, 'from' | 'to'>, item: MoveItem): {from: string; to: string} {
  const parts = item.path.split('/')
  return {from: item.from ?? path.join(step.from, ...parts), to: item.to ?? path.join(step.to, ...parts)}
}

/** The moved items going back where they came from (undo), each from the state the run left it in. */
export function reversedStep(step: MovesStep, results: readonly ItemResult[]): MovesStep {
  const items: MoveItem[] = []
  step.items.forEach((item, i) => {
    const r = results[i]
    if (!r?.moved) return
    items.push({path: item.path, item: r.after, ...(item.to ? {from: item.to} : {}), ...(item.from ? {to: item.from} : {})})
  })
  return {op: 'moves', from: step.to, to: step.from, items, tag: `${step.tag}-undo`, ...(step.copy ? {copy: true as const} : {})}
}

/** What a copy keeps of its source: the bytes, the mode and the times cut to the microsecond. */
export function matchesCopy(copy: Fingerprint, of: Fingerprint): boolean {
  if (copy.kind === 'link' || of.kind === 'link') return copy.kind === 'link' && of.kind === 'link' && copy.target === of.target
  return copy.kind === 'file' && of.kind === 'file' && copy.size === of.size && copy.mode === of.mode && sameTimeAsCopied(copy.mtimeMs, of.mtimeMs)
}

/**
 * A write moves a file's mtime and ctime forward unless they already read "now" at the file
 * system's granularity (up to 2 s on FAT): only a file touched this recently can change unseen.
 */
export const FRESH_MS = 3000

export function isFresh(source: Pick<BigIntStats, 'mtimeMs' | 'ctimeMs'>, startedMs: number): boolean {
  return Number(source.mtimeMs) >= startedMs - FRESH_MS || Number(source.ctimeMs) >= startedMs - FRESH_MS
}

export const CHANGED = 'changed while it was being copied; it stays at its source (the next --fix moves it)'

const fsyncFd = promisify(fdatasync)
const closeFd = promisify(close)
const BUFFER_BYTES = 1 << 20

/** A copy under way. The source stays open until the end, so that a write racing its removal is still seen. */
interface Copying {
  i: number
  from: string
  to: string
  tmp: string
  /** The source's file, as it was copied (null: a link). */
  fd: number | null
  source?: BigIntStats
  /** The copy's inode: the one we may take back. */
  copyIno?: bigint
  after: Fingerprint
  synced?: Promise<void>
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] || 'unknown error'
}

/** The file is still what the plan saw (its fingerprint). */
function sameState(st: BigIntStats, fp: Fingerprint): boolean {
  return fp.kind === 'file' && st.isFile() && Number(st.size) === fp.size && Number(st.mode & 0o7777n) === fp.mode && msOf(st.mtimeNs) === fp.mtimeMs
}

/** The bytes of an open file and of the file at `copy` are the same. */
function sameBytes(fd: number, copy: string, a: Buffer, b: Buffer): boolean {
  const other = openSync(copy, 'r')
  try {
    for (let position = 0; ; ) {
      const n = readSync(fd, a, 0, a.length, position)
      const m = readSync(other, b, 0, n === 0 ? 1 : n, position)
      if (n !== m || !a.subarray(0, n).equals(b.subarray(0, m))) return false
      if (n === 0) return true
      position += n
    }
  } finally {
    closeSync(other)
  }
}

/**
 * The last look before the source goes: the same inode under the same name, the same size and
 * times, and (when it was touched so recently that its times could hide a write) the same bytes as our copy.
 */
function unchanged(c: Copying, startedMs: number, a: Buffer, b: Buffer): boolean {
  const now = lstatSyncOrNull(c.from)
  if (c.fd === null) return now !== null && now.isSymbolicLink() && c.after.kind === 'link' && readlinkSync(c.from) === c.after.target
  const source = c.source!
  if (!now || BigInt(now.ino) !== source.ino || BigInt(now.dev) !== source.dev) return false
  const st = fstatSync(c.fd, {bigint: true})
  if (st.size !== source.size || st.mtimeNs !== source.mtimeNs || st.ctimeNs !== source.ctimeNs) return false
  return !isFresh(source, startedMs) || sameBytes(c.fd, c.to, a, b)
}

/** A new file at `tmp` (0600); a leftover of an earlier crash there (ours, by its name) goes first. */
function createTemp(tmp: string): number {
  try {
    return openSync(tmp, 'wx', 0o600)
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error
    unlinkSync(tmp)
    return openSync(tmp, 'wx', 0o600)
  }
}

/** Writes what `fd` holds to `tmp` (created 0600, never overwriting) with the source's times and mode; returns the copy's stat. */
function writeCopy(fd: number, source: BigIntStats, tmp: string, buffer: Buffer): {after: BigIntStats; out: number} {
  const out = createTemp(tmp)
  try {
    for (let position = 0; ; ) {
      const n = readSync(fd, buffer, 0, buffer.length, position)
      if (n === 0) break
      for (let written = 0; written < n; ) written += writeSync(out, buffer, written, n - written)
      position += n
    }
    futimesSync(out, utimesSeconds(source.atimeNs), utimesSeconds(source.mtimeNs))
    // the mode last: a secret is never readable by others, even for an instant
    fchmodSync(out, Number(source.mode & 0o7777n))
    const after = fstatSync(out, {bigint: true})
    if (after.size !== source.size) throw new Error(`the copy does not match its source (${after.size} of ${source.size} bytes)`)
    return {after, out}
  } catch (error) {
    closeSync(out)
    throw error
  }
}

/** What the copy really holds (its time is the source's cut to the microsecond): what undo expects to find. */
function fingerprintOfCopy(st: BigIntStats): Fingerprint {
  return {kind: 'file', mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeMs: msOf(st.mtimeNs)}
}

/** rename(2) that never replaces: the destination must be free (checked just before; the journal said it was). */
function renameToFree(from: string, to: string): void {
  if (lstatSyncOrNull(to)) throw Object.assign(new Error(`${to} already exists`), {code: 'EEXIST'})
  renameSync(from, to)
}

function removeTempSync(p: string): void {
  try {
    unlinkSync(p)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error
  }
}

/** Starts copying one file or link to its temp name; a result instead when it must stay (changed since it was planned). */
function startCopy(i: number, from: string, to: string, item: Fingerprint, tmp: string, buffer: Buffer): Copying | ItemResult {
  if (item.kind === 'link') {
    const target = readlinkSync(from)
    if (target !== item.target) return {moved: false, why: CHANGED}
    try {
      symlinkSync(target, tmp)
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error
      unlinkSync(tmp)
      symlinkSync(target, tmp)
    }
    return {i, from, to, tmp, fd: null, after: {kind: 'link', target}}
  }
  if (item.kind !== 'file') return {moved: false, why: `${from} is not a file, a folder or a link: it cannot be copied to another file system`}
  const fd = openSync(from, 'r')
  try {
    const source = fstatSync(fd, {bigint: true})
    if (!sameState(source, item)) {
      closeSync(fd)
      return {moved: false, why: CHANGED}
    }
    const copy = writeCopy(fd, source, tmp, buffer)
    const c: Copying = {i, from, to, tmp, fd, source, copyIno: copy.after.ino, after: fingerprintOfCopy(copy.after)}
    // the data reaches the disk on the thread pool while the next file is copied
    c.synced = fsyncFd(copy.out).finally(() => closeFd(copy.out))
    return c
  } catch (error) {
    closeSync(fd)
    throw error
  }
}

/** Takes back a copy we placed, only if it is still ours (the same inode). */
function unplace(c: Copying): void {
  const at = lstatSyncOrNull(c.to)
  if (!at) return
  if (c.fd === null ? at.isSymbolicLink() : c.copyIno !== undefined && BigInt(at.ino) === c.copyIno) unlinkSync(c.to)
}

/**
 * After the source is gone: did a writer that had it open add to it in the last instant? Then
 * our copy lacks that, and the open file still holds all of it: the copy is made again from it.
 */
function catchUp(c: Copying, buffer: Buffer): void {
  if (c.fd === null || c.source === undefined) return
  const now = fstatSync(c.fd, {bigint: true})
  // not its ctime: the removal itself changed that (one link fewer)
  if (now.size === c.source.size && now.mtimeNs === c.source.mtimeNs) return
  const at = lstatSyncOrNull(c.to)
  if (!at || BigInt(at.ino) !== c.copyIno) return
  const copy = writeCopy(c.fd, now, c.tmp, buffer)
  try {
    fdatasyncSync(copy.out)
  } finally {
    closeSync(copy.out)
  }
  renameSync(c.tmp, c.to)
  c.after = fingerprintOfCopy(copy.after)
}

/** Carries out a batch; every item gets a result, none throws (a failure is that item's result). */
export async function runMoves(step: MovesStep, io: MovesIO): Promise<ItemResult[]> {
  const results: ItemResult[] = step.items.map(() => ({moved: false, why: 'not attempted'}))
  const [a, b] = [Buffer.allocUnsafe(BUFFER_BYTES), Buffer.allocUnsafe(BUFFER_BYTES)]
  const startedMs = Date.now()
  const copying: Copying[] = []

  // renames first: atomic, and a writer that has the file open keeps writing to it at its new place
  step.items.forEach((item, i) => {
    const {from, to} = endsOf(step, item)
    if (!step.copy) {
      try {
        renameToFree(from, to)
        results[i] = {moved: true, after: fingerprintSync(to)}
        io.checkpoint('moved')
        return
      } catch (error) {
        if (errnoCode(error) !== 'EXDEV') {
          results[i] = {moved: false, why: message(error)}
          return
        }
      }
    }
    try {
      const started = startCopy(i, from, to, item.item, tempNameFor(to, step.tag), a)
      if ('i' in started) copying.push(started)
      else results[i] = started
    } catch (error) {
      removeTempSync(tempNameFor(to, step.tag))
      results[i] = {moved: false, why: message(error)}
    }
    io.checkpoint('copied')
  })

  // every copy on the disk before any is placed
  const synced = await Promise.allSettled(copying.map((c) => c.synced))
  const placed: Copying[] = []
  copying.forEach((c, k) => {
    try {
      const sync = synced[k]!
      if (sync.status === 'rejected') throw sync.reason
      renameToFree(c.tmp, c.to)
      placed.push(c)
      io.checkpoint('placed')
    } catch (error) {
      removeTempSync(c.tmp)
      results[c.i] = {moved: false, why: message(error)}
    }
  })
  await Promise.all([...new Set(placed.map((c) => path.dirname(c.to)))].map((dir) => fsyncDir(dir)))

  // the last look at each source, then at once its removal
  const removed: Copying[] = []
  for (const c of placed) {
    try {
      if (!unchanged(c, startedMs, a, b)) {
        unplace(c)
        results[c.i] = {moved: false, why: CHANGED}
        continue
      }
      unlinkSync(c.from)
      removed.push(c)
      io.checkpoint('removed')
    } catch (error) {
      results[c.i] = {moved: false, why: message(error)}
    }
  }
  await Promise.all([...new Set(removed.map((c) => path.dirname(c.from)))].map((dir) => fsyncDir(dir)))

  for (const c of removed) {
    try {
      catchUp(c, a)
    } catch {
      // the copy placed is the source as it was verified; a late addition could not be carried over
    }
    results[c.i] = {moved: true, after: c.after}
  }
  // a removed source's last close frees it, which takes time: on the thread pool, while the next batch goes on
  for (const c of copying) if (c.fd !== null) closeFd(c.fd).catch(() => undefined)
  return results
}

/** Same content at two paths: the same inode (a hard link), the same link target, or the same bytes. */
function identical(a: string, b: string): boolean {
  const [x, y] = [lstatSyncOrNull(a), lstatSyncOrNull(b)]
  if (!x || !y) return false
  if (x.dev === y.dev && x.ino === y.ino) return true
  if (x.isSymbolicLink() || y.isSymbolicLink()) return x.isSymbolicLink() && y.isSymbolicLink() && readlinkSync(a) === readlinkSync(b)
  return x.isFile() && y.isFile() && x.size === y.size && sha256FileSync(a) === sha256FileSync(b)
}

/**
 * After a crash inside a batch: where each item is. Our temp copies go; a copy placed whose
 * source is still there is finished (the source removed); a copy placed whose source then changed
 * is taken back (the source is the truth). Anything else throws: a person must look.
 * `known`: what the journal already says (an item that stayed keeps its reason).
 */
export function settleMoves(step: MovesStep, known?: readonly ItemResult[]): ItemResult[] {
  return step.items.map((item, i): ItemResult => {
    const {from, to} = endsOf(step, item)
    removeTempSync(tempNameFor(to, step.tag))
    const knownResult = known?.[i]
    const stayed: ItemResult = knownResult && !knownResult.moved ? knownResult : {moved: false, why: 'interrupted before it moved'}
    const atFrom = lstatSyncOrNull(from) !== null
    const atTo = lstatSyncOrNull(to) !== null
    if (atFrom && !atTo) return stayed
    if (!atFrom && atTo) return {moved: true, after: fingerprintSync(to)}
    if (!atFrom) throw new Error(`cannot tell whether "move ${from}" happened: neither it nor ${to} exists`)
    if (identical(from, to)) {
      // the verified copy is in place and the source not yet removed: finish
      unlinkSync(from)
      return {moved: true, after: fingerprintSync(to)}
    }
    // our copy is the one that still matches what was copied; the source changed after it was made
    if (matchesCopy(fingerprintSync(to), item.item) && !matchesCopy(fingerprintSync(from), item.item)) {
      unlinkSync(to)
      return {moved: false, why: CHANGED}
    }
    throw new Error(`cannot tell whether "move ${from}" happened: it and ${to} both exist and differ`)
  })
}
