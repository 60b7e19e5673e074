import pc from 'picocolors'

import type {ActionReport} from '../actions/types.js'
import type {CheckResult, Status} from '../checks/types.js'
import type {FixReport, ReportContext} from './json.js'

export interface HumanOptions {
  home: string
  color: boolean
  verbose: boolean
}

type Colors = ReturnType<typeof pc.createColors>

const MARK: Record<Status, string> = {pass: '✓', warn: '!', fail: '✗', error: '✗', skip: '-'}

/** Color on a TTY only, never with NO_COLOR; FORCE_COLOR asks for it anywhere. */
export function wantColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if ('NO_COLOR' in env && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return isTTY
}

const escapeRegExp = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Replaces the home folder with `~` where a path starts: not inside another path (a backup
 * folder mirrors absolute paths), and outside quotes, since a shell expands ~ only there:
 * '/home/me/dot files/x' becomes ~/'dot files/x'.
 */
export function shortenHome(text: string, home: string): string {
  if (!home || home === '/') return text
  const h = escapeRegExp(home)
  return text
    .replace(new RegExp(`(?<![\\w./~-])'${h}/`, 'g'), "~/'")
    .replace(new RegExp(`(?<![\\w./~'-])${h}(?=/|$|[\\s'"):,;])`, 'gm'), '~')
}

function paint(c: Colors, status: Status, text: string): string {
  switch (status) {
    case 'pass':
      return c.green(text)
    case 'warn':
      return c.yellow(text)
    case 'fail':
    case 'error':
      return c.red(text)
    case 'skip':
      return c.dim(text)
  }
}

/** Details as indented lines: scalars inline, lists one item a line, objects nested. */
export function detailLines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (item !== null && typeof item === 'object') {
        const [first = '', ...rest] = detailLines(item, indent + '  ')
        return [`${indent}- ${first.trimStart()}`, ...rest]
      }
      return [`${indent}- ${String(item)}`]
    })
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => {
      if (v === undefined) return []
      if (v !== null && typeof v === 'object') {
        if (Array.isArray(v) && v.length === 0) return [`${indent}${key}: (none)`]
        return [`${indent}${key}:`, ...detailLines(v, indent + '  ')]
      }
      return [`${indent}${key}: ${String(v)}`]
    })
  }
  return [`${indent}${String(value)}`]
}

export function checkLines(result: CheckResult, options: HumanOptions, c: Colors): string[] {
  const time = options.verbose ? c.dim(` (${result.durationMs} ms)`) : ''
  const lines = [`${paint(c, result.status, MARK[result.status])} ${c.bold(result.id)}  ${result.summary}${time}`]
  if (options.verbose && Object.keys(result.details).length > 0) lines.push(...detailLines(result.details, '    ').map((l) => c.dim(l)))
  if (result.remediation && result.status !== 'pass') {
    const auto = result.remediation.automatic ? c.dim(' (codex-doctor --fix does this)') : ''
    lines.push(`    → ${result.remediation.text}${auto}`)
    for (const command of result.remediation.commands) lines.push(`      ${c.cyan('$ ' + command)}`)
  }
  return lines
}

export function countLine(results: readonly CheckResult[]): string {
  const n = (s: Status) => results.filter((r) => r.status === s).length
  const parts = [`${n('pass')} passed`, `${n('warn')} warning${n('warn') === 1 ? '' : 's'}`, `${n('fail')} failed`]
  if (n('error')) parts.push(`${n('error')} could not run`)
  if (n('skip')) parts.push(`${n('skip')} skipped`)
  return parts.join(', ')
}

export function headerLine(context: ReportContext, c: Colors): string {
  const codex = context.codexVersion ? `codex ${context.codexVersion}` : 'codex (unknown version)'
  return c.dim(`CODEX_HOME ${context.codexHome} · dotfiles ${context.dotfiles ?? '(not found)'} · ${codex}`)
}

/** One action, then where what it displaced went and how that differs from the repository's copy. */
export function actionLines(action: ActionReport, c: Colors): string[] {
  const mark = {planned: '•', applied: c.green('✓'), failed: c.red('✗'), skipped: c.dim('-')}[action.status]
  const target = action.to ? ` → ${action.to}` : action.mode ? ` ${action.mode}` : ''
  const note = action.note ? c.dim(`  (${action.note})`) : ''
  const why = action.error ? c.red(`: ${action.error}`) : action.reason ? c.dim(`: ${action.reason}`) : ''
  const lines = [`  ${mark} ${action.op.padEnd(7)} ${action.path}${target}${note}${why}`]
  if (action.backup) lines.push(`      what was there is kept in the backup: ${action.backup}`)
  if (action.diff) {
    lines.push(action.op === 'edit' ? `      the change:` : `      it differs from the repository's file; carry over what you want to keep:`)
    for (const line of action.diff.split('\n')) {
      const colored = line.startsWith('+') && !line.startsWith('+++') ? c.green(line) : line.startsWith('-') && !line.startsWith('---') ? c.red(line) : c.dim(line)
      lines.push(`        ${colored}`)
    }
  }
  return lines
}

/** The whole human report, as text; the home folder shortened to `~`. */
export function humanReport(results: readonly CheckResult[], context: ReportContext, fix: FixReport | null, options: HumanOptions): string {
  const c = pc.createColors(options.color)
  const lines = [headerLine(context, c), '']
  if (fix) {
    const verb = fix.dryRun ? 'Planned' : 'Fix run'
    if (fix.resumed?.length) lines.push(`An earlier --fix was interrupted (${fix.resumed.join(', ')}): its half-done step was settled from the disk, and this run finishes the job.`)
    if (fix.runningCodex) {
      lines.push(fix.dryRun ? c.yellow('A real --fix would stop before changing anything:') : c.yellow('Went on with --ignore-running-codex, although:'))
      for (const line of fix.runningCodex.lines) lines.push(`  ! ${line}`)
    }
    lines.push(fix.actions.length === 0 ? 'Nothing to fix.' : `${verb}${fix.runId ? ` ${fix.runId}` : ''}:`)
    lines.push(...fix.actions.flatMap((a) => actionLines(a, c)), '')
    if (!fix.dryRun && fix.actions.length > 0) lines.push('After the fixes:')
  }
  for (const result of results) lines.push(...checkLines(result, options, c))
  lines.push('', countLine(results))
  return shortenHome(lines.join('\n'), options.home) + '\n'
}
