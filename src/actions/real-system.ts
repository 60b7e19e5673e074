/**
 * The system that changes the disk. Each action becomes steps; each step is written to the
 * run's journal (fsync) before it happens and marked done after; whatever leaves its place is
 * renamed into the run's backup first. Nothing is ever deleted or overwritten.
 * Files and links that move are gathered into batches (one step for many files, see moves.ts);
 * a folder whose destination is free moves in one rename when it can.
 */
import {createHash} from 'node:crypto'
import {readdirSync, statSync} from 'node:fs'
import {realpath, stat} from 'node:fs/promises'
import path from 'node:path'

import {isInside} from '../context/chain.js'
import {tempNameFor} from './disk.js'
import {errnoCode, type Fingerprint, fingerprint, fingerprintSync, listTree} from './fingerprint.js'
import {endsOf, type ItemResult, type MoveItem, type MovesStep} from './moves.js'
import type {RunJournal} from './runs.js'
import {classifyStep, indexEntries, resultOf, runStep, settleBatch, type Step, type StepIO} from './steps.js'
import type {Effect, System} from './system.js'
import type {Action} from './types.js'

export interface RealSystemOptions {
  env: NodeJS.ProcessEnv
  /** Tests only: move as if every destination were on another file system (copy, verify, then remove). */
  forceCopy?: boolean
  /** Tests only: called between any two disk effects (the kill tests stop the process there). */
  checkpoint?: (label: string) => void
}

const DEFAULT_FOLDER_MODE = 0o755
/** A batch: one journal line and one fsync for this many files; as many sources stay open until it ends. */
export const BATCH_ITEMS = 500
const BATCH_BYTES = 64 * 1024 * 1024

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] || 'unknown error'
}

const skipped = (reason: string): Effect => ({status: 'skipped', reason, backups: []})

/** `p` with the links among its folders resolved (not its own last component, which is moved as it is). */
async function throughFolders(p: string): Promise<string> {
  try {
    return path.join(await realpath(path.dirname(p)), path.basename(p))
  } catch {
    return path.resolve(p)
  }
}

/** `p` under `root`, `/`-separated; null when it is not under it. */
function under(root: string, p: string): string | null {
  const rel = path.relative(root, p)
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? null : rel.split(path.sep).join('/')
}

/** One batch item for `from` → `to`, relative to the batch's folders where it can be. */
export function itemOf(batch: Pick<MovesStep, 'from' | 'to'>, from: string, to: string, item: Fingerprint, backup: boolean): MoveItem {
  const rel = under(batch.from, from)
  const base: MoveItem = {path: rel ?? path.basename(from), item, ...(rel === null ? {from} : {}), ...(backup ? {backup: true as const} : {})}
  return endsOf(batch, base).to === to ? base : {...base, to}
}

/** Whether a rename from `from` to a new entry in `dir` can work: the same device (a bind mount may still say EXDEV). */
function sameDevice(from: string, dir: string): boolean {
  try {
    return statSync(dir).dev === statSync(path.dirname(from)).dev
  } catch {
    return true
  }
}

interface Batch {
  from: string
  to: string
  items: MoveItem[]
  bytes: number
}

export class JournaledSystem implements System {
  private backups: string[] = []
  private readonly io: StepIO
  private batch: Batch | null = null
  /** Source folders whose items all left, deepest first: removed once the last batch is done. */
  private emptied: string[] = []

  constructor(
    private readonly run: RunJournal,
    private readonly options: RealSystemOptions,
  ) {
    this.io = {env: options.env, checkpoint: (label) => options.checkpoint?.(label)}
  }

  startAction(action: Action): void {
    this.run.startAction(action)
    this.backups = []
  }

  endAction(status: 'applied' | 'failed' | 'skipped', error?: string): Promise<void> {
    return this.run.endAction(status, error)
  }

  async link(p: string, to: string): Promise<Effect> {
    const now = await fingerprint(p)
    if (now.kind === 'link' && now.target === to) return skipped(`already a link to ${to}`)
    await this.makeParents(p)
    if (now.kind !== 'missing') await this.backUp(p)
    await this.step({op: 'symlink', path: p, target: to})
    return this.applied()
  }

  async move(from: string, to: string): Promise<Effect> {
    const [realFrom, realTo] = await Promise.all([throughFolders(from), throughFolders(to)])
    // through a linked folder, both ends may be one place: "keep the destination's, back up the source's" would empty it
    if (isInside(realTo, realFrom) || isInside(realFrom, realTo)) throw new Error(`cannot move ${from} to ${to}: through links, one is the other or inside it`)
    if ((await fingerprint(from)).kind === 'missing') return skipped(`nothing at ${from}`)
    await this.makeParents(to)
    const errors = await this.finishing(from, to, () => this.moveItem(from, to, false))
    if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0] : `${errors.length} items could not be moved; the first: ${errors[0]}`)
    return this.applied()
  }

  async mkdir(p: string, mode = DEFAULT_FOLDER_MODE): Promise<Effect> {
    const now = await fingerprint(p)
    if (now.kind === 'dir') return skipped('already a folder')
    await this.makeParents(p)
    if (now.kind !== 'missing') await this.backUp(p)
    await this.step({op: 'mkdir', path: p, mode})
    return this.applied()
  }

  async chmod(p: string, mode: number): Promise<Effect> {
    const now = await fingerprint(p)
    if (now.kind === 'missing') throw new Error(`nothing at ${p}`)
    if (now.kind === 'link') throw new Error(`${p} is a link: the mode of what it points to is not changed through it`)
    if (now.mode === mode) return skipped(`already mode ${mode.toString(8)}`)
    await this.step({op: 'chmod', path: p, kind: now.kind, from: now.mode, to: mode})
    return this.applied()
  }

  async edit(p: string, content: string): Promise<Effect> {
    const now = await fingerprint(p, {hash: true})
    const sha256 = createHash('sha256').update(content).digest('hex')
    if (now.kind === 'file' && now.sha256 === sha256) return skipped('already has this content')
    if (now.kind !== 'file' && now.kind !== 'missing') throw new Error(`${p} is not a regular file (${now.kind}): only a file is edited, never through a link`)
    if (now.kind === 'missing') await this.makeParents(p)
    const backup = now.kind === 'file' ? await this.run.backupPathFor(p) : null
    const step: Step = {
      op: 'write',
      path: p,
      tmp: tempNameFor(p, this.run.id),
      backTmp: tempNameFor(p, `${this.run.id}-undo`),
      backup,
      old: now,
      sha256,
      size: Buffer.byteLength(content),
      mode: now.kind === 'file' ? now.mode : 0o644,
    }
    await this.step(step, content)
    if (backup) this.backups.push(backup)
    return this.applied()
  }

  async untrack(repo: string, p: string): Promise<Effect> {
    if (!isInside(p, repo)) throw new Error(`${p} is not inside the repository ${repo}`)
    const entries = await indexEntries(repo, p, this.options.env)
    if (entries.length === 0) return skipped('not tracked')
    await this.step({op: 'untrack', repo, path: p, entries})
    return this.applied()
  }

  private applied(): Effect {
    return {status: 'applied', backups: [...this.backups]}
  }

  /** Journal, act, mark done; a failure is read back from the disk so the journal never claims more or less than happened. */
  private async step(step: Step, content?: string): Promise<ItemResult[] | undefined> {
    const n = await this.run.begin(step)
    this.io.checkpoint('begun')
    let result
    try {
      result = await runStep(step, this.io, content)
    } catch (error) {
      await this.settleFailed(n, step)
      throw error
    }
    this.io.checkpoint('did')
    await this.run.done(n, result)
    this.io.checkpoint('done')
    return result.items
  }

  private async settleFailed(n: number, step: Step): Promise<void> {
    if (step.op === 'moves') {
      const items = settleBatch(step, 'forward')
      return this.run.settled(n, items.some((r) => r.moved) ? 'after' : 'before', {items})
    }
    const state = await classifyStep(step, 'forward', this.io).catch(() => undefined)
    if (state) await this.run.settled(n, state, state === 'after' ? {after: await resultOf(step)} : {})
  }

  /** Missing parent folders, made one by one (each journaled, so undo removes them). */
  private async makeParents(p: string): Promise<void> {
    const missing: string[] = []
    for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
      let st
      try {
        st = await stat(dir)
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error
      }
      if (st) {
        if (!st.isDirectory()) throw new Error(`${dir} is not a folder`)
        break
      }
      missing.unshift(dir)
      if (path.dirname(dir) === dir) break
    }
    for (const dir of missing) await this.step({op: 'mkdir', path: dir, mode: DEFAULT_FOLDER_MODE})
  }

  /** Runs `work` (which queues files into batches), then the last batch and the removal of the folders it emptied. */
  private async finishing(from: string, to: string, work: () => Promise<string[]>): Promise<string[]> {
    await this.flush()
    this.batch = {from, to, items: [], bytes: 0}
    const errors = await work()
    errors.push(...(await this.flush()))
    this.batch = null
    const emptied = this.emptied
    this.emptied = []
    for (const dir of emptied) errors.push(...(await this.removeEmptied(dir)))
    return errors
  }

  /** `p` leaves its place for a fresh place in the run's backup, before the action goes on. */
  private async backUp(p: string): Promise<void> {
    const backup = await this.run.backupPathFor(p)
    const errors = await this.finishing(path.dirname(p), path.dirname(backup), () => this.moveItem(p, backup, true))
    if (errors.length > 0) throw new Error(`could not back up ${p}: ${errors[0]}`)
    this.backups.push(backup)
  }

  /** Inside a move: `p` goes to the backup along with the rest of the batch. */
  private async toBackup(p: string): Promise<string[]> {
    const backup = await this.run.backupPathFor(p)
    this.backups.push(backup)
    return this.moveItem(p, backup, true)
  }

  /**
   * Moves one item; returns what could not be moved (a merge goes on with the other items).
   * `free`: `to` is known to be free (its folder was just made by this run).
   */
  private async moveItem(from: string, to: string, backup: boolean, free = false): Promise<string[]> {
    try {
      const source = fingerprintSync(from)
      if (source.kind === 'missing') return []
      const destination: Fingerprint = free ? {kind: 'missing'} : fingerprintSync(to)
      if (destination.kind === 'missing') return await this.place(from, to, source, backup)
      if (source.kind === 'dir' && destination.kind === 'dir') return await this.merge(from, to, backup)
      // both ends hold something: the destination's stays, the source's goes to the backup
      return await this.toBackup(from)
    } catch (error) {
      return [`${from}: ${message(error)}`]
    }
  }

  private async merge(from: string, to: string, backup: boolean, free = false): Promise<string[]> {
    const errors: string[] = []
    for (const name of readdirSync(from).sort()) errors.push(...(await this.moveItem(path.join(from, name), path.join(to, name), backup, free)))
    // children come first in this list: a folder is removed after what was in it
    this.emptied.push(from)
    return errors
  }

  /** A folder whose every item moved out is removed (its mode is journaled; undo makes it again). */
  private async removeEmptied(dir: string): Promise<string[]> {
    try {
      const fp = fingerprintSync(dir)
      if (fp.kind !== 'dir' || readdirSync(dir).length > 0) return []
      await this.step({op: 'rmdir', path: dir, mode: fp.mode})
      return []
    } catch (error) {
      return [`${dir}: ${message(error)}`]
    }
  }

  /** Puts `from` at the free place `to`: a folder in one rename when it can, else made and merged; a file or link joins the batch. */
  private async place(from: string, to: string, source: Fingerprint, backup: boolean): Promise<string[]> {
    if (source.kind !== 'dir') return this.queue(from, to, source, backup)
    if (!this.options.forceCopy && sameDevice(from, path.dirname(to))) {
      try {
        await this.step({op: 'rename', from, to, item: source, tree: listTree(from), ...(backup ? {backup: true as const} : {})})
        return []
      } catch (error) {
        if (errnoCode(error) !== 'EXDEV') throw error
      }
    }
    await this.step({op: 'mkdir', path: to, mode: source.mode})
    // a folder this run just made holds nothing yet (another writer there would be raced in any case)
    return this.merge(from, to, backup, true)
  }

  private async queue(from: string, to: string, source: Fingerprint, backup: boolean): Promise<string[]> {
    const batch = (this.batch ??= {from: path.dirname(from), to: path.dirname(to), items: [], bytes: 0})
    batch.items.push(itemOf(batch, from, to, source, backup))
    batch.bytes += source.kind === 'file' ? source.size : 0
    if (batch.items.length < BATCH_ITEMS && batch.bytes < BATCH_BYTES) return []
    return this.flush()
  }

  /** Moves the files and links gathered so far, as one step; returns what could not be moved. */
  private async flush(): Promise<string[]> {
    const batch = this.batch
    if (!batch || batch.items.length === 0) return []
    this.batch = {...batch, items: [], bytes: 0}
    const step: MovesStep = {op: 'moves', from: batch.from, to: batch.to, items: batch.items, tag: this.run.id, ...(this.options.forceCopy ? {copy: true as const} : {})}
    const results = (await this.step(step)) ?? []
    return results.flatMap((r, i) => (r.moved ? [] : [`${endsOf(step, step.items[i]!).from}: ${r.why}`]))
  }
}
