import type {Action} from '../actions/types.js'
import type {Context} from '../context/types.js'

/** Ordered by severity: the worst status of a run decides its exit code. */
export const STATUSES = ['pass', 'skip', 'warn', 'fail', 'error'] as const
export type Status = (typeof STATUSES)[number]

export interface Remediation {
  text: string
  /** Commands a user (or a UI) may run as they are, and nothing else. */
  commands: string[]
  /** True when `--fix` repairs this problem by itself. */
  automatic: boolean
}

/** What a check returns; the engine adds id, title and duration. */
export interface Outcome {
  status: Status
  summary: string
  details?: Record<string, unknown>
  remediation?: Partial<Remediation> & {text: string}
}

/** One check's verdict, as rendered by both the human and the JSON report. */
export interface CheckResult {
  id: string
  title: string
  status: Status
  summary: string
  details: Record<string, unknown>
  remediation: Remediation | null
  durationMs: number
}

export interface Check {
  id: string
  title: string
  /** Default 10 s; the engine turns an overrun into status `error`. */
  timeoutMs?: number
  run(ctx: Context): Promise<Outcome>
  /** The actions that repair what `run` found; only called for a result that is not a pass. */
  plan?(ctx: Context, result: CheckResult): Promise<Action[]> | Action[]
}

export const pass = (summary: string, details?: Record<string, unknown>): Outcome => ({status: 'pass', summary, details})
export const skip = (summary: string, details?: Record<string, unknown>): Outcome => ({status: 'skip', summary, details})
