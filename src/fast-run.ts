/**
 * A `codex-doctor [CHECK_ID...] [FLAGS]` run that the fast path (cli.ts) has parsed: everything it
 * loads is this module's bundle file (dist/bundle/doctor.cjs, scripts/build.js). It ends in an exit
 * code, never a throw: an error is reported here, where its class is the one the checks threw.
 */
import type {DoctorFlags} from './commands/doctor-flags.js'
import {reportFailure} from './commands/failure.js'
import {runDoctor} from './commands/run-doctor.js'
import {locateEarly} from './context/locate.js'

export async function runParsed(parsed: {ids: string[]; flags: DoctorFlags}): Promise<number> {
  try {
    // the repository is located and its listing (git, a process) started first: it runs while the
    // context is resolved. Not for a fixer, which takes its lock before it looks at anything.
    const fixing = parsed.flags.fix && !parsed.flags['dry-run']
    const early = fixing ? null : await locateEarly({codexHome: parsed.flags['codex-home'], dotfiles: parsed.flags.dotfiles})
    return await runDoctor(parsed.ids, parsed.flags, Promise.resolve(early))
  } catch (error) {
    return reportFailure(error instanceof Error ? error : new Error(String(error)))
  }
}
