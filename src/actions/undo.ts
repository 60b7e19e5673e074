/**
 * `codex-doctor undo`: reverses a run's steps newest first. First it checks that every path the
 * run touched is exactly as the run left it; if one is not, it stops before changing anything
 * and says which. A run that resumed an interrupted one is undone together with it.
 * File times come back exactly (a rename keeps them, a copy sets them); a folder's own time
 * does not (adding and removing its entries changes it).
 */
import path from 'node:path'

import {UsageError} from '../errors.js'
import {type Change, replay, verify} from './expect.js'
import {JournalWriter, type RunRecord, type StepRecord} from './journal.js'
import {acquireLock} from './lock.js'
import {JOURNAL, listRuns, runsDir} from './runs.js'
import {needsSettling, settleRun} from './settle.js'
import {reverseStep, type StepIO} from './steps.js'
import type {ActionOp} from './types.js'
import {byCodePoint} from '../words.js'

export type UndoStatus = 'undone' | 'refused' | 'nothing' | 'already-undone'

export interface UndoneAction {
  run: string
  check: string
  op: ActionOp
  path: string
  to?: string
  mode?: string
}

export interface UndoReport {
  status: UndoStatus
  /** The run asked for (or the latest not undone); null when there is none. */
  runId: string | null
  /** Every run reversed, newest first: the run and the interrupted runs it resumed. */
  runs: string[]
  /** Reversed actions, newest first. */
  actions: UndoneAction[]
  /** refused: each path that is no longer as the run left it. */
  changed: Change[]
  /** already-undone: when. nothing: when the latest run was undone, if there is one. */
  undoneAt?: string
  /** nothing: the latest run recorded (every run is undone). */
  latest?: string
}

export interface UndoOptions {
  runId?: string
  env: NodeJS.ProcessEnv
  /** Tests only: called between any two disk effects (the kill tests stop the process there). */
  checkpoint?: (label: string) => void
}

export type Target = {kind: 'run'; run: RunRecord} | {kind: 'already'; run: RunRecord} | {kind: 'nothing'}

/** The run to undo: the one named, else the latest not undone yet. */
export function pickTarget(runs: readonly RunRecord[], runId: string | undefined, stateDir: string): Target {
  if (runId !== undefined) {
    const run = runs.find((r) => r.id === runId)
    if (!run) throw new UsageError(`no fix run ${runId} in ${runsDir(stateDir)}${runs.length > 0 ? ` (the latest is ${runs.at(-1)!.id})` : ''}`)
    return run.undone ? {kind: 'already', run} : {kind: 'run', run}
  }
  const latest = runs.filter((r) => !r.undone).at(-1)
  return latest ? {kind: 'run', run: latest} : {kind: 'nothing'}
}

/** The run and, through `resumes`, the interrupted runs it finished, newest first (undone ones left out). */
export function chainOf(run: RunRecord, runs: readonly RunRecord[]): RunRecord[] {
  const byId = new Map(runs.map((r) => [r.id, r]))
  const chain: RunRecord[] = []
  const visit = (r: RunRecord) => {
    if (r.undone || chain.includes(r)) return
    chain.push(r)
    for (const id of r.header.resumes ?? []) {
      const earlier = byId.get(id)
      if (earlier) visit(earlier)
    }
  }
  visit(run)
  return chain.sort((x, y) => byCodePoint(y.header.started, x.header.started) || byCodePoint(y.id, x.id))
}

/** Steps that happened and are not reversed yet, in the order they happened. */
export function stepsToReverse(run: RunRecord): StepRecord[] {
  return run.steps.filter((s) => s.state === 'done' && s.undo !== 'done')
}

export function undoneActions(chain: readonly RunRecord[]): UndoneAction[] {
  return chain.flatMap((run) => {
    const withSteps = new Set(run.steps.filter((s) => s.state === 'done').map((s) => s.a))
    return run.actions
      .filter((a) => withSteps.has(a.a))
      .reverse()
      .map((a) => ({run: run.id, check: a.check, op: a.op, path: a.path, ...(a.to ? {to: a.to} : {}), ...(a.mode ? {mode: a.mode} : {})}))
  })
}

async function reverseRun(run: RunRecord, io: StepIO): Promise<void> {
  const writer = await JournalWriter.open(path.join(run.dir, JOURNAL))
  try {
    for (const s of stepsToReverse(run).reverse()) {
      await writer.write({t: 'undo-begin', n: s.n}, {sync: true})
      io.checkpoint('undo-begun')
      const items = await reverseStep(s.step, io, s.items)
      io.checkpoint('undo-did')
      if (items) {
        await writer.write({t: 'items', n: s.n, items})
        // an item that could not go back (it changed while it was copied back): the next undo carries on from here
        const left = items.filter((r) => r.moved).length
        if (left > 0) throw new Error(`${left} moved item${left === 1 ? '' : 's'} could not go back (changed while being copied back?); nothing is lost: run codex-doctor undo again`)
      }
      await writer.write({t: 'undo-done', n: s.n})
    }
    await writer.write({t: 'undone', at: new Date().toISOString()}, {sync: true})
  } finally {
    await writer.close()
  }
}

export async function undoRun(stateDir: string, options: UndoOptions): Promise<UndoReport> {
  const none: UndoReport = {status: 'nothing', runId: null, runs: [], actions: [], changed: []}
  // nothing recorded: answer without creating the state folder
  const recorded = await listRuns(stateDir)
  if (recorded.length === 0 && options.runId === undefined) return none
  const io: StepIO = {env: options.env, checkpoint: (label) => options.checkpoint?.(label)}
  const lock = await acquireLock(stateDir, 'undo', {checkpoint: io.checkpoint})
  try {
    let runs = await listRuns(stateDir)
    const target = pickTarget(runs, options.runId, stateDir)
    const latest = runs.at(-1)
    if (target.kind === 'nothing') return latest ? {...none, latest: latest.id, undoneAt: latest.undone} : none
    if (target.kind === 'already') return {...none, status: 'already-undone', runId: target.run.id, undoneAt: target.run.undone}

    // a crash (of a fix or of an earlier undo) left a step half-told: read it from the disk first
    for (const run of chainOf(target.run, runs)) if (needsSettling(run)) await settleRun(run, 'undo', io)
    runs = await listRuns(stateDir)
    const chain = chainOf(runs.find((r) => r.id === target.run.id)!, runs)

    const inOrder = [...chain].reverse().flatMap((run) => stepsToReverse(run).map((s) => ({step: s.step, after: s.after, items: s.items})))
    const changed = await verify(replay(inOrder), options.env)
    const report: UndoReport = {status: 'undone', runId: target.run.id, runs: chain.map((r) => r.id), actions: undoneActions(chain), changed}
    if (changed.length > 0) return {...report, status: 'refused', actions: []}
    for (const run of chain) await reverseRun(run, io)
    return report
  } finally {
    await lock.release()
  }
}
