import {Flags, type Interfaces} from '@oclif/core'

import {BaseCommand} from './base.js'
import {DOCTOR_FLAGS, type DoctorFlags, type FlagSpec} from './doctor-flags.js'
import {runDoctor} from './run-doctor.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Check (and with --fix, repair) a Codex setup linked from a dotfiles repository.'

  static override description = `Runs every check at once, or only the CHECK_IDs named, and prints a verdict per check with what to do about each problem.

Other commands:
  codex-doctor checks          list check ids and titles
  codex-doctor undo [RUN_ID]   reverse the latest (or the given) --fix run
  codex-doctor demo            the whole story in a throwaway sandbox

--fix never races a running Codex: before it moves Codex's state out of the repository it looks for Codex processes using it (Linux: /proc; macOS: ps and lsof); if one does, it changes nothing, names the process and exits 2. Quit that Codex and run again. --ignore-running-codex lets it go on when a process could not be inspected at all (another user's, a /proc mounted with hidepid).

Exit codes: 0 no failure (warnings allowed unless --strict), 1 a check failed or could not run, 2 bad usage or configuration, another --fix running, or a running Codex in the way.`

  static override usage = ['[CHECK_ID...] [FLAGS]']

  static override examples = [
    {description: 'After `just switch`:', command: '<%= config.bin %>'},
    {description: 'Only the links and the secrets, as JSON for CI:', command: '<%= config.bin %> links secrets --json'},
    {description: 'See what --fix would do, then do it:', command: '<%= config.bin %> --fix --dry-run && <%= config.bin %> --fix'},
    {description: 'Undo the last fix run:', command: '<%= config.bin %> undo'},
  ]

  static override strict = false

  static override flags = oclifFlags(DOCTOR_FLAGS)

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Doctor)
    process.exitCode = await runDoctor(argv as string[], flags as DoctorFlags)
  }
}

/** oclif's flag objects for a table of FlagSpecs. */
function oclifFlags(specs: Record<string, FlagSpec>): Interfaces.FlagInput {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(specs)) {
    const common = {description: spec.description, ...(spec.dependsOn ? {dependsOn: spec.dependsOn} : {}), ...(spec.helpValue ? {helpValue: spec.helpValue} : {})}
    out[name] =
      spec.kind === 'boolean'
        ? Flags.boolean({...common, ...(spec.allowNo ? {allowNo: true} : {}), ...(spec.default !== undefined ? {default: spec.default} : {})})
        : spec.multiple
          ? Flags.string({...common, multiple: true})
          : Flags.string(common)
  }
  return out as Interfaces.FlagInput
}
