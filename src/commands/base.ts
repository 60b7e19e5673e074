import {Command, Errors} from '@oclif/core'

import {UsageError} from '../errors.js'
import {reportFailure} from './failure.js'

/** Every command ends bad input the same way: one line on stderr, exit code 2, no stack trace. */
export abstract class BaseCommand extends Command {
  protected usageError(message: string): never {
    throw new UsageError(message)
  }

  override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error
    const isUsage = error instanceof UsageError || (error instanceof Errors.CLIError && (error.oclif?.exit === 2 || /flag|argument|expected|option/i.test(error.message)))
    process.exitCode = reportFailure(error, isUsage)
    this.exit(process.exitCode)
  }
}
