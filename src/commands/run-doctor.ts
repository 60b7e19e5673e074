/** What `codex-doctor [CHECK_ID...]` does once its command line is read, by oclif or by the fast path (cli.ts). */
import {CHECK_IDS, CHECKS} from '../checks/index.js'
import {type ContextOptions, resolveContext} from '../context/resolve.js'
import {diagnose} from '../engine/diagnose.js'
import {exitCodeOf, overrunSettled} from '../engine/run-checks.js'
import {UsageError} from '../errors.js'
import {humanReport, wantColor} from '../report/human.js'
import {jsonReport, type ReportContext} from '../report/json.js'
import type {DoctorFlags} from './doctor-flags.js'

/** Runs the checks (and fixes) and prints the report; the exit code. Bad input throws a UsageError. */
export async function runDoctor(ids: readonly string[], flags: DoctorFlags, early?: ContextOptions['early']): Promise<number> {
  const flagLike = ids.find((a) => a.startsWith('-'))
  if (flagLike) throw new UsageError(`unknown flag ${flagLike}`)
  for (const id of [...ids, ...(flags.skip ?? [])]) {
    if (!CHECK_IDS.includes(id)) throw new UsageError(`unknown check id "${id}" (see codex-doctor checks)`)
  }

  const ctx = await resolveContext({
    codexHome: flags['codex-home'],
    dotfiles: flags.dotfiles,
    codexBin: flags['codex-bin'],
    minVersion: flags['min-version'],
    probe: flags.probe,
    readOnly: flags['dry-run'],
    checkIds: CHECK_IDS,
    early,
  })
  const skipped = new Set([...(flags.skip ?? []), ...ctx.config.skip])
  const live = !flags.json && process.stdout.isTTY === true && !process.env.CI
  const selected = CHECKS.filter((c) => ids.length === 0 || ids.includes(c.id))

  const {results, fix} = await diagnose(ctx, selected, {
    skipped,
    fix: flags.fix ? {dryRun: flags['dry-run'], ignoreRunningCodex: flags['ignore-running-codex']} : null,
    // the live task list (listr2) is loaded only where it shows: on a terminal
    live: live ? (await import('../report/live.js')).liveChecks : undefined,
  })

  const info = await ctx.codex()
  const context: ReportContext = {codexHome: ctx.codexHome, dotfiles: ctx.dotfiles, codexBin: info.bin, codexVersion: info.version}
  if (flags.json) process.stdout.write(JSON.stringify(jsonReport(results, context, fix, flags.strict), null, 2) + '\n')
  else process.stdout.write(humanReport(results, context, fix, {home: ctx.home, color: wantColor(process.env, process.stdout.isTTY === true), verbose: flags.verbose}))
  // a check that overran is reported, but its work (and its cleanup) goes on: the run ends after it
  await overrunSettled()
  return exitCodeOf(results, flags.strict)
}
