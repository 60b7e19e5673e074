import {lstat, readdir, readlink, realpath} from 'node:fs/promises'
import path from 'node:path'

import {statOrUndefined} from '../context/chain.js'
import type {Action} from '../actions/types.js'
import type {Context} from '../context/types.js'
import {isSecret, matchesState, RUNTIME_STATE} from '../codex-facts.js'
import {type Home, inspectHome} from './layout.js'
import {noDotfiles, shellQuote} from './shared.js'
import type {Check, Outcome} from './types.js'

/** One piece of Codex runtime state found in the repository's codex folder. */
export interface StrayItem {
  /** Path relative to the codex folder (`auth.json`, `skills/.system`). */
  name: string
  path: string
  kind: 'file' | 'dir' | 'link'
  secret: boolean
  /** Files inside a folder, counted without following links. */
  files?: number
  bytes?: number
  /** A link's target as written. */
  target?: string
  /** Where it belongs: `<CODEX_HOME>/<name>`. */
  destination: string
  /** CODEX_HOME (as a separate folder) already has one: the fix keeps CODEX_HOME's and backs up the repository's. */
  inCodexHome: boolean
}

/** The state patterns in report order: Codex's own (secrets first), then the repository's extra_state. */
export function statePatterns(ctx: Context): string[] {
  return [...RUNTIME_STATE, ...ctx.config.extra_state]
}

/** A folder is worth entering when some nested pattern (`skills/.system`) starts with it. */
function leadsToState(rel: string, patterns: readonly string[]): boolean {
  const depth = rel.split('/').length
  const prefixes = patterns.filter((p) => p.split('/').length > depth).map((p) => p.split('/').slice(0, depth).join('/'))
  return matchesState(rel, prefixes)
}

/** Paths under `dir` (relative) matching `patterns`; links are listed, never followed. */
export async function findStatePaths(dir: string, patterns: readonly string[], rel = ''): Promise<string[]> {
  let entries
  try {
    entries = await readdir(path.join(dir, rel), {withFileTypes: true})
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return []
    throw error
  }
  const found: string[] = []
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name
    if (matchesState(childRel, patterns)) found.push(childRel)
    else if (entry.isDirectory() && leadsToState(childRel, patterns)) found.push(...(await findStatePaths(dir, patterns, childRel)))
  }
  return found
}

/** Files and bytes under a folder, by lstat only: a secret's content is never read. */
async function measureFolder(dir: string): Promise<{files: number; bytes: number}> {
  let files = 0
  let bytes = 0
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      const inner = await measureFolder(full)
      files += inner.files
      bytes += inner.bytes
    } else {
      files += 1
      bytes += (await lstat(full)).size
    }
  }
  return {files, bytes}
}

function patternRank(name: string, patterns: readonly string[]): number {
  const i = patterns.findIndex((p) => matchesState(name, [p]))
  return i === -1 ? patterns.length : i
}

/** Whether two paths name one place once the links among their folders are resolved. */
async function samePlace(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([realpath(path.dirname(a)), realpath(path.dirname(b))])
    return x === y && path.basename(a) === path.basename(b)
  } catch {
    return false
  }
}

/** Runtime state in the repository's codex folder, secrets first, each with where it belongs. */
export async function findStrayState(ctx: Context, home: Home): Promise<StrayItem[]> {
  if (!ctx.codexDir) return []
  const patterns = statePatterns(ctx)
  const names = await findStatePaths(ctx.codexDir, patterns)
  names.sort((a, b) => patternRank(a, patterns) - patternRank(b, patterns) || a.localeCompare(b))
  // through the old directory link, CODEX_HOME/<name> is the very same item, not a second copy
  const separateHome = !home.isCodexDir && (home.kind === 'folder' || home.kind === 'outside-link')
  // seen through a managed link (skills/.system under a linked skills/), CODEX_HOME's copy IS this one: nothing to move
  const reachedThroughLink = await Promise.all(names.map((name) => separateHome && samePlace(path.join(ctx.codexDir!, name), path.join(ctx.codexHome, name))))
  return Promise.all(
    names.filter((_, i) => !reachedThroughLink[i]).map(async (name): Promise<StrayItem> => {
      const full = path.join(ctx.codexDir!, name)
      const destination = path.join(ctx.codexHome, name)
      const info = await lstat(full)
      const inCodexHome = separateHome && (await statOrUndefined(destination, false)) !== undefined
      const where = {destination, inCodexHome}
      const secret = isSecret(name)
      if (info.isSymbolicLink()) return {name, path: full, kind: 'link', secret, target: await readlink(full), ...where}
      if (info.isDirectory()) return {name, path: full, kind: 'dir', secret, ...(await measureFolder(full)), ...where}
      return {name, path: full, kind: 'file', secret, bytes: info.size, ...where}
    }),
  )
}

/** `auth.json (secret)`, `sessions/ (3 files)`. */
export function describeItem(item: StrayItem): string {
  if (item.kind === 'link') return `${item.name} (link)`
  if (item.kind === 'dir') return `${item.name}/ (${item.files} file${item.files === 1 ? '' : 's'})`
  return item.secret ? `${item.name} (secret)` : item.name
}

const SHOWN = 6

function itemList(items: readonly StrayItem[]): string {
  const shown = items.slice(0, SHOWN).map(describeItem).join(', ')
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown
}

/** The shell commands that move the items CODEX_HOME does not have yet. */
export function moveCommands(items: readonly StrayItem[], codexHome: string): string[] {
  return items
    .filter((item) => !item.inCodexHome)
    .map((item) => {
      const into = path.dirname(item.destination)
      const mv = `mv ${shellQuote(item.path)} ${shellQuote(into + '/')}`
      return into === codexHome ? mv : `mkdir -p ${shellQuote(into)} && ${mv}`
    })
}

/** The verdict: secrets fail, other state warns; live state (Codex writes it into the repository right now) says so. */
export function strayVerdict(items: readonly StrayItem[], home: Home, codexDir: string): Outcome {
  const details = {codexDir, codexHome: home.path, live: home.isCodexDir, items: items.map((item) => ({...item}))}
  if (items.length === 0) return {status: 'pass', summary: `${codexDir} holds no Codex runtime state`, details}
  const status = items.some((item) => item.secret) ? 'fail' : 'warn'
  const what = `${items.length} item${items.length === 1 ? '' : 's'} of Codex runtime state`

  if (home.isCodexDir) {
    const how = home.kind === 'repo-folder' ? 'CODEX_HOME is that folder' : 'through the CODEX_HOME link'
    return {
      status,
      summary: `LIVE: Codex writes its state into the repository (${how}): ${what} in ${codexDir}: ${itemList(items)}`,
      details,
      remediation:
        home.kind === 'repo-folder'
          ? {text: 'Point CODEX_HOME at a folder outside the repository (unset it to use ~/.codex), then run codex-doctor --fix to move each item there.', automatic: false}
          : {
              text: 'codex-doctor --fix migrates CODEX_HOME to a real folder (see codex-home) and moves each item into it; folders merge, nothing is deleted.',
              commands: ['codex-doctor --fix'],
              automatic: true,
            },
    }
  }

  const both = items.filter((item) => item.inCodexHome).length
  return {
    status,
    summary: `${what} in ${codexDir}, which Codex no longer uses from the repository: ${itemList(items)}`,
    details,
    remediation: {
      text:
        "codex-doctor --fix moves each item into CODEX_HOME; when both have one, CODEX_HOME's stays and the repository's goes to the backup; folders merge." +
        (both ? ` ${both} of them exist in both places: leave those to --fix; the commands below move the rest.` : ' The commands below do the same by hand.'),
      commands: moveCommands(items, home.path),
      automatic: true,
    },
  }
}

/**
 * Each item moves into CODEX_HOME; the actions layer merges folders and backs up the repository's
 * copy of what both hold. A secret lands readable by its owner only, whatever its mode was.
 */
export function planStrayMoves(items: readonly StrayItem[], check: string): Action[] {
  return items.flatMap((item): Action[] => [
    {check, op: 'move', path: item.path, to: item.destination, note: describeItem(item)},
    ...(item.secret && item.kind === 'file' ? [{check, op: 'chmod', path: item.destination, mode: 0o600, note: 'a secret'} as const] : []),
  ])
}

export const strayState: Check = {
  id: 'stray-state',
  title: "Codex's runtime state lives in CODEX_HOME, not in the repository",
  // folders such as sessions/ or packages/ can hold many files, each counted
  timeoutMs: 30_000,
  async run(ctx) {
    if (!ctx.dotfiles || !ctx.codexDir) return noDotfiles(ctx)
    const home = await inspectHome(ctx)
    return strayVerdict(await findStrayState(ctx, home), home, ctx.codexDir)
  },
  async plan(ctx) {
    if (!ctx.dotfiles || !ctx.codexDir) return []
    const home = await inspectHome(ctx)
    // through the old directory link the destination IS the source: codex-home's migration moves them
    if (home.isCodexDir || (home.kind !== 'folder' && home.kind !== 'missing')) return []
    return planStrayMoves(await findStrayState(ctx, home), 'stray-state')
  },
}
