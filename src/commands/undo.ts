import {Args, Flags} from '@oclif/core'
import pc from 'picocolors'

import {isRunId} from '../actions/runs.js'
import {type UndoReport, undoRun} from '../actions/undo.js'
import {homeDir, stateDirOf} from '../context/resolve.js'
import {wantColor} from '../report/human.js'
import {VERSION} from '../version.js'
import {BaseCommand} from './base.js'
import {tildify} from '../words.js'

type Colors = ReturnType<typeof pc.createColors>

/** The human answer, as lines; paths in the home folder shortened to `~`. */
export function undoLines(report: UndoReport, home: string, c: Colors = pc.createColors(false)): string[] {
  const t = (p: string) => tildify(p, home)
  switch (report.status) {
    case 'nothing':
      return [report.latest ? `Nothing to undo: the latest run, ${report.latest}, was already undone (${report.undoneAt}).` : 'Nothing to undo: no --fix run is recorded.']
    case 'already-undone':
      return [`Run ${report.runId} was already undone (${report.undoneAt}); nothing changed.`]
    case 'refused':
      return [
        c.red(`Cannot undo run ${report.runId}: ${report.changed.length === 1 ? 'a path' : `${report.changed.length} paths`} changed since the run. Nothing was changed.`),
        ...report.changed.map((ch) => `  ✗ ${t(ch.path)}: ${ch.change}`),
        'Put each back as the run left it (or move what appeared since out of the way), then run codex-doctor undo again.',
      ]
    case 'undone': {
      const also = report.runs.length > 1 ? ` (with the interrupted run${report.runs.length > 2 ? 's' : ''} it finished: ${report.runs.slice(1).join(', ')})` : ''
      return [
        `Undid run ${report.runId}${also}:`,
        ...report.actions.map((a) => `  ${c.green('✓')} ${a.op.padEnd(7)} ${t(a.path)}${a.to ? ` → ${t(a.to)}` : a.mode ? ` ${a.mode}` : ''}`),
        report.actions.length === 0 ? 'The run had changed nothing; it is marked undone.' : 'Everything it changed is as it was before the run.',
      ]
    }
  }
}

export default class Undo extends BaseCommand {
  static override summary = 'Reverse the latest (or the given) --fix run.'

  static override description = `Reverses a --fix run's actions newest first, restoring content, modes, links and git index entries, from the run's journal and backup in $XDG_STATE_HOME/codex-doctor/runs/. Before changing anything it checks that every path is still exactly as the run left it; if one is not, it changes nothing, names the path and exits 1. A run that finished an interrupted run is undone together with it.

Exit codes: 0 undone (or nothing to undo), 1 refused because a path changed since the run, 2 bad usage or another codex-doctor holds the lock.`

  static override args = {
    run_id: Args.string({description: 'the run to undo (default: the latest run not undone yet)', required: false}),
  }

  static override flags = {
    json: Flags.boolean({description: 'print one JSON document on stdout and nothing else there'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Undo)
    if (args.run_id !== undefined && !isRunId(args.run_id)) this.usageError(`"${args.run_id}" is not a run id such as 20261123T201500Z-1a2b`)
    const env = process.env
    const report = await undoRun(stateDirOf(env), {runId: args.run_id, env})
    if (flags.json) {
      process.stdout.write(JSON.stringify({schemaVersion: 1, tool: 'codex-doctor', version: VERSION, command: 'undo', ...report}, null, 2) + '\n')
    } else {
      const c = pc.createColors(wantColor(env, process.stdout.isTTY === true))
      process.stdout.write(undoLines(report, homeDir(env), c).join('\n') + '\n')
    }
    process.exitCode = report.status === 'refused' ? 1 : 0
  }
}
