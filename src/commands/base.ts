import {Command, Errors} from '@oclif/core'

import {UsageError} from '../errors.js'

/** oclif's parse errors span lines ("The following error occurred:\n  --x …\nSee more help…"): keep the substance. */
export function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(The following errors? occurred:|See more help with)/.test(l))
  return lines.join(' ').replace(/^Error: /, '') || 'unknown error'
}

/** Every command ends bad input the same way: one line on stderr, exit code 2, no stack trace. */
export abstract class BaseCommand extends Command {
  protected usageError(message: string): never {
    throw new UsageError(message)
  }

  override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    const isUsage = error instanceof UsageError || error instanceof Errors.CLIError && error.constructor.name !== 'ExitError' && (error.oclif?.exit === 2 || /flag|argument|expected|option/i.test(error.message))
    if (error instanceof Errors.ExitError) throw error
    const lines = 'lines' in error && Array.isArray(error.lines) ? (error.lines as string[]) : [oneLine(error.message)]
    process.stderr.write(lines.map((l) => `codex-doctor: ${l}\n`).join(''))
    if (isUsage && !('lines' in error)) process.stderr.write(`Run codex-doctor --help for usage.\n`)
    process.exitCode = isUsage ? 2 : 1
    this.exit(process.exitCode)
  }
}
