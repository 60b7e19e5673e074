/**
 * After a crash: the run's journal says which step was under way; the disk says whether it
 * happened. Settling writes that down (and tidies our temp copies), so the run can be resumed
 * by the next --fix and undone by `undo`. A batch of moves is settled item by item.
 */
import type {JournalLine, RunRecord, StepRecord} from './journal.js'
import {appendToRun} from './runs.js'
import {classifyStep, resultOf, settleBatch, type StepIO} from './steps.js'

/** Whether a run has a step (or an undo of one) that was begun and never marked done. */
export function needsSettling(run: RunRecord): boolean {
  return run.end === undefined || run.steps.some((s) => s.state === 'begun' || s.undo === 'begun') || run.actions.some((a) => a.status === undefined)
}

/** The line that says what a begun step did. */
async function settledLine(s: StepRecord, by: string, io: StepIO): Promise<JournalLine> {
  if (s.step.op === 'moves') {
    const items = settleBatch(s.step, 'forward', s.items)
    return {t: 'settled', n: s.n, state: items.some((r) => r.moved) ? 'after' : 'before', items, by}
  }
  const state = await classifyStep(s.step, 'forward', io)
  const after = state === 'after' ? await resultOf(s.step) : undefined
  return {t: 'settled', n: s.n, state, by, ...(after ? {after} : {})}
}

/** The lines that say how far an interrupted undo of a step got: all the way, or (a batch) some items. */
async function undoneLines(s: StepRecord, io: StepIO): Promise<JournalLine[]> {
  if (s.step.op === 'moves') {
    const items = settleBatch(s.step, 'reverse', s.items)
    return items.some((r) => r.moved) ? [{t: 'items', n: s.n, items}] : [{t: 'items', n: s.n, items}, {t: 'undo-done', n: s.n}]
  }
  return (await classifyStep(s.step, 'reverse', io)) === 'before' ? [{t: 'undo-done', n: s.n}] : []
}

/** Settles every begun step, ends every open action, and closes the run as interrupted (resumed by `by`). */
export async function settleRun(run: RunRecord, by: string, io: StepIO): Promise<void> {
  const lines: JournalLine[] = []
  for (const s of run.steps) {
    if (s.state === 'begun') lines.push(await settledLine(s, by, io))
    if (s.undo === 'begun') lines.push(...(await undoneLines(s, io)))
  }
  for (const a of run.actions) if (a.status === undefined) lines.push({t: 'action-end', a: a.a, status: 'interrupted'})
  if (run.end === undefined) lines.push({t: 'end', at: new Date().toISOString(), status: 'interrupted', resumedBy: by})
  if (lines.length > 0) await appendToRun(run, lines)
}
