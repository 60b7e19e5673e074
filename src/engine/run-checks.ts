import type {Check, CheckResult, Outcome, Remediation, Status} from '../checks/types.js'
import {STATUSES} from '../checks/types.js'
import type {Context} from '../context/types.js'
import {now} from '../clock.js'

export const DEFAULT_TIMEOUT_MS = 10_000

class Timeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), ms)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

/** One line: a thrown error never carries a stack trace into the report. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] || 'unknown error'
}

export function toResult(check: Pick<Check, 'id' | 'title'>, outcome: Outcome, durationMs: number): CheckResult {
  const remediation: Remediation | null = outcome.remediation
    ? {text: outcome.remediation.text, commands: outcome.remediation.commands ?? [], automatic: outcome.remediation.automatic ?? false}
    : null
  return {id: check.id, title: check.title, status: outcome.status, summary: outcome.summary, details: outcome.details ?? {}, remediation, durationMs}
}

/**
 * The work of checks that overran their limit: the report no longer waits for it, but it still
 * runs, and it cleans up after itself (a throwaway folder in the temp folder, a killed process).
 */
const overrun = new Set<Promise<unknown>>()

/** Settles when the work of every check that overran has ended: a run must not exit before (cli.ts exits early). */
export async function overrunSettled(): Promise<void> {
  await Promise.all(overrun)
}

/** Runs one check within its time limit; a throw or an overrun becomes status `error`. */
export async function runCheck(check: Check, ctx: Context): Promise<CheckResult> {
  const started = now()
  const limit = check.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let outcome: Outcome
  // a check that throws before its first await still rejects here, inside the try
  const work = (async () => check.run(ctx))()
  try {
    outcome = await withTimeout(work, limit)
  } catch (error) {
    if (error instanceof Timeout) {
      const ended: Promise<unknown> = work.catch(() => undefined).finally(() => overrun.delete(ended))
      overrun.add(ended)
    }
    outcome =
      error instanceof Timeout
        ? {status: 'error', summary: `did not finish within ${limit / 1000} s`}
        : {status: 'error', summary: `could not run: ${reasonOf(error)}`}
  }
  return toResult(check, outcome, Math.round(now() - started))
}

export interface RunHooks {
  onStart?(check: Check): void
  onResult?(result: CheckResult): void
}

/** Starts every check at once; the results come back in the order of `checks`. */
export async function runChecks(checks: readonly Check[], ctx: Context, hooks: RunHooks = {}): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (check) => {
      hooks.onStart?.(check)
      const result = await runCheck(check, ctx)
      hooks.onResult?.(result)
      return result
    }),
  )
}

export function worst(statuses: readonly Status[]): Status {
  return statuses.reduce<Status>((a, b) => (STATUSES.indexOf(b) > STATUSES.indexOf(a) ? b : a), 'pass')
}

/** `pass | warn | fail` for the JSON report: `error` counts as a failure, `skip` as a pass. */
export function overallStatus(results: readonly CheckResult[], strict = false): 'pass' | 'warn' | 'fail' {
  const w = worst(results.map((r) => r.status))
  if (w === 'error' || w === 'fail') return 'fail'
  if (w === 'warn') return strict ? 'fail' : 'warn'
  return 'pass'
}

/** SPEC: 0 no failure (warnings allowed unless --strict), 1 a check failed or could not run. */
export function exitCodeOf(results: readonly CheckResult[], strict = false): 0 | 1 {
  return overallStatus(results, strict) === 'fail' ? 1 : 0
}
