import {Flags} from '@oclif/core'

import {CHECK_IDS, CHECKS} from '../checks/index.js'
import {resolveContext} from '../context/resolve.js'
import {exitCodeOf} from '../engine/run-checks.js'
import {diagnose} from '../engine/diagnose.js'
import {jsonReport, type FixReport, type ReportContext} from '../report/json.js'
import {humanReport, wantColor} from '../report/human.js'
import {liveChecks} from '../report/live.js'
import {BaseCommand} from './base.js'

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

  static override flags = {
    fix: Flags.boolean({description: 'apply automatic fixes, then run the checks again and report'}),
    'dry-run': Flags.boolean({description: 'with --fix: print the planned actions, write nothing', dependsOn: ['fix']}),
    json: Flags.boolean({description: 'print one JSON document on stdout and nothing else there'}),
    skip: Flags.string({description: 'skip a check (repeatable)', multiple: true, helpValue: 'ID'}),
    strict: Flags.boolean({description: 'a warning fails the run (exit 1)'}),
    'codex-home': Flags.string({description: 'Codex home folder [default: $CODEX_HOME, else ~/.codex]', helpValue: 'DIR'}),
    dotfiles: Flags.string({description: 'dotfiles repository [default: $DOTFILES, else detected through the links]', helpValue: 'DIR'}),
    'codex-bin': Flags.string({description: 'codex binary to inspect [default: codex on PATH]', helpValue: 'PATH'}),
    'min-version': Flags.string({description: 'lowest acceptable Codex version [default: 0.88.0]', helpValue: 'SEMVER'}),
    probe: Flags.boolean({description: 'run the write probe (--no-probe skips it)', allowNo: true, default: true}),
    verbose: Flags.boolean({description: 'show details of every check (link chains, file lists) and timings'}),
    'ignore-running-codex': Flags.boolean({
      description: 'with --fix: go on although a process that may be Codex could not be inspected (another user\'s, hidepid); a Codex seen using the files always stops --fix',
      dependsOn: ['fix'],
    }),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Doctor)
    const ids = argv as string[]
    const flagLike = ids.find((a) => a.startsWith('-'))
    if (flagLike) this.usageError(`unknown flag ${flagLike}`)
    for (const id of [...ids, ...(flags.skip ?? [])]) {
      if (!CHECK_IDS.includes(id)) this.usageError(`unknown check id "${id}" (see codex-doctor checks)`)
    }

    const ctx = await resolveContext({
      codexHome: flags['codex-home'],
      dotfiles: flags.dotfiles,
      codexBin: flags['codex-bin'],
      minVersion: flags['min-version'],
      probe: flags.probe,
      readOnly: flags['dry-run'],
      checkIds: CHECK_IDS,
    })
    const skipped = new Set([...(flags.skip ?? []), ...ctx.config.skip])
    const live = !flags.json && process.stdout.isTTY === true && !process.env.CI
    const selected = CHECKS.filter((c) => ids.length === 0 || ids.includes(c.id))

    const {results, fix} = await diagnose(ctx, selected, {
      skipped,
      fix: flags.fix ? {dryRun: flags['dry-run'], ignoreRunningCodex: flags['ignore-running-codex']} : null,
      live: live ? liveChecks : undefined,
    })

    const info = await ctx.codex()
    const context: ReportContext = {codexHome: ctx.codexHome, dotfiles: ctx.dotfiles, codexBin: info.bin, codexVersion: info.version}
    const fixReport: FixReport | null = fix
    if (flags.json) {
      process.stdout.write(JSON.stringify(jsonReport(results, context, fixReport, flags.strict), null, 2) + '\n')
    } else {
      process.stdout.write(humanReport(results, context, fixReport, {home: ctx.home, color: wantColor(process.env, process.stdout.isTTY === true), verbose: flags.verbose}))
    }
    process.exitCode = exitCodeOf(results, flags.strict)
  }
}
