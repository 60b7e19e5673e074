/**
 * A step is one disk effect that is atomic, or made recoverable by a temp name: the unit the
 * journal records before it happens. Each step can be run, reversed, and told apart on the disk
 * (happened or not) after a crash, which is what makes a killed run resumable and undoable.
 */
import {chmod, link, mkdir, open, rename, rmdir, symlink, unlink} from 'node:fs/promises'
import path from 'node:path'

import {git} from '../process.js'
import {copyFileVerified, exists, fsyncDir, InTheWay, removeTemp, renameNoReplace} from './disk.js'
import {errnoCode, type Fingerprint, fingerprint, type Kind, lstatOrNull, sha256File, type Tree} from './fingerprint.js'
import {type ItemResult, type MovesStep, reversedStep, runMoves, settleMoves} from './moves.js'

/** One index entry as `git ls-files -s` shows it; `path` is relative to the repository. */
export interface IndexEntry {
  mode: string
  sha: string
  stage: string
  path: string
}

export type Step =
  /** A folder to a free place on the same file system: one atomic rename. Its contents are listed so undo can tell whether they changed. */
  | {op: 'rename'; from: string; to: string; item: Fingerprint; tree?: Tree; backup?: true}
  /** Files and links, many at once: each renamed, or copied across file systems (see moves.ts). */
  | MovesStep
  | {op: 'mkdir'; path: string; mode: number}
  /** Only ever a folder this run emptied. */
  | {op: 'rmdir'; path: string; mode: number}
  | {op: 'symlink'; path: string; target: string}
  | {op: 'chmod'; path: string; kind: Kind; from: number; to: number}
  /** New content (only its hash is recorded) replaces the file; the old one lives on in `backup` (null: the file was created). */
  | {op: 'write'; path: string; tmp: string; backTmp: string; backup: string | null; old: Fingerprint; sha256: string; size: number; mode: number}
  | {op: 'untrack'; repo: string; path: string; entries: IndexEntry[]}

export type StepState = 'before' | 'after'
export type Direction = 'forward' | 'reverse'

/** What a step left, when only the disk knows it afterwards: a copy's real times, an edit's hash, where each item of a batch is. */
export interface StepResult {
  after?: Fingerprint
  items?: ItemResult[]
}

export interface StepIO {
  env: NodeJS.ProcessEnv
  /** Called between two disk effects inside a step (the kill tests stop the process there). */
  checkpoint(label: string): void
}

/** A crash left a step in a state we cannot read as done or not done: a person must look. */
export class StuckStep extends Error {}

const stuck = (step: Step, why: string) => new StuckStep(`cannot tell whether "${step.op} ${'path' in step ? step.path : step.from}" happened: ${why}`)

export function relativeTo(repo: string, p: string): string {
  return path.relative(repo, p).split(path.sep).join('/')
}

/** `git ls-files -s -z` parsed. */
export function parseIndex(stdout: string): IndexEntry[] {
  return stdout
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t')
      const [mode = '', sha = '', stage = ''] = line.slice(0, tab).split(' ')
      return {mode, sha, stage, path: line.slice(tab + 1)}
    })
}

export async function indexEntries(repo: string, p: string, env: NodeJS.ProcessEnv): Promise<IndexEntry[]> {
  const result = await git(repo, ['ls-files', '-s', '-z', '--', relativeTo(repo, p)], {env})
  if (result.exitCode !== 0) throw new Error(`git ls-files failed in ${repo}: ${result.stderr.trim().split('\n')[0] ?? ''}`)
  return parseIndex(result.stdout)
}

async function gitOrThrow(repo: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<void> {
  const result = await git(repo, args, {env, input})
  if (result.exitCode !== 0) throw new Error(`git ${args[0]} failed in ${repo}: ${result.stderr.trim().split('\n')[0] ?? `exit ${result.exitCode}`}`)
}

async function writeNew(tmp: string, content: string, mode: number): Promise<void> {
  const handle = await open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await chmod(tmp, mode)
}

/** Same content at two paths: the same inode (a hard link) or the same bytes. */
async function identical(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([lstatOrNull(a), lstatOrNull(b)])
  if (!x || !y) return false
  if (x.dev === y.dev && x.ino === y.ino) return true
  return x.isFile() && y.isFile() && x.size === y.size && (await sha256File(a)) === (await sha256File(b))
}

/** Carries a step out; returns what it left when that is only known afterwards (a batch's items, an edit's hash). */
export async function runStep(step: Step, io: StepIO, content?: string): Promise<StepResult> {
  switch (step.op) {
    case 'rename':
      await renameNoReplace(step.from, step.to)
      return {}
    case 'moves':
      return {items: await runMoves(step, io)}
    case 'mkdir':
      if (await exists(step.path)) throw new InTheWay(`${step.path} already exists`)
      await mkdir(step.path)
      await chmod(step.path, step.mode)
      return {}
    case 'rmdir':
      await rmdir(step.path)
      return {}
    case 'symlink':
      await symlink(step.target, step.path)
      return {}
    case 'chmod':
      await chmod(step.path, step.to)
      return {}
    case 'write':
      return {after: await writeStep(step, io, content)}
    case 'untrack':
      await gitOrThrow(step.repo, ['rm', '--cached', '-r', '-q', '--', relativeTo(step.repo, step.path)], io.env)
      return {}
  }
}

async function writeStep(step: Extract<Step, {op: 'write'}>, io: StepIO, content: string | undefined): Promise<Fingerprint> {
  if (content === undefined) throw new Error('edit: no content to write')
  const now = await fingerprint(step.path, {hash: step.old.kind === 'file' && step.old.sha256 !== undefined})
  if (JSON.stringify(now) !== JSON.stringify(step.old)) throw new Error(`${step.path} changed since it was planned`)
  await removeTemp(step.tmp)
  await writeNew(step.tmp, content, step.mode)
  io.checkpoint('written')
  if (step.backup) {
    try {
      // a second name for the old file: its inode (content, mode, times) lives on in the backup
      await link(step.path, step.backup)
    } catch (error) {
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes(errnoCode(error) ?? '')) throw error
      await copyFileVerified(step.path, step.backup)
    }
    await fsyncDir(path.dirname(step.backup))
    io.checkpoint('backed-up')
    await rename(step.tmp, step.path)
  } else {
    await renameNoReplace(step.tmp, step.path)
  }
  await fsyncDir(path.dirname(step.path))
  return fingerprint(step.path, {hash: true})
}

/** A step this version does not know (a journal written by another version): never guessed at. */
export function unknownStep(step: Step): Error {
  return new Error(`cannot read a "${(step as {op: string}).op}" step: it was recorded by another version of codex-doctor`)
}

/**
 * Takes a step back; the caller has verified that the disk is as the step left it. A batch
 * returns where its items are now: an item that could not go back is still moved.
 */
export async function reverseStep(step: Step, io: StepIO, items?: readonly ItemResult[]): Promise<ItemResult[] | undefined> {
  switch (step.op) {
    case 'rename':
      await renameNoReplace(step.to, step.from)
      return
    case 'moves':
      return stillMoved(items ?? [], await runMoves(reversedStep(step, items ?? []), io))
    case 'mkdir':
      await rmdir(step.path)
      return
    case 'rmdir':
      await mkdir(step.path)
      await chmod(step.path, step.mode)
      return
    case 'symlink': {
      const fp = await fingerprint(step.path)
      if (fp.kind !== 'link' || fp.target !== step.target) throw new Error(`${step.path} is no longer the link this run made`)
      await unlink(step.path)
      return
    }
    case 'chmod':
      await chmod(step.path, step.from)
      return
    case 'write':
      await unwriteStep(step, io)
      return
    case 'untrack': {
      const input = step.entries.map((e) => `${e.mode} ${e.sha} ${e.stage}\t${e.path}\0`).join('')
      await gitOrThrow(step.repo, ['update-index', '--add', '-z', '--index-info'], io.env, input)
      return
    }
    default:
      throw unknownStep(step)
  }
}

async function unwriteStep(step: Extract<Step, {op: 'write'}>, io: StepIO): Promise<void> {
  if (!step.backup) {
    await unlink(step.path)
    return
  }
  try {
    // the old file replaces ours in one rename
    await rename(step.backup, step.path)
  } catch (error) {
    if (errnoCode(error) !== 'EXDEV') throw error
    await removeTemp(step.backTmp)
    await copyFileVerified(step.backup, step.backTmp)
    io.checkpoint('copied')
    await rename(step.backTmp, step.path)
    await fsyncDir(path.dirname(step.path))
    await unlink(step.backup)
  }
}

/**
 * After a crash inside a step: did it happen? Reads the disk, removes our own leftovers (temp
 * copies whose source is still intact) and finishes the one idempotent tail a step can have (a
 * verified copy placed whose source is not yet removed), in the direction the step was going.
 */
export async function classifyStep(step: Step, direction: Direction, io: StepIO): Promise<StepState> {
  switch (step.op) {
    case 'rename': {
      const [from, to] = await Promise.all([exists(step.from), exists(step.to)])
      if (from && !to) return 'before'
      if (!from && to) return 'after'
      throw stuck(step, from ? `both ${step.from} and ${step.to} exist` : `neither ${step.from} nor ${step.to} exists`)
    }
    case 'moves':
      throw new Error('a batch of moves is settled item by item (settleBatch)')
    case 'mkdir':
    case 'rmdir': {
      const fp = await fingerprint(step.path)
      if (fp.kind === 'missing') return step.op === 'mkdir' ? 'before' : 'after'
      if (fp.kind !== 'dir') throw stuck(step, `${step.path} is not a folder`)
      // a crash between mkdir and chmod: finish the chmod
      if (fp.mode !== step.mode && (step.op === 'mkdir') === (direction === 'forward')) await chmod(step.path, step.mode)
      return step.op === 'mkdir' ? 'after' : 'before'
    }
    case 'symlink': {
      const fp = await fingerprint(step.path)
      if (fp.kind === 'missing') return 'before'
      if (fp.kind === 'link' && fp.target === step.target) return 'after'
      throw stuck(step, `${step.path} is not the link this run made`)
    }
    case 'chmod': {
      const fp = await fingerprint(step.path)
      if ('mode' in fp && fp.mode === step.to) return 'after'
      if ('mode' in fp && fp.mode === step.from) return 'before'
      throw stuck(step, `${step.path} has neither mode`)
    }
    case 'write':
      return classifyWrite(step)
    case 'untrack': {
      const entries = await indexEntries(step.repo, step.path, io.env)
      if (entries.length === 0) return 'after'
      if (JSON.stringify(entries) === JSON.stringify(step.entries)) return 'before'
      throw stuck(step, `the index holds other entries for ${step.path}`)
    }
    default:
      throw unknownStep(step)
  }
}

async function classifyWrite(step: Extract<Step, {op: 'write'}>): Promise<StepState> {
  await removeTemp(step.tmp)
  await removeTemp(step.backTmp)
  const now = await fingerprint(step.path, {hash: true})
  const backupThere = step.backup !== null && (await exists(step.backup))
  if (now.kind === 'file' && now.sha256 === step.sha256) {
    if (step.backup && !backupThere) throw stuck(step, `the backup ${step.backup} is missing`)
    return 'after'
  }
  // the old file is in place; a backup made for it (a second link or a copy) is a duplicate
  if (step.backup && backupThere) {
    if (!(await identical(step.path, step.backup))) throw stuck(step, `${step.path} and its backup ${step.backup} differ`)
    await unlink(step.backup)
  }
  return 'before'
}

/** What a step that happened left, when the journal records it (an edit's hash). */
export async function resultOf(step: Step): Promise<Fingerprint | undefined> {
  if (step.op === 'write') return fingerprint(step.path, {hash: true})
  return undefined
}

/** The forward items after some went back: those that went back are no longer moved. */
export function stillMoved(forward: readonly ItemResult[], back: readonly ItemResult[]): ItemResult[] {
  let k = 0
  return forward.map((r) => {
    if (!r.moved) return r
    const b = back[k++]
    return b?.moved ? {moved: false, why: 'undone'} : r
  })
}

/**
 * After a crash inside a batch: where each item is now, read from the disk (see settleMoves).
 * Going back (an undo was under way), the items still to go back stay moved.
 */
export function settleBatch(step: MovesStep, direction: Direction, items?: readonly ItemResult[]): ItemResult[] {
  if (direction === 'forward') return settleMoves(step, items)
  return stillMoved(items ?? [], settleMoves(reversedStep(step, items ?? [])))
}
