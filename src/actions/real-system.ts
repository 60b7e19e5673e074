/**
 * The system that changes the disk. Each action becomes steps; each step is written to the
 * run's journal (fsync) before it happens and marked done after; whatever leaves its place is
 * renamed into the run's backup first. Nothing is ever deleted or overwritten.
 */
import {createHash} from 'node:crypto'
import {readdir, realpath, stat} from 'node:fs/promises'
import path from 'node:path'

import {isInside} from '../context/chain.js'
import {tempNameFor} from './disk.js'
import {errnoCode, type Fingerprint, fingerprint, listTree} from './fingerprint.js'
import type {RunJournal} from './runs.js'
import {classifyStep, indexEntries, resultOf, runStep, type Step, type StepIO} from './steps.js'
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

export class JournaledSystem implements System {
  private backups: string[] = []
  private readonly io: StepIO

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
    if (now.kind !== 'missing') await this.toBackup(p)
    await this.step({op: 'symlink', path: p, target: to})
    return this.applied()
  }

  async move(from: string, to: string): Promise<Effect> {
    const [realFrom, realTo] = await Promise.all([throughFolders(from), throughFolders(to)])
    // through a linked folder, both ends may be one place: "keep the destination's, back up the source's" would empty it
    if (isInside(realTo, realFrom) || isInside(realFrom, realTo)) throw new Error(`cannot move ${from} to ${to}: through links, one is the other or inside it`)
    if ((await fingerprint(from)).kind === 'missing') return skipped(`nothing at ${from}`)
    await this.makeParents(to)
    const errors = await this.moveItem(from, to, false)
    if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0] : `${errors.length} items could not be moved; the first: ${errors[0]}`)
    return this.applied()
  }

  async mkdir(p: string, mode = DEFAULT_FOLDER_MODE): Promise<Effect> {
    const now = await fingerprint(p)
    if (now.kind === 'dir') return skipped('already a folder')
    await this.makeParents(p)
    if (now.kind !== 'missing') await this.toBackup(p)
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
  private async step(step: Step, content?: string): Promise<void> {
    const n = await this.run.begin(step)
    this.io.checkpoint('begun')
    let after: Fingerprint | undefined
    try {
      after = await runStep(step, this.io, content)
    } catch (error) {
      const state = await classifyStep(step, 'forward', this.io).catch(() => undefined)
      if (state) await this.run.settled(n, state, state === 'after' ? await resultOf(step) : undefined)
      throw error
    }
    this.io.checkpoint('did')
    await this.run.done(n, after)
    this.io.checkpoint('done')
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

  /** `p` leaves its place for a fresh place in the run's backup. */
  private async toBackup(p: string): Promise<void> {
    const backup = await this.run.backupPathFor(p)
    const errors = await this.moveItem(p, backup, true)
    if (errors.length > 0) throw new Error(`could not back up ${p}: ${errors[0]}`)
    this.backups.push(backup)
  }

  /** Moves one item; returns what could not be moved (a merge goes on with the other items). */
  private async moveItem(from: string, to: string, backup: boolean): Promise<string[]> {
    try {
      const source = await fingerprint(from)
      if (source.kind === 'missing') return []
      const destination = await fingerprint(to)
      if (destination.kind === 'missing') return await this.place(from, to, source, backup)
      if (source.kind === 'dir' && destination.kind === 'dir') return await this.merge(from, to, backup)
      // both ends hold something: the destination's stays, the source's goes to the backup
      await this.toBackup(from)
      return []
    } catch (error) {
      return [`${from}: ${message(error)}`]
    }
  }

  private async merge(from: string, to: string, backup: boolean): Promise<string[]> {
    const errors: string[] = []
    for (const name of (await readdir(from)).sort()) errors.push(...(await this.moveItem(path.join(from, name), path.join(to, name), backup)))
    if (errors.length === 0) await this.removeEmptied(from)
    return errors
  }

  /** A folder whose every item moved out is removed (its mode is journaled; undo makes it again). */
  private async removeEmptied(dir: string): Promise<void> {
    const fp = await fingerprint(dir)
    if (fp.kind !== 'dir' || (await readdir(dir)).length > 0) return
    await this.step({op: 'rmdir', path: dir, mode: fp.mode})
  }

  /** Puts `from` at the free place `to`: one rename on the same file system, else a verified copy. */
  private async place(from: string, to: string, source: Fingerprint, backup: boolean): Promise<string[]> {
    const flag = backup ? {backup: true as const} : {}
    if (!this.options.forceCopy) {
      try {
        const tree = source.kind === 'dir' ? await listTree(from) : undefined
        await this.step({op: 'rename', from, to, item: source, ...(tree ? {tree} : {}), ...flag})
        return []
      } catch (error) {
        if (errnoCode(error) !== 'EXDEV') throw error
      }
    }
    if (source.kind === 'dir') {
      await this.step({op: 'mkdir', path: to, mode: source.mode})
      return this.merge(from, to, backup)
    }
    await this.step({op: 'copy', from, to, tmp: tempNameFor(to, this.run.id), backTmp: tempNameFor(from, `${this.run.id}-undo`), item: source, ...flag})
    return []
  }
}
