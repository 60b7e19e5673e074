import type {ActionReport} from '../actions/types.js'
import type {CheckResult} from '../checks/types.js'
import {overallStatus} from '../engine/run-checks.js'
import {VERSION} from '../version.js'

export interface ReportContext {
  codexHome: string
  dotfiles: string | null
  codexBin: string | null
  codexVersion: string | null
}

export interface FixReport {
  runId: string | null
  dryRun: boolean
  actions: ActionReport[]
  /** Interrupted runs (killed mid-way) that this run closed before finishing the job. */
  resumed?: string[]
  /** A running Codex (or a process that may be one) uses what the fix moves: a real run stops, or went on with --ignore-running-codex. */
  runningCodex?: {verdict: 'live' | 'unsure' | 'overridden'; lines: string[]}
}

/** SPEC's JSON document, shaped like `codex doctor --json`. */
export interface JsonReport {
  schemaVersion: 1
  tool: 'codex-doctor'
  version: string
  overallStatus: 'pass' | 'warn' | 'fail'
  context: ReportContext
  checks: Record<string, CheckResult>
  fix: FixReport | null
}

export function jsonReport(results: readonly CheckResult[], context: ReportContext, fix: FixReport | null, strict = false): JsonReport {
  return {
    schemaVersion: 1,
    tool: 'codex-doctor',
    version: VERSION,
    overallStatus: overallStatus(results, strict),
    context,
    checks: Object.fromEntries(results.map((r) => [r.id, r])),
    fix,
  }
}
