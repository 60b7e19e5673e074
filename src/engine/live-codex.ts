/**
 * Never race a live Codex (SPEC safety rule 9): before --fix moves state out of the repository,
 * the processes that use what would move are looked for; one that does stops the run (exit 2).
 */
import {lstat, realpath} from 'node:fs/promises'

import type {Action} from '../actions/types.js'
import {isInside} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {UsageError} from '../errors.js'
import {findLiveCodex, raceVerdict, type RaceVerdict, scanLines} from '../platform/live-codex.js'

/** --fix stops before changing anything: a running Codex uses what it would move. */
export class RunningCodexError extends UsageError {
  override name = 'RunningCodexError'
  constructor(readonly lines: readonly string[]) {
    super(lines.join('; '))
  }
}

export interface RaceCheck {
  verdict: RaceVerdict
  /** What would move (real paths). */
  paths: string[]
  lines: string[]
}

const real = (p: string) => realpath(p).catch(() => p)

/**
 * What a plan would take away from a running Codex: the sources of moves out of the repository,
 * and the repository folder that CODEX_HOME (a link, in the old layout) leads into.
 */
export async function pathsLeavingRepo(actions: readonly Action[], ctx: Pick<Context, 'dotfiles' | 'codexHome'>): Promise<string[]> {
  if (!ctx.dotfiles) return []
  const repo = await real(ctx.dotfiles)
  const paths = new Set<string>()
  for (const action of actions) {
    if (action.op === 'move') {
      const from = await real(action.path)
      if (isInside(from, repo)) paths.add(from)
    }
    if (action.op === 'mkdir' && action.path === ctx.codexHome && (await lstat(ctx.codexHome).catch(() => null))?.isSymbolicLink()) {
      const target = await real(ctx.codexHome)
      if (isInside(target, repo)) paths.add(target)
    }
  }
  return [...paths].sort()
}

/** Looks for running Codex processes that use what `actions` would move; null when nothing leaves the repository. */
export async function raceCheck(actions: readonly Action[], ctx: Pick<Context, 'dotfiles' | 'codexHome' | 'home'>, ignoreRunningCodex: boolean): Promise<RaceCheck | null> {
  const paths = await pathsLeavingRepo(actions, ctx)
  if (paths.length === 0) return null
  const scan = await findLiveCodex(paths, {home: ctx.home})
  return {verdict: raceVerdict(scan, ignoreRunningCodex), paths, lines: scanLines(scan)}
}

/** Throws when --fix must not go on. */
export function stopIfRacing(race: RaceCheck | null): void {
  if (race && (race.verdict === 'live' || race.verdict === 'unsure')) {
    const head = race.verdict === 'live' ? 'nothing was moved: a running Codex uses what --fix would move out of the repository' : 'nothing was moved: a process that may be Codex could not be ruled out'
    throw new RunningCodexError([head, ...race.lines])
  }
}
