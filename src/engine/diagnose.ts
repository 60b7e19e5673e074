import type {Check, CheckResult} from '../checks/types.js'
import type {Context} from '../context/types.js'
import type {FixReport} from '../report/json.js'
import {runChecks, toResult, type RunHooks} from './run-checks.js'

/** Shows checks while they run (listr2 on a TTY); resolves when `work` does. */
export type LiveView = (checks: readonly Check[], work: (hooks: RunHooks) => Promise<CheckResult[]>) => Promise<CheckResult[]>

export interface DiagnoseOptions {
  skipped: ReadonlySet<string>
  fix: {dryRun: boolean; ignoreRunningCodex?: boolean} | null
  live?: LiveView
}

/** Runs the selected checks (skipped ones report `skip`); with `fix`, plans and applies fixes and runs them again. */
export async function diagnose(ctx: Context, selected: readonly Check[], options: DiagnoseOptions): Promise<{results: CheckResult[]; fix: FixReport | null}> {
  const active = selected.filter((c) => !options.skipped.has(c.id))
  const check = async (): Promise<CheckResult[]> => {
    const run = (hooks: RunHooks) => runChecks(active, ctx, hooks)
    const ran = options.live ? await options.live(active, run) : await run({})
    const byId = new Map(ran.map((r) => [r.id, r]))
    return selected.map((c) => byId.get(c.id) ?? toResult(c, {status: 'skip', summary: 'skipped (--skip or codex-doctor.toml)'}, 0))
  }

  // a fixer locks before it looks, so that what it plans is what it finds when it acts
  // the fix engine is loaded only for --fix
  const lock = options.fix && !options.fix.dryRun ? await (await import('../actions/lock.js')).acquireLock(ctx.stateDir, 'fix') : null
  try {
    const results = await check()
    if (!options.fix) return {results, fix: null}
    const {fixRun} = await import('./fix.js')
    const fix = await fixRun(ctx, active, results, {dryRun: options.fix.dryRun, lockHeld: lock !== null, ignoreRunningCodex: options.fix.ignoreRunningCodex})
    if (options.fix.dryRun || fix.actions.every((a) => a.status !== 'applied')) return {results, fix}
    ctx.refresh()
    return {results: await check(), fix}
  } finally {
    await lock?.release()
  }
}
