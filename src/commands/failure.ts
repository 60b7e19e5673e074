/** How every way into codex-doctor ends on an error: one line (or the lines of a RunningCodexError) on stderr, no stack trace. */
import {UsageError} from '../errors.js'

/** oclif's parse errors span lines ("The following error occurred:\n  --x …\nSee more help…"): keep the substance. */
export function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(The following errors? occurred:|See more help with)/.test(l))
  return lines.join(' ').replace(/^Error: /, '') || 'unknown error'
}

/** Prints the error for a user; the exit code (2 for bad usage or configuration, else 1). */
export function reportFailure(error: Error, isUsage = error instanceof UsageError): 1 | 2 {
  const lines = 'lines' in error && Array.isArray(error.lines) ? (error.lines as string[]) : [oneLine(error.message)]
  process.stderr.write(lines.map((l) => `codex-doctor: ${l}\n`).join(''))
  if (isUsage && !('lines' in error)) process.stderr.write('Run codex-doctor --help for usage.\n')
  return isUsage ? 2 : 1
}
