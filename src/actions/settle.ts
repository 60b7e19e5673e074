/**
 * After a crash: the run's journal says which step was under way; the disk says whether it
 * happened. Settling writes that down (and tidies our temp copies), so the run can be resumed
 * by the next --fix and undone by `undo`.
 */
import type {JournalLine, RunRecord} from './journal.js'
import {appendToRun} from './runs.js'
import {classifyStep, resultOf, type StepIO} from './steps.js'

/** Whether a run has a step (or an undo of one) that was begun and never marked done. */
export function needsSettling(run: RunRecord): boolean {
  return run.end === undefined || run.steps.some((s) => s.state === 'begun' || s.undo === 'begun') || run.actions.some((a) => a.status === undefined)
}

/** Settles every begun step, ends every open action, and closes the run as interrupted (resumed by `by`). */
export async function settleRun(run: RunRecord, by: string, io: StepIO): Promise<void> {
  const lines: JournalLine[] = []
  for (const s of run.steps) {
    if (s.state === 'begun') {
      const state = await classifyStep(s.step, 'forward', io)
      const after = state === 'after' ? await resultOf(s.step) : undefined
      lines.push({t: 'settled', n: s.n, state, by, ...(after ? {after} : {})})
    }
    if (s.undo === 'begun' && (await classifyStep(s.step, 'reverse', io)) === 'before') lines.push({t: 'undo-done', n: s.n})
  }
  for (const a of run.actions) if (a.status === undefined) lines.push({t: 'action-end', a: a.a, status: 'interrupted'})
  if (run.end === undefined) lines.push({t: 'end', at: new Date().toISOString(), status: 'interrupted', resumedBy: by})
  if (lines.length > 0) await appendToRun(run, lines)
}
