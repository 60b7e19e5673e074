/**
 * The "system" every fix goes through (chezmoi's idea): the real one journals and changes the
 * disk, the dry-run one only records. Nothing else in codex-doctor changes the user's disk.
 */
import path from 'node:path'

import type {Action, ActionReport, ActionStatus} from './types.js'

/** What carrying out one action did. */
export interface Effect {
  status: 'applied' | 'skipped' | 'planned'
  /** Why a skipped action had nothing to do. */
  reason?: string
  /** Where what left its place went (inside the run's backup folder). */
  backups: string[]
}

export interface System {
  /** The steps that follow belong to this action (the journal groups them). */
  startAction(action: Action): void
  endAction(status: 'applied' | 'failed' | 'skipped', error?: string): Promise<void>
  /** `path` becomes a link to `to` (written as given); anything in the way goes to the backup. */
  link(path: string, to: string): Promise<Effect>
  /** `path` moves to `to`; folders merge item by item, never overwriting; what both ends hold stays at `to`, the source's goes to the backup. */
  move(path: string, to: string): Promise<Effect>
  /** A real folder at `path` (and its parents); a file or a link in the way goes to the backup. */
  mkdir(path: string, mode?: number): Promise<Effect>
  chmod(path: string, mode: number): Promise<Effect>
  /** The whole text of a file; the old file goes to the backup. */
  edit(path: string, content: string): Promise<Effect>
  /** `git rm --cached`: the file stays on disk, the index entry is recorded for undo. */
  untrack(repo: string, path: string): Promise<Effect>
}

export function perform(system: System, action: Action): Promise<Effect> {
  switch (action.op) {
    case 'link':
      return system.link(action.path, action.to)
    case 'move':
      return system.move(action.path, action.to)
    case 'mkdir':
      return system.mkdir(action.path, action.mode)
    case 'chmod':
      return system.chmod(action.path, action.mode)
    case 'edit':
      return system.edit(action.path, action.content)
    case 'untrack':
      return system.untrack(action.repo, action.path)
  }
}

/** The paths an action changes (a link's target is only written, not touched). */
export function pathsOf(action: Action): string[] {
  return action.op === 'move' ? [action.path, action.to] : [action.path]
}

function related(a: string, b: string): boolean {
  const rel = path.relative(a, b)
  const up = path.relative(b, a)
  return rel === '' || !rel.startsWith('..') || !up.startsWith('..')
}

/** The failed path an action depends on (the same path, one inside it or around it), if any. */
export function blockedBy(action: Action, failed: readonly string[]): string | undefined {
  return failed.find((f) => pathsOf(action).some((p) => related(p, f)))
}

/** One path for "where did it go": the single backup, or the folder holding them all. */
export function backupSummary(backups: readonly string[]): string | undefined {
  if (backups.length <= 1) return backups[0]
  let common = path.dirname(backups[0]!)
  while (!backups.every((b) => b.startsWith(common + path.sep))) common = path.dirname(common)
  return common
}

export function reportOf(action: Action, status: ActionStatus, extra: {error?: string; reason?: string; backups?: readonly string[]} = {}): ActionReport {
  const backup = backupSummary(extra.backups ?? [])
  return {
    check: action.check,
    op: action.op,
    path: action.path,
    ...(action.op === 'link' || action.op === 'move' ? {to: action.to} : {}),
    ...((action.op === 'chmod' || action.op === 'mkdir') && action.mode !== undefined ? {mode: action.mode.toString(8)} : {}),
    ...(action.note ? {note: action.note} : {}),
    ...((action.op === 'link' || action.op === 'edit') && action.diff ? {diff: action.diff} : {}),
    status,
    ...(extra.reason ? {reason: extra.reason} : {}),
    ...(backup ? {backup} : {}),
    ...(extra.error ? {error: extra.error} : {}),
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] || 'unknown error'
}

/**
 * Carries out a plan in order. A failed action does not stop the others, except those that
 * touch the same path (or one inside or around it): they are skipped, saying why.
 */
export async function applyPlan(system: System, actions: readonly Action[]): Promise<ActionReport[]> {
  const failed: string[] = []
  const reports: ActionReport[] = []
  for (const action of actions) {
    const blocker = blockedBy(action, failed)
    if (blocker) {
      reports.push(reportOf(action, 'skipped', {error: `not attempted: an earlier action on ${blocker} failed`}))
      continue
    }
    system.startAction(action)
    try {
      const effect = await perform(system, action)
      await system.endAction(effect.status === 'skipped' ? 'skipped' : 'applied')
      reports.push(reportOf(action, effect.status, {reason: effect.reason, backups: effect.backups}))
    } catch (error) {
      failed.push(...pathsOf(action))
      await system.endAction('failed', oneLine(error))
      reports.push(reportOf(action, 'failed', {error: oneLine(error)}))
    }
  }
  return reports
}
