/**
 * Codex's runtime state found in the repository folders that hold declared sources: where each
 * item belongs in CODEX_HOME, and the moves that put it there (shared by the migration and the
 * stray-state fix). Links are listed, never followed; a secret's content is never read.
 */
import {readdirSync} from 'node:fs'
import path from 'node:path'

import type {Action} from '../actions/types.js'
import {isSecret, matchesState, RUNTIME_STATE} from '../codex-facts.js'
import type {Home} from '../codex/home.js'
import {statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import type {DeclaredSet, SourceFolder} from '../declared/set.js'
import {lstat, readdir, readlink, realpath} from '../fs-now.js'
import {repoPath} from './facts.js'
import {byCodePoint, shellQuote} from '../words.js'

/** One piece of Codex runtime state found in a repository folder that holds declared sources. */
export interface StrayItem {
  /** Where it belongs, relative to CODEX_HOME (`auth.json`, `skills/.system`). */
  name: string
  path: string
  kind: 'file' | 'dir' | 'link'
  secret: boolean
  /** Files inside a folder, counted without following links. */
  files?: number
  /** A file's size. */
  bytes?: number
  /** A link's target as written. */
  target?: string
  /** Where it belongs: `<CODEX_HOME>/<name>`. */
  destination: string
  /** CODEX_HOME (as a separate folder) already has one: the fix keeps CODEX_HOME's and backs up the repository's. */
  inCodexHome: boolean
}

/** The state patterns in report order: Codex's own (secrets first), then the repository's extra_state. */
export function statePatterns(ctx: Pick<Context, 'config'>): string[] {
  return [...RUNTIME_STATE, ...ctx.config.extra_state]
}

/**
 * Names that other tools use too (a repository-wide `packages/`, `flake.lock`, a `log/`): Codex's
 * only in the codex folder itself, never in a folder that merely holds some sources.
 */
const AMBIGUOUS = new Set(['log', 'tmp', '.tmp', 'cache', 'packages', '*.lock', 'plugins/cache', 'version.json'])

/** The patterns that apply in a folder standing for CODEX_HOME/<under>, relative to that folder. */
export function patternsFor(patterns: readonly string[], folder: Pick<SourceFolder, 'under' | 'main'>): string[] {
  const prefix = folder.under === '' ? '' : `${folder.under}/`
  return patterns
    .filter((p) => (prefix === '' || p.startsWith(prefix)) && (folder.main || !AMBIGUOUS.has(p)))
    .map((p) => p.slice(prefix.length))
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
  for (const entry of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name
    if (matchesState(childRel, patterns)) found.push(childRel)
    else if (entry.isDirectory() && leadsToState(childRel, patterns)) found.push(...(await findStatePaths(dir, patterns, childRel)))
  }
  return found
}

/**
 * The files under a folder, from its listings alone (no stat per file: 20,000 sessions are counted
 * in a few reads of the folder); a secret's content is never read.
 */
function countFiles(dir: string): {files: number} {
  let files = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) files += entry.isDirectory() ? countFiles(path.join(dir, entry.name)).files : 1
  return {files}
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

/** Runtime state in the repository folders that hold declared sources, secrets first, each with where it belongs. */
/** Found once per declared set (codex-home and stray-state both ask, before and after their plans). */
const found = new WeakMap<DeclaredSet, Map<string, Promise<StrayItem[]>>>()

export function findStrayState(ctx: Context, home: Home, set: DeclaredSet): Promise<StrayItem[]> {
  const key = `${ctx.codexHome}\0${ctx.dotfiles}\0${home.kind}\0${home.isCodexDir}`
  const known = found.get(set) ?? new Map<string, Promise<StrayItem[]>>()
  found.set(set, known)
  let items = known.get(key)
  if (!items) known.set(key, (items = lookForStrayState(ctx, home, set)))
  return items
}

async function lookForStrayState(ctx: Context, home: Home, set: DeclaredSet): Promise<StrayItem[]> {
  if (!ctx.dotfiles) return []
  const patterns = statePatterns(ctx)
  const facts = await ctx.repo()
  // through the old directory link, CODEX_HOME/<name> is the very same item, not a second copy
  const separateHome = !home.isCodexDir && (home.kind === 'folder' || home.kind === 'outside-link')
  const sources = new Set(set.entries.map((e) => e.source))
  const items: StrayItem[] = []
  for (const folder of set.sourceFolders) {
    const here = patternsFor(patterns, folder)
    const names = await findStatePaths(folder.dir, here)
    for (const rel of names) {
      const full = path.join(folder.dir, rel)
      const name = folder.under ? `${folder.under}/${rel}` : rel
      // a declared source is the user's, whatever its name
      if (sources.has(full)) continue
      // a file git tracks outside the codex folder is the user's (a secret is the secrets check's)
      if (!folder.main && !isSecret(rel) && facts?.tracked.has(repoPath(facts.root, full))) continue
      const destination = path.join(ctx.codexHome, ...name.split('/'))
      // seen through a managed link (skills/.system under a linked skills/), CODEX_HOME's copy IS this one: nothing to move
      if (separateHome && (await samePlace(full, destination))) continue
      items.push(await describePath(full, name, destination, separateHome))
    }
  }
  const ordered = items.map((item) => ({item, rank: patternRank(item.name, patterns)}))
  ordered.sort((a, b) => a.rank - b.rank || byCodePoint(a.item.name, b.item.name))
  return ordered.map((o) => o.item)
}

async function describePath(full: string, name: string, destination: string, separateHome: boolean): Promise<StrayItem> {
  const info = await lstat(full)
  const inCodexHome = separateHome && statOrUndefined(destination, false) !== undefined
  const where = {destination, inCodexHome}
  const secret = isSecret(name)
  if (info.isSymbolicLink()) return {name, path: full, kind: 'link', secret, target: await readlink(full), ...where}
  if (info.isDirectory()) return {name, path: full, kind: 'dir', secret, ...countFiles(full), ...where}
  return {name, path: full, kind: 'file', secret, bytes: info.size, ...where}
}

/** `auth.json (secret)`, `sessions/ (3 files)`. */
export function describeItem(item: StrayItem): string {
  if (item.kind === 'link') return `${item.name} (link)`
  if (item.kind === 'dir') return `${item.name}/ (${item.files} file${item.files === 1 ? '' : 's'})`
  return item.secret ? `${item.name} (secret)` : item.name
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
