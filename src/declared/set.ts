/**
 * The one declared link set (chezmoi's "source state"): every entry CODEX_HOME should link, each
 * with every declaration of it. Merging is pure: readers bring declarations, this decides.
 */
import path from 'node:path'

import {isInside} from '../context/chain.js'
import type {Declaration, ReadProblem, Via} from './types.js'
import {byCodePoint} from '../words.js'

export type Basis = 'declared' | 'observed' | 'default'

export interface DeclaredEntry {
  /** Path under CODEX_HOME, '/'-separated: `config.toml`, `skills/greeter`. */
  entry: string
  /** CODEX_HOME/<entry>: where the link belongs. */
  path: string
  /** Where its chain must end; null for a file generated into the Nix store (programs.codex, `text =`). */
  source: string | null
  /** The declaration that counts first, then the others that agree with it. */
  declarations: Declaration[]
  basis: Basis
  inStore: boolean
  unfolded: boolean
  /** The source lies outside the repository: nothing there is the repository's to check. */
  outsideRepo: boolean
}

/** Two or more declarations of one entry that disagree on its source. */
export interface Conflict {
  entry: string
  declarations: Declaration[]
}

/** A repository folder that holds declared sources, and the path under CODEX_HOME it stands for ('' = CODEX_HOME). */
export interface SourceFolder {
  dir: string
  under: string
  /** The codex folder itself; others only hold some sources (a repository-wide skills/), so only unmistakable state counts there. */
  main: boolean
}

export interface DeclaredSet {
  codexHome: string
  repo: string | null
  entries: DeclaredEntry[]
  /** Files that declare CODEX_HOME itself a link into the repository (the old layout's declaration). */
  folderLinks: Declaration[]
  /** Links into the repository that exist but nothing declares, while something else is declared: they will not survive a new machine. */
  undeclared: Declaration[]
  conflicts: Conflict[]
  /** Declarations whose source could not be resolved (unknown variables): checked as observed instead. */
  unresolved: Declaration[]
  problems: ReadProblem[]
  /** What declares the entries ('codex-doctor.toml', 'nix', …); empty when nothing does. */
  declaredBy: Via[]
  /** The repository's codex folder: where top-level sources live. */
  codexDir: string | null
  sourceFolders: SourceFolder[]
}

/**
 * First wins when declarations disagree: the user's own config file, then Nix, Ansible, stow. With
 * nothing declared, the codex folder's own entry is what a link of that name should lead to (a link
 * to config.example.toml is a wrong one), and a link is its own declaration only where the folder has none.
 */
const PRIORITY: Via[] = ['codex-doctor.toml', 'nix', 'ansible', 'stow', 'default', 'observed']

export function entryOf(codexHome: string, target: string): string | null {
  if (!isInside(target, codexHome) || target === codexHome) return null
  return path.relative(codexHome, target).split(path.sep).join('/')
}

/** Whether two declarations of an entry say the same thing. */
function agree(a: Declaration, b: Declaration): boolean {
  if (Boolean(a.inStore) !== Boolean(b.inStore)) return false
  // a file generated into the store has no source to compare; a plain path and its out-of-store twin differ above
  return a.source === b.source || a.source === null || b.source === null
}

function byPriority(a: Declaration, b: Declaration): number {
  return PRIORITY.indexOf(a.origin.via) - PRIORITY.indexOf(b.origin.via) || byCodePoint(a.origin.file ?? '', b.origin.file ?? '') || (a.origin.line ?? 0) - (b.origin.line ?? 0)
}

export interface MergeInput {
  codexHome: string
  repo: string | null
  /** From codex-doctor.toml, Nix, Ansible and stow. */
  declared: readonly Declaration[]
  observed: readonly Declaration[]
  problems: readonly ReadProblem[]
  /** When nothing declares: the entries Codex reads that the codex folder holds. */
  defaults: readonly Declaration[]
  /** The repository's codex folder (chooseCodexDir). */
  codexDir: string | null
}

/** The folder most top-level sources live in: inside the repository, config.toml's folder on a tie, the root last. */
export function folderOfSources(declarations: readonly Declaration[], codexHome: string, repo: string | null): string | null {
  const counts = new Map<string, {n: number; config: boolean}>()
  for (const d of declarations) {
    const entry = entryOf(codexHome, d.target)
    if (!entry || entry.includes('/') || !d.source || d.inStore || (repo !== null && !isInside(d.source, repo))) continue
    const dir = path.dirname(d.source)
    const seen = counts.get(dir) ?? {n: 0, config: false}
    counts.set(dir, {n: seen.n + 1, config: seen.config || entry === 'config.toml'})
  }
  const ranked = [...counts].sort(([a, x], [b, y]) => y.n - x.n || Number(y.config) - Number(x.config) || Number(a === repo) - Number(b === repo))
  return ranked[0]?.[0] ?? null
}

const inHome = (codexHome: string) => (d: Declaration) => d.target === codexHome || isInside(d.target, codexHome)
/** Declarations that name an entry and a source (or a generated in-store file). */
const usableEntries = (declared: readonly Declaration[], codexHome: string) =>
  declared.filter((d) => d.target !== codexHome && inHome(codexHome)(d) && !(d.source === null && !d.inStore))

/**
 * The repository's codex folder: codex_dir when set, else where the declared (or existing) links'
 * sources live, else where CODEX_HOME itself leads (the old layout), else the fallback.
 */
export function chooseCodexDir(input: {codexHome: string; repo: string | null; declared: readonly Declaration[]; observed: readonly Declaration[]; setting: string | null; fallback: string | null}): string | null {
  const {codexHome, repo} = input
  return (
    input.setting ??
    folderOfSources(usableEntries(input.declared, codexHome), codexHome, repo) ??
    folderOfSources(input.observed.filter(inHome(codexHome)), codexHome, repo) ??
    input.observed.find((d) => d.target === codexHome)?.source ??
    input.fallback
  )
}

export function mergeDeclarations(input: MergeInput): DeclaredSet {
  const {codexHome, repo, codexDir} = input
  const declared = input.declared.filter(inHome(codexHome))
  const folderLinks = declared.filter((d) => d.target === codexHome).sort(byPriority)
  const perEntry = declared.filter((d) => d.target !== codexHome)
  const unresolved = perEntry.filter((d) => d.source === null && !d.inStore)
  const usable = usableEntries(declared, codexHome)
  const observed = input.observed.filter((d) => d.target !== codexHome && inHome(codexHome)(d))
  const resolvedTargets = new Set(usable.map((d) => d.target))

  let candidates: Declaration[]
  let undeclared: Declaration[] = []
  if (usable.length > 0) {
    // an unresolved declaration falls back to what exists at its target, without a warning
    const unresolvedTargets = new Set(unresolved.map((d) => d.target))
    candidates = [...usable, ...observed.filter((d) => unresolvedTargets.has(d.target) && !resolvedTargets.has(d.target))]
    undeclared = observed.filter((d) => !resolvedTargets.has(d.target) && !unresolvedTargets.has(d.target) && !coveredByFolder(d, usable))
  } else {
    candidates = [...observed, ...input.defaults]
  }

  const groups = new Map<string, Declaration[]>()
  for (const d of [...candidates].sort(byPriority)) {
    const list = groups.get(d.target) ?? []
    list.push(d)
    groups.set(d.target, list)
  }
  const entries: DeclaredEntry[] = []
  const conflicts: Conflict[] = []
  for (const [target, list] of groups) {
    const first = list[0]!
    const basis: Basis = first.origin.via === 'observed' ? 'observed' : first.origin.via === 'default' ? 'default' : 'declared'
    // what exists or is assumed never disagrees with a declaration: it is what gets checked against it
    const declarationsOnly = list.filter((d) => d.origin.via !== 'observed' && d.origin.via !== 'default')
    const disagreeing = declarationsOnly.filter((d) => !agree(first, d))
    if (disagreeing.length > 0) conflicts.push({entry: entryOf(codexHome, target)!, declarations: declarationsOnly})
    const source = first.source ?? list.find((d) => d.source !== null && Boolean(d.inStore) === Boolean(first.inStore))?.source ?? null
    entries.push({
      entry: entryOf(codexHome, target)!,
      path: target,
      source,
      declarations: basis === 'declared' ? declarationsOnly.filter((d) => agree(first, d)) : [first],
      basis,
      inStore: Boolean(first.inStore),
      unfolded: list.some((d) => d.unfolded),
      outsideRepo: source !== null && !first.inStore && (repo === null || !isInside(source, repo)),
    })
  }
  entries.sort((a, b) => (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0))

  const vias = [...new Set(usable.map((d) => d.origin.via))].sort((a, b) => PRIORITY.indexOf(a) - PRIORITY.indexOf(b))
  return {
    codexHome,
    repo,
    entries,
    folderLinks,
    undeclared,
    conflicts,
    unresolved,
    problems: [...input.problems],
    declaredBy: vias,
    codexDir,
    sourceFolders: sourceFoldersOf(entries, codexDir, codexHome, repo),
  }
}

/** An observed `skills/x` link under a declared `skills` folder link, or a file inside an unfolded folder, is declared through it. */
function coveredByFolder(d: Declaration, declared: readonly Declaration[]): boolean {
  return declared.some((f) => f.target !== d.target && isInside(d.target, f.target))
}

/** Every repository folder holding sources (and the codex folder), with the CODEX_HOME path each stands for. */
export function sourceFoldersOf(entries: readonly DeclaredEntry[], codexDir: string | null, codexHome: string, repo: string | null): SourceFolder[] {
  const folders = new Map<string, string>()
  if (codexDir && repo && isInside(codexDir, repo)) folders.set(codexDir, '')
  for (const e of entries) {
    if (!e.source || e.inStore || e.outsideRepo || !repo) continue
    const dir = path.dirname(e.source)
    const under = path.posix.dirname(e.entry) === '.' ? '' : path.posix.dirname(e.entry)
    // the repository's root is a codex folder only when it is THE codex folder: flake.lock is no Codex lock file
    if (!isInside(dir, repo) || dir === repo || folders.has(dir)) continue
    folders.set(dir, under)
  }
  return [...folders].map(([dir, under]) => ({dir, under, main: dir === codexDir}))
}

/** The live config.toml: config.toml's declared source when the repository holds it, else the codex folder's. */
export function liveConfigOf(set: Pick<DeclaredSet, 'entries' | 'codexDir'>): string | null {
  const entry = set.entries.find((e) => e.entry === 'config.toml' && e.source && !e.inStore && !e.outsideRepo)
  if (entry?.source) return entry.source
  return set.codexDir ? path.join(set.codexDir, 'config.toml') : null
}
