import path from 'node:path'

import type {Action} from '../actions/types.js'
import {codexKind} from '../codex-facts.js'
import {type Chain, type ChainEnd, isInside, readChain, statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {homeManagerFiles, homeManagerLinkFor} from '../declared/home-manager.js'
import {realEnd} from '../declared/observed.js'
import type {DeclaredEntry, DeclaredSet} from '../declared/set.js'
import type {Declaration} from '../declared/types.js'
import {lstat, readdir, readFile, readlink} from '../fs-now.js'
import {git} from '../process.js'
import {type Home, hopLines, inspectHome, realpathOrNull} from '../codex/home.js'
import {declaredAt, noDotfiles} from './shared.js'
import type {Check, Outcome} from './types.js'
import {listWords, shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

export type EntryState =
  | 'ok'
  | 'unfolded' // a real folder whose files each link to the source's (stow --no-folding, home.file recursive): fine
  | 'in-store' // a read-only copy in the Nix store, as declared: fine, except for config.toml
  | 'missing' // nothing at CODEX_HOME/<entry>
  | 'file-in-the-way' // a regular file or folder where the link should be
  | 'wrong-target' // the chain ends at a real path that is not the declared source
  | 'dangling' // the chain ends at nothing
  | 'loop'
  | 'kind-mismatch' // a file where a folder is expected, or the reverse
  | 'repo-entry-missing' // the declared source is not in the repository
  | 'outside-repo' // the declaration points outside the repository

export interface EntryFacts {
  /** What the repository holds at the declared source, links followed. */
  repo: ChainEnd
  /** Links between CODEX_HOME/<entry> and where its chain ends. */
  hops: number
  end: ChainEnd
  /** The chain ends at the declared source (same real path). */
  reachesRepo: boolean
}

/** The one state an entry is in; the repository's side first, since nothing can link to what is not there. */
export function classifyEntry(entry: string, f: EntryFacts): EntryState {
  const wanted = codexKind(entry)
  if (f.repo === 'missing' || f.repo === 'loop') return 'repo-entry-missing'
  if (f.repo === 'other' || (wanted && wanted !== f.repo)) return 'kind-mismatch'
  if (f.end === 'loop') return 'loop'
  if (f.hops === 0) return f.end === 'missing' ? 'missing' : 'file-in-the-way'
  if (f.end === 'missing') return 'dangling'
  if (f.reachesRepo) return 'ok'
  return f.end === f.repo ? 'wrong-target' : 'kind-mismatch'
}

/** One managed entry as the report (and a fixer) sees it. */
export interface EntryReport {
  entry: string
  /** CODEX_HOME/<entry>: where the link belongs. */
  path: string
  state: EntryState
  /** The declared source: where the chain must end (null: a file generated into the Nix store). */
  expected: string | null
  /** Each hop as `path → target`. */
  chain: string[]
  /** Where the chain ends (the entry's own path when it is no link). */
  final: string
  /** What the chain ends at. */
  finalKind: ChainEnd
  /** What the repository holds at `expected`. */
  repoKind: ChainEnd
  /** Where it is declared (`nix/home.nix:4`), or how it is known (`exists`, `Codex reads it`). */
  declaredAt: string[]
  basis: DeclaredEntry['basis']
  /** How it is declared, for the fixer: a home-manager link is made by switching, a stow link is relative. */
  via: Declaration['origin']['via']
  /** Declared by Nix on a machine home-manager manages: where its own link points in the current generation, when that leads to the source. */
  hmLink?: string
  /** Declared by Nix, home-manager manages this HOME, and the link is not home-manager's: its next switch finds it in the way. */
  notHomeManagers?: boolean
  /** home-manager manages this HOME (it makes the links Nix declares). */
  homeManaged?: boolean
  inStore?: boolean
  /** file-in-the-way: whether its content differs from the declared source. */
  differs?: boolean
  /** repo-entry-missing: the repository's example file to start from, when there is one. */
  example?: string
}

/** Same bytes, or the same tree of names, bytes and link targets; links are compared, never followed. */
export async function sameContent(a: string, b: string): Promise<boolean> {
  const [infoA, infoB] = await Promise.all([lstat(a), lstat(b)])
  if (infoA.isSymbolicLink() || infoB.isSymbolicLink()) {
    return infoA.isSymbolicLink() && infoB.isSymbolicLink() && (await readlink(a)) === (await readlink(b))
  }
  if (infoA.isFile() && infoB.isFile()) return infoA.size === infoB.size && (await readFile(a)).equals(await readFile(b))
  if (!infoA.isDirectory() || !infoB.isDirectory()) return false
  const [namesA, namesB] = await Promise.all([readdir(a), readdir(b)])
  if (namesA.sort().join('\0') !== namesB.sort().join('\0')) return false
  for (const name of namesA) if (!(await sameContent(path.join(a, name), path.join(b, name)))) return false
  return true
}

/**
 * A real folder whose every entry of `source` is linked (a link whose chain ends at it) or, for a
 * folder, is itself such a folder: what stow --no-folding makes. Extra entries (skills/.system) are fine.
 */
export async function linkedFileByFile(at: string, source: string, depth = 0): Promise<boolean> {
  if (depth > 8) return false
  let names: string[]
  try {
    names = await readdir(source)
  } catch {
    return false
  }
  for (const name of names) {
    const here = path.join(at, name)
    const there = path.join(source, name)
    const info = await lstat(here).catch(() => null)
    if (!info) return false
    if (info.isSymbolicLink()) {
      const [end, real] = await Promise.all([realEnd(readChain(here)), realpathOrNull(there)])
      if (end === null || end !== real) return false
    } else if (info.isDirectory()) {
      if (!(await linkedFileByFile(here, there, depth + 1))) return false
    } else return false
  }
  return true
}

const STORE = '/nix/store'

/** `nix/home.nix:4`, `codex-doctor.toml:3`, `stow package codex`, `exists`, `Codex reads it`. */
export function declarationWords(e: DeclaredEntry, repo: string | null): string[] {
  return e.declarations.map((d) => declaredAt(d, repo))
}

export async function inspectEntry(e: DeclaredEntry, repo: string | null): Promise<EntryReport> {
  const at = e.path
  const chain: Chain = readChain(at)
  const repoChain = e.source ? readChain(e.source) : null
  const [realExpected, realFinal] = await Promise.all([
    repoChain && repoChain.end !== 'missing' && repoChain.end !== 'loop' ? realpathOrNull(e.source) : null,
    chain.end === 'missing' || chain.end === 'loop' ? null : realpathOrNull(chain.final),
  ])
  const reachesRepo = realExpected !== null && realExpected === realFinal
  const base = {
    entry: e.entry,
    path: at,
    expected: e.source,
    chain: hopLines(chain),
    final: chain.final,
    finalKind: chain.end,
    repoKind: repoChain?.end ?? ('missing' as ChainEnd),
    declaredAt: declarationWords(e, repo),
    basis: e.basis,
    via: e.declarations[0]?.origin.via ?? 'default',
    ...(e.inStore ? {inStore: true} : {}),
  }
  let state: EntryState
  if (e.outsideRepo && e.basis === 'declared') state = 'outside-repo'
  else if (e.inStore) {
    if (reachesRepo) state = 'ok'
    else if (chain.end === 'loop') state = 'loop'
    else if (chain.hops.length === 0) state = chain.end === 'missing' ? 'missing' : 'file-in-the-way'
    else if (chain.end === 'missing') state = 'dangling'
    else state = realFinal !== null && isInside(realFinal, STORE) ? 'in-store' : 'wrong-target'
  } else state = classifyEntry(e.entry, {repo: base.repoKind, hops: chain.hops.length, end: chain.end, reachesRepo})
  if (state === 'file-in-the-way' && e.unfolded && chain.end === 'dir' && e.source && (await linkedFileByFile(at, e.source))) state = 'unfolded'

  const report: EntryReport = {...base, state}
  if (state === 'file-in-the-way' && e.source && !e.inStore && repoChain && repoChain.end !== 'missing') report.differs = !(await sameContent(at, realExpected ?? e.source))
  if (state === 'repo-entry-missing' && e.source) {
    const example = e.source.replace(/(\.[^./]+)$/, '.example$1')
    if (example !== e.source && statOrUndefined(example)?.isFile()) report.example = example
  }
  return report
}

const KIND_WORD: Record<ChainEnd, string> = {file: 'a file', dir: 'a folder', missing: 'nothing', loop: 'a loop', other: 'neither a file nor a folder'}

/** States that are as declared. */
export function isGood(r: EntryReport): boolean {
  return r.state === 'ok' || r.state === 'unfolded' || (r.state === 'in-store' && r.entry !== 'config.toml')
}

/** ` (declared at nix/home.nix:4)`, for entries a file declares. */
const where = (r: EntryReport) => (r.basis === 'declared' && r.declaredAt.length > 0 ? ` (declared at ${r.declaredAt.join(', ')})` : '')

/** One entry's problem in a few words, for the one-line summary. */
export function describeEntry(r: EntryReport): string {
  switch (r.state) {
    case 'ok':
      return `${r.entry} links to ${r.expected}`
    case 'unfolded':
      return `${r.entry} is a folder whose files link to ${r.expected}`
    case 'in-store':
      return r.entry === 'config.toml'
        ? `config.toml is a read-only copy in the Nix store (${r.final})${where(r)}: Codex cannot save its settings`
        : `${r.entry} is a read-only copy in the Nix store${where(r)}`
    case 'missing':
      return `${r.entry} is missing${where(r)}`
    case 'file-in-the-way': {
      const what = r.finalKind === 'dir' ? 'a real folder' : 'a regular file'
      const differs = r.differs === undefined ? '' : r.differs ? "; it differs from the repository's" : "; same content as the repository's"
      return r.entry === 'config.toml'
        ? `config.toml is ${what}, not a link (Codex ≤ 0.87 replaced the link with a copy${differs})${where(r)}`
        : `${r.entry} is ${what}, not a link${differs ? ` (${differs.slice(2)})` : ''}${where(r)}`
    }
    case 'wrong-target':
      return `${r.entry} links to ${r.final}, not to ${r.expected ?? 'the Nix store'}${where(r)}`
    case 'dangling':
      return `${r.entry} is a dangling link (${r.final} does not exist)${where(r)}`
    case 'loop':
      return `${r.entry} is a link loop${where(r)}`
    case 'kind-mismatch': {
      const wanted = codexKind(r.entry)
      return wanted && wanted !== r.repoKind
        ? `the repository's ${r.entry} (${r.expected}) is ${KIND_WORD[r.repoKind]}, but Codex needs ${KIND_WORD[wanted]}`
        : `${r.entry} links to ${KIND_WORD[r.finalKind]} (${r.final}), but the repository's ${r.entry} is ${KIND_WORD[r.repoKind]}`
    }
    case 'repo-entry-missing':
      return r.basis === 'declared'
        ? `${r.entry} is declared at ${r.declaredAt.join(', ')}, but the repository has no ${r.expected}: the next switch makes a dangling link`
        : `the repository has no ${r.expected}`
    case 'outside-repo':
      return `${r.entry} is declared at ${r.declaredAt.join(', ')} to link to ${r.expected}, which is outside the dotfiles repository`
  }
}

/**
 * Whether `--fix` can repair the entry alone: it cannot invent the repository's side, rewrite a
 * declaration, or make a Nix store copy (a switch does that).
 */
export function fixable(r: EntryReport): boolean {
  if (r.inStore || r.expected === null) return false
  // a link of ours where home-manager makes its own would stand in its way at the next switch
  if (r.via === 'nix' && r.homeManaged && !r.hmLink) return false
  return !['ok', 'unfolded', 'in-store', 'repo-entry-missing', 'outside-repo'].includes(r.state) && !(r.state === 'kind-mismatch' && r.finalKind === r.repoKind)
}

/** The link's target as the tool that declares it writes it: stow's are relative. */
export function linkTargetFor(r: EntryReport): string {
  if (r.via === 'stow') return path.relative(path.dirname(r.path), r.expected!)
  if (r.via === 'nix' && r.homeManaged && r.hmLink) return r.hmLink
  return r.expected!
}

/** The shell commands that repair one entry by hand; what is in the way is moved aside first, never overwritten. */
export function repairCommands(r: EntryReport): string[] {
  const q = shellQuote
  if (r.expected === null) return []
  const link = `ln -sfn ${q(linkTargetFor(r))} ${q(r.path)}`
  const aside = `mv ${q(r.path)} ${q(r.path + '.bak')}`
  switch (r.state) {
    case 'ok':
    case 'unfolded':
    case 'in-store':
    case 'outside-repo':
      return []
    case 'file-in-the-way':
      if (r.inStore || (r.via === 'nix' && r.homeManaged && !r.hmLink)) return [aside, 'home-manager switch']
      // ln -f replaces a file but would put the link inside a real folder
      return r.finalKind === 'dir' || r.differs !== false ? [aside, link] : [link]
    case 'repo-entry-missing': {
      const wanted = codexKind(r.entry)
      if (r.chain.length === 0 && r.finalKind !== 'missing' && r.finalKind !== 'loop' && (!wanted || wanted === r.finalKind)) {
        // a real one in CODEX_HOME becomes the repository's
        return [`mv ${q(r.path)} ${q(r.expected)}`, link]
      }
      if (r.example) return [`cp ${q(r.example)} ${q(r.expected)}`, link]
      return wanted === 'dir' ? [`mkdir -p ${q(r.expected)}`, link] : []
    }
    default:
      return fixable(r) ? [link] : []
  }
}

/** What is declared twice, differently, and what exists undeclared: warnings, each naming its places. */
export function declarationWarnings(set: Pick<DeclaredSet, 'conflicts' | 'undeclared' | 'repo' | 'codexHome'>): string[] {
  const rel = (p: string) => path.relative(set.codexHome, p) || '.'
  return [
    ...set.conflicts.map(
      (c) => `${c.entry} is declared differently at ${c.declarations.map((d) => `${declaredAt(d, set.repo)} (${d.inStore ? 'a Nix store copy' : (d.source ?? 'generated')})`).join(' and ')}`,
    ),
    ...(set.undeclared.length > 0
      ? [`${listWords(set.undeclared.map((d) => rel(d.target)))} ${set.undeclared.length === 1 ? 'links' : 'link'} into the repository, but nothing declares ${set.undeclared.length === 1 ? 'it' : 'them'}: ${set.undeclared.length === 1 ? 'it' : 'they'} will not exist on a new machine`]
      : []),
  ]
}

/** The verdict over all entries, in a layout where CODEX_HOME is a folder (or missing). */
export function linksVerdict(reports: readonly EntryReport[], set: Pick<DeclaredSet, 'conflicts' | 'undeclared' | 'repo' | 'codexHome' | 'codexDir' | 'declaredBy' | 'unresolved'>, homeMissing = false): Outcome {
  const details = {
    codexHome: set.codexHome,
    codexDir: set.codexDir,
    declaredBy: set.declaredBy.length > 0 ? set.declaredBy : ['nothing: the links that exist, and what Codex reads from the codex folder'],
    entries: reports.map((r) => ({...r})),
    ...(set.undeclared.length > 0 ? {undeclared: set.undeclared.map((d) => ({path: d.target, source: d.source}))} : {}),
    ...(set.conflicts.length > 0 ? {conflicts: set.conflicts.map((c) => ({entry: c.entry, declarations: c.declarations.map((d) => ({...d.origin, source: d.source, inStore: d.inStore ?? false}))}))} : {}),
    ...(set.unresolved.length > 0 ? {unresolved: set.unresolved.map((d) => ({path: d.target, at: declaredAt(d, set.repo), why: d.unresolved}))} : {}),
  }
  const foreign = reports.filter((r) => r.notHomeManagers)
  const warnings = [
    ...declarationWarnings(set),
    ...(foreign.length > 0
      ? [`${listWords(foreign.map((r) => r.entry))} ${foreign.length === 1 ? 'is' : 'are'} declared in Nix but not linked by home-manager: its next switch will stop at ${foreign.length === 1 ? 'it' : 'them'} ("Existing file … is in the way") unless run with -b`]
      : []),
  ]
  const bad = reports.filter((r) => !isGood(r))
  if (bad.length === 0) {
    if (warnings.length > 0) {
      return {
        status: 'warn',
        summary: warnings.join('; '),
        details,
        remediation: {
          text:
            (foreign.length > 0 ? 'Let home-manager make the links it declares: move those aside and switch (or switch with -b backup). ' : '') +
            'Declare each link once, in the file that makes it (Nix, Ansible, stow or codex-doctor.toml), so that a new machine gets the same links.',
          commands: foreign.flatMap((r) => [`mv ${shellQuote(r.path)} ${shellQuote(r.path + '.bak')}`]).concat(foreign.length > 0 ? ['home-manager switch'] : []),
          automatic: false,
        },
      }
    }
    if (reports.length === 0) return {status: 'pass', summary: 'no entries to link: nothing is declared, linked or in the codex folder', details}
    const places = [...new Set(reports.map((r) => (r.expected ? path.dirname(r.expected) : 'the Nix store')))]
    return {status: 'pass', summary: `${listWords(reports.map((r) => r.entry))} link into ${listWords(places)}`, details}
  }
  const manual = bad.filter((r) => !fixable(r))
  const switchNeeded = manual.some((r) => r.inStore)
  return {
    status: 'fail',
    summary: [...bad.map(describeEntry), ...warnings].join('; '),
    details,
    remediation: {
      text:
        (bad.length > manual.length ? 'codex-doctor --fix links each entry; anything in the way goes to the backup, with a diff when its content differs.' : '') +
        (manual.length ? ` It cannot repair ${listWords(manual.map((r) => r.entry))} by itself: ${manualAdvice(manual, switchNeeded)}` : '') +
        ' The commands below do the same by hand.',
      commands: [...(homeMissing ? [`mkdir -p ${shellQuote(set.codexHome)}`] : []), ...bad.flatMap(repairCommands)],
      automatic: manual.length === 0,
    },
  }
}

function manualAdvice(manual: readonly EntryReport[], switchNeeded: boolean): string {
  const parts: string[] = []
  if (manual.some((r) => r.state === 'repo-entry-missing')) parts.push('create the missing sources in the repository (or drop their declarations)')
  if (manual.some((r) => r.state === 'outside-repo')) parts.push('point the declarations into the repository')
  if (manual.some((r) => r.state === 'in-store' && r.entry === 'config.toml')) parts.push('link config.toml with mkOutOfStoreSymlink (see the nix check)')
  if (switchNeeded || manual.some((r) => r.via === 'nix' && r.homeManaged && !r.hmLink && !r.inStore)) parts.push('run home-manager switch: it makes the links Nix declares (move anything in the way aside first, as below)')
  if (manual.some((r) => r.state === 'kind-mismatch')) parts.push('make the repository\'s entry the kind Codex needs')
  return parts.join('; ') + '.'
}

/** CODEX_HOME itself is in the way: the entries cannot be judged one by one until codex-home is fixed. */
export function homeBlocksLinks(home: Home, entries: readonly string[]): Outcome | null {
  const details = {codexHome: home.path, home: home.kind, homeChain: hopLines(home.chain), final: home.chain.final, entries: [...entries], fixedBy: 'codex-home'}
  const names = entries.length > 0 ? listWords(entries) : 'its entries'
  switch (home.kind) {
    case 'folder':
    case 'outside-link':
    case 'missing':
      return null
    case 'repo-link':
      return {
        status: 'fail',
        summary: `old layout: CODEX_HOME is itself a link into the repository (${home.real}), so ${names} resolve through the directory link; codex-home's migration links them one by one`,
        details,
        remediation: {text: 'codex-doctor --fix migrates CODEX_HOME to a real folder and links each entry (see codex-home).', commands: ['codex-doctor --fix'], automatic: true},
      }
    case 'repo-folder':
      return {
        status: 'fail',
        summary: `CODEX_HOME is the repository's folder ${home.real} itself, so there is nothing to link; see codex-home`,
        details,
        remediation: {text: 'Point CODEX_HOME at a folder outside the repository first (see codex-home).', automatic: false},
      }
    default:
      return {
        status: 'fail',
        summary: `CODEX_HOME (${home.path}) is not a folder (${home.kind}), so no entry can be linked in it; see codex-home`,
        details,
        remediation: {text: 'Make CODEX_HOME a real folder first (see codex-home).', automatic: false},
      }
  }
}

/** How `changed` differs from the repository's `original` (`git diff --no-index`), for the user to carry a change over. */
export async function diffOf(original: string, changed: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const result = await git(path.dirname(changed), ['diff', '--no-index', '--no-color', '--no-ext-diff', '--no-prefix', '--', original, changed], {env})
  // exit 1 means "they differ"; anything else (binary, unreadable) gives no diff rather than a wrong one
  if (result.exitCode !== 1 || !result.stdout) return undefined
  // the ---/+++ lines name both files; git's own header lines add nothing a user needs
  const lines = result.stdout.trimEnd().split('\n').filter((l) => !l.startsWith('diff --git ') && !l.startsWith('index '))
  return lines.length > 200 ? [...lines.slice(0, 200), `… ${lines.length - 200} more lines`].join('\n') : lines.join('\n')
}

/** One link action per entry --fix can repair; whatever is in the way goes to the backup (the actions layer does that). */
export async function planLinks(reports: readonly EntryReport[], ctx: Pick<Context, 'codexHome' | 'env'>, homeMissing: boolean): Promise<Action[]> {
  const todo = reports.filter((r) => !isGood(r) && fixable(r))
  if (todo.length === 0) return []
  const actions: Action[] = homeMissing ? [{check: 'links', op: 'mkdir', path: ctx.codexHome}] : []
  for (const r of todo) {
    const diff = r.state === 'file-in-the-way' && r.differs ? await diffOf(r.expected!, r.path, ctx.env) : undefined
    actions.push({check: 'links', op: 'link', path: r.path, to: linkTargetFor(r), note: describeEntry(r), ...(diff ? {diff} : {})})
  }
  return actions
}

/** Whether a link is home-manager's own: it points into a `*-home-manager-files` store path (its pattern for what it owns). */
async function throughHomeManager(at: string): Promise<boolean> {
  const target = await readlink(at).catch(() => null)
  return target !== null && /\/[^/]*-home-manager-files\//.test(target)
}

/** home-manager's link for a Nix-declared entry in the current generation, when its chain leads to the declared source. */
async function currentHomeManagerLink(r: EntryReport, ctx: Context): Promise<string | null> {
  const there = await homeManagerLinkFor(r.path, ctx.home, ctx.env)
  if (!there) return null
  const [end, source] = await Promise.all([realEnd(readChain(there)), realpathOrNull(r.expected)])
  return end !== null && end === source ? there : null
}

/** Every entry of the set, inspected; null when CODEX_HOME itself blocks them (the old layout…). */
async function inspectAll(ctx: Context): Promise<{set: DeclaredSet; home: Home; blocked: Outcome | null; reports: EntryReport[]}> {
  const [set, home] = await Promise.all([ctx.declared(), inspectHome(ctx)])
  const blocked = homeBlocksLinks(home, set.entries.map((e) => e.entry))
  const reports = blocked ? [] : await Promise.all(set.entries.map((e) => inspectEntry(e, set.repo)))
  const nixEntries = reports.filter((r) => r.via === 'nix' && r.expected && !r.inStore)
  if (nixEntries.length > 0 && (await homeManagerFiles(ctx.home, ctx.env))) {
    for (const r of nixEntries) {
      r.homeManaged = true
      if (!isGood(r)) r.hmLink = (await currentHomeManagerLink(r, ctx)) ?? undefined
      else r.notHomeManagers = !(await throughHomeManager(r.path))
    }
  }
  return {set, home, blocked, reports}
}

export const links: Check = {
  id: 'links',
  title: CHECK_TITLES['links'],
  async run(ctx) {
    // nothing leads from CODEX_HOME to a repository: that is the problem this check exists for, not a reason to skip
    if (!ctx.dotfiles) return {...noDotfiles(ctx), status: 'warn', summary: 'no link in CODEX_HOME leads to a dotfiles repository, and none was named'}
    const {set, home, blocked, reports} = await inspectAll(ctx)
    return blocked ?? linksVerdict(reports, set, home.kind === 'missing')
  },
  async plan(ctx) {
    if (!ctx.dotfiles) return []
    // the old layout is codex-home's migration: linking through the directory link would hit the repository's own files
    const {home, blocked, reports} = await inspectAll(ctx)
    if (blocked) return []
    return planLinks(reports, ctx, home.kind === 'missing')
  },
}
