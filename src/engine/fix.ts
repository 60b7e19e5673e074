import {DryRunSystem} from '../actions/dry-run-system.js'
import {acquireLock} from '../actions/lock.js'
import {JournaledSystem, type RealSystemOptions} from '../actions/real-system.js'
import {isUnfinished, listRuns, RunJournal} from '../actions/runs.js'
import {settleRun} from '../actions/settle.js'
import {applyPlan, type System} from '../actions/system.js'
import type {Action, ActionReport} from '../actions/types.js'
import type {Check, CheckResult} from '../checks/types.js'
import type {Context} from '../context/types.js'
import type {FixReport} from '../report/json.js'
import {raceCheck, stopIfRacing} from './live-codex.js'
import {runChecks} from './run-checks.js'

export interface FixOptions {
  dryRun: boolean
  /**
   * The caller took the fix lock before it ran the checks behind `results`, so the plan is
   * current. Without it, fixRun takes the lock and looks at the disk again under it: another
   * fixer may have changed it between those checks and the lock.
   */
  lockHeld?: boolean
  /** --ignore-running-codex: go on when a process that may be Codex could not be inspected (never when one is seen using the files). */
  ignoreRunningCodex?: boolean
  /** Tests only: force the cross-file-system path, or stop the process between two disk effects. */
  system?: Pick<RealSystemOptions, 'forceCopy' | 'checkpoint'>
}

/** A run that closed interrupted runs says which (JSON `fix.resumed`). */
export type FixRunReport = FixReport

export function needsFix(result: CheckResult): boolean {
  return result.status !== 'pass' && result.status !== 'skip'
}

/** What an action changes, whichever check planned it and however it explains itself. */
function changeOf(action: Action): string {
  const {check: _check, note: _note, ...what} = action
  return JSON.stringify({...what, diff: undefined})
}

/** The same change planned by two checks is made once: the first check's action is kept. */
export function dedupe(actions: readonly Action[], made: Set<string> = new Set()): Action[] {
  return actions.filter((action) => {
    const key = changeOf(action)
    if (made.has(key)) return false
    made.add(key)
    return true
  })
}

async function planOf(check: Check, ctx: Context, result: CheckResult): Promise<Action[]> {
  try {
    return await check.plan!(ctx, result)
  } catch (error) {
    throw new Error(`${check.id}: could not plan its fix: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** The actions of every check that did not pass, in the order of `checks` (codex-home before links before stray-state…). */
export async function planFixes(ctx: Context, checks: readonly Check[], results: readonly CheckResult[]): Promise<Action[]> {
  const byId = new Map(results.map((r) => [r.id, r]))
  const planned: Action[] = []
  for (const check of checks) {
    const result = byId.get(check.id)
    if (!check.plan || !result || !needsFix(result)) continue
    planned.push(...(await planOf(check, ctx, result)))
  }
  return dedupe(planned)
}

/**
 * Each check plans from the disk as the fixes before it left it, and its actions are applied
 * before the next check plans: the .gitignore edit is planned after the state has left the
 * repository, a link after CODEX_HOME became a folder. (A dry run can only plan them all at once.)
 */
export async function applyInTurn(system: System, ctx: Context, checks: readonly Check[], results: readonly CheckResult[]): Promise<ActionReport[]> {
  const byId = new Map(results.map((r) => [r.id, r]))
  const made = new Set<string>()
  const reports: ActionReport[] = []
  for (const check of checks) {
    const result = byId.get(check.id)
    if (!check.plan || !result || !needsFix(result)) continue
    const applied = await applyPlan(system, dedupe(await planOf(check, ctx, result), made))
    // what the next check reads (the declared links, git's answers) may have just changed
    if (applied.some((a) => a.status === 'applied')) ctx.refresh?.()
    reports.push(...applied)
  }
  return reports
}

/**
 * Plans the fixes and, unless it is a dry run, applies them under the lock as one journaled run.
 * An interrupted run found in the state folder is settled and closed first, and the plan is
 * made again from a fresh look at the disk, so the new run finishes the job.
 */
export async function fixRun(ctx: Context, checks: readonly Check[], results: readonly CheckResult[], options: FixOptions): Promise<FixRunReport> {
  const actions = await planFixes(ctx, checks, results)
  // a dry run says what the real one would run into; the real one stops before it changes anything
  const race = ctx.dotfiles ? await raceCheck(actions, ctx, options.ignoreRunningCodex ?? false) : null
  if (options.dryRun) {
    const report: FixRunReport = {runId: null, dryRun: true, actions: await applyPlan(new DryRunSystem(), actions)}
    return race && race.verdict !== 'clear' ? {...report, runningCodex: {verdict: race.verdict, lines: race.lines}} : report
  }
  stopIfRacing(race)
  // a healthy setup takes no lock and records nothing (SPEC rule 2)
  if (actions.length === 0 && !(await listRuns(ctx.stateDir)).some(isUnfinished)) return {runId: null, dryRun: false, actions: []}

  const lock = options.lockHeld ? null : await acquireLock(ctx.stateDir, 'fix')
  try {
    if (lock) ctx.refresh?.()
    let current = lock ? await runChecks(checks, ctx) : results
    const journal = await RunJournal.create(ctx.stateDir)
    const checkpoint = options.system?.checkpoint
    const interrupted = (await listRuns(ctx.stateDir)).filter(isUnfinished)
    if (interrupted.length > 0) {
      journal.resumes = interrupted.map((r) => r.id)
      await journal.open()
      for (const run of interrupted) await settleRun(run, journal.id, {env: ctx.env, checkpoint: (label) => checkpoint?.(label)})
      ctx.refresh?.()
      current = await runChecks(checks, ctx)
    }
    const forceCopy = options.system?.forceCopy ?? ctx.env.CODEX_DOCTOR_FORCE_COPY === '1'
    let reports: ActionReport[]
    try {
      reports = await applyInTurn(new JournaledSystem(journal, {env: ctx.env, forceCopy, checkpoint}), ctx, checks, current)
    } finally {
      // a planner that throws half-way still leaves a closed run that undo can take back
      await journal.close()
    }
    const report: FixRunReport = {
      runId: journal.opened ? journal.id : null,
      dryRun: false,
      actions: reports,
      ...(interrupted.length > 0 ? {resumed: journal.resumes} : {}),
      ...(race?.verdict === 'overridden' ? {runningCodex: {verdict: 'overridden' as const, lines: race.lines}} : {}),
    }
    return report
  } finally {
    await lock?.release()
  }
}
