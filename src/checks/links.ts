import {lstat, readdir, readFile, readlink} from 'node:fs/promises'
import path from 'node:path'

import type {Action} from '../actions/types.js'
import {type ChainEnd, readChain, statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {git} from '../process.js'
import {type Home, hopLines, inspectHome, listWords, realpathOrNull} from './layout.js'
import {noDotfiles, shellQuote} from './shared.js'
import type {Check, Outcome} from './types.js'

export type EntryState =
  | 'ok'
  | 'missing' // nothing at CODEX_HOME/<entry>
  | 'file-in-the-way' // a regular file or folder where the link should be
  | 'wrong-target' // the chain ends at a real path that is not the repository's entry
  | 'dangling' // the chain ends at nothing
  | 'loop'
  | 'kind-mismatch' // a file where a folder is expected, or the reverse
  | 'repo-entry-missing' // the repository has no <codexDir>/<entry>

/** Entries Codex reads as one kind, whatever the repository holds (a folder as config.toml makes Codex fail). */
const CODEX_KIND: Record<string, 'file' | 'dir'> = {'config.toml': 'file', 'AGENTS.md': 'file', prompts: 'dir', skills: 'dir'}

export interface EntryFacts {
  /** What the repository holds at `<codexDir>/<entry>`, links followed. */
  repo: ChainEnd
  /** Links between CODEX_HOME/<entry> and where its chain ends. */
  hops: number
  end: ChainEnd
  /** The chain ends at the repository's entry (same real path). */
  reachesRepo: boolean
}

/** The one state an entry is in; the repository's side first, since nothing can link to what is not there. */
export function classifyEntry(entry: string, f: EntryFacts): EntryState {
  if (f.repo === 'missing' || f.repo === 'loop') return 'repo-entry-missing'
  if (f.repo === 'other' || (CODEX_KIND[entry] && CODEX_KIND[entry] !== f.repo)) return 'kind-mismatch'
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
  /** The repository's entry: the link's target. */
  expected: string
  /** Each hop as `path → target`. */
  chain: string[]
  /** Where the chain ends (the entry's own path when it is no link). */
  final: string
  /** What the chain ends at. */
  finalKind: ChainEnd
  /** What the repository holds at `expected`. */
  repoKind: ChainEnd
  /** file-in-the-way: whether its content differs from the repository's entry. */
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

export async function inspectEntry(codexHome: string, codexDir: string, entry: string): Promise<EntryReport> {
  const at = path.join(codexHome, entry)
  const expected = path.join(codexDir, entry)
  const [repoChain, chain] = await Promise.all([readChain(expected), readChain(at)])
  const [realExpected, realFinal] = await Promise.all([
    repoChain.end === 'missing' || repoChain.end === 'loop' ? null : realpathOrNull(expected),
    chain.end === 'missing' || chain.end === 'loop' ? null : realpathOrNull(chain.final),
  ])
  const reachesRepo = realExpected !== null && realExpected === realFinal
  const state = classifyEntry(entry, {repo: repoChain.end, hops: chain.hops.length, end: chain.end, reachesRepo})
  const report: EntryReport = {entry, path: at, state, expected, chain: hopLines(chain), final: chain.final, finalKind: chain.end, repoKind: repoChain.end}
  if (state === 'file-in-the-way') report.differs = !(await sameContent(at, realExpected ?? expected))
  if (state === 'repo-entry-missing') {
    const example = path.join(codexDir, entry.replace(/(\.[^./]+)$/, '.example$1'))
    if (example !== expected && (await statOrUndefined(example))?.isFile()) report.example = example
  }
  return report
}

const KIND_WORD: Record<ChainEnd, string> = {file: 'a file', dir: 'a folder', missing: 'nothing', loop: 'a loop', other: 'neither a file nor a folder'}

/** One entry's problem in a few words, for the one-line summary. */
export function describeEntry(r: EntryReport): string {
  switch (r.state) {
    case 'ok':
      return `${r.entry} links to ${r.expected}`
    case 'missing':
      return `${r.entry} is missing`
    case 'file-in-the-way': {
      const what = r.finalKind === 'dir' ? 'a real folder' : 'a regular file'
      const differs = r.differs ? "it differs from the repository's" : "same content as the repository's"
      return r.entry === 'config.toml'
        ? `config.toml is ${what}, not a link (Codex ≤ 0.87 replaced the link with a copy; ${differs})`
        : `${r.entry} is ${what}, not a link (${differs})`
    }
    case 'wrong-target':
      return `${r.entry} links to ${r.final}, not to ${r.expected}`
    case 'dangling':
      return `${r.entry} is a dangling link (${r.final} does not exist)`
    case 'loop':
      return `${r.entry} is a link loop`
    case 'kind-mismatch':
      return CODEX_KIND[r.entry] && CODEX_KIND[r.entry] !== r.repoKind
        ? `the repository's ${r.entry} is ${KIND_WORD[r.repoKind]}, but Codex needs ${KIND_WORD[CODEX_KIND[r.entry]!]}`
        : `${r.entry} links to ${KIND_WORD[r.finalKind]} (${r.final}), but the repository's ${r.entry} is ${KIND_WORD[r.repoKind]}`
    case 'repo-entry-missing':
      return `the repository has no ${r.expected}`
  }
}

/** Whether `--fix` can repair the entry alone: it cannot invent the repository's side. */
export function fixable(r: EntryReport): boolean {
  return r.state !== 'repo-entry-missing' && !(r.state === 'kind-mismatch' && r.finalKind === r.repoKind)
}

/** The shell commands that repair one entry by hand; what is in the way is moved aside first, never overwritten. */
export function repairCommands(r: EntryReport): string[] {
  const q = shellQuote
  const link = `ln -sfn ${q(r.expected)} ${q(r.path)}`
  const aside = `mv ${q(r.path)} ${q(r.path + '.bak')}`
  switch (r.state) {
    case 'ok':
      return []
    case 'file-in-the-way':
      // ln -f replaces a file but would put the link inside a real folder
      return r.finalKind === 'dir' || r.differs !== false ? [aside, link] : [link]
    case 'repo-entry-missing': {
      const wanted = CODEX_KIND[r.entry]
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

/** The verdict over all entries, in a layout where CODEX_HOME is a folder (or missing). */
export function linksVerdict(reports: readonly EntryReport[], ctx: {codexHome: string; codexDir: string; homeMissing?: boolean}): Outcome {
  const details = {codexHome: ctx.codexHome, codexDir: ctx.codexDir, entries: reports.map((r) => ({...r}))}
  if (reports.length === 0) return {status: 'pass', summary: 'no entries to link (links = [] in codex-doctor.toml)', details}
  const bad = reports.filter((r) => r.state !== 'ok')
  if (bad.length === 0) {
    return {status: 'pass', summary: `${listWords(reports.map((r) => r.entry))} link into ${ctx.codexDir}`, details}
  }
  const manual = bad.filter((r) => !fixable(r)).map((r) => r.entry)
  return {
    status: 'fail',
    summary: bad.map(describeEntry).join('; '),
    details,
    remediation: {
      text:
        'codex-doctor --fix links each entry; anything in the way goes to the backup, with a diff when its content differs.' +
        (manual.length ? ` It cannot create the repository's ${listWords(manual)}: do that by hand.` : '') +
        ' The commands below do the same by hand.',
      commands: [...(ctx.homeMissing ? [`mkdir -p ${shellQuote(ctx.codexHome)}`] : []), ...bad.flatMap(repairCommands)],
      automatic: manual.length === 0,
    },
  }
}

/** CODEX_HOME itself is in the way: the entries cannot be judged one by one until codex-home is fixed. */
export function homeBlocksLinks(home: Home, entries: readonly string[]): Outcome | null {
  const details = {codexHome: home.path, home: home.kind, homeChain: hopLines(home.chain), final: home.chain.final, entries: [...entries], fixedBy: 'codex-home'}
  switch (home.kind) {
    case 'folder':
    case 'outside-link':
    case 'missing':
      return null
    case 'repo-link':
      return {
        status: 'fail',
        summary: `old layout: CODEX_HOME is itself a link into the repository (${home.real}), so ${listWords(entries)} resolve through the directory link; codex-home's migration links them one by one`,
        details,
        remediation: {text: "codex-doctor --fix migrates CODEX_HOME to a real folder and links each entry (see codex-home).", commands: ['codex-doctor --fix'], automatic: true},
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
  const todo = reports.filter((r) => r.state !== 'ok' && fixable(r))
  if (todo.length === 0) return []
  const actions: Action[] = homeMissing ? [{check: 'links', op: 'mkdir', path: ctx.codexHome}] : []
  for (const r of todo) {
    const diff = r.state === 'file-in-the-way' && r.differs ? await diffOf(r.expected, r.path, ctx.env) : undefined
    actions.push({check: 'links', op: 'link', path: r.path, to: r.expected, note: describeEntry(r), ...(diff ? {diff} : {})})
  }
  return actions
}

export const links: Check = {
  id: 'links',
  title: 'Each managed entry in CODEX_HOME links to the repository',
  async run(ctx) {
    const codexDir = ctx.codexDir
    // nothing leads from CODEX_HOME to a repository: that is the problem this check exists for, not a reason to skip
    if (!ctx.dotfiles || !codexDir) return {...noDotfiles(ctx), status: 'warn', summary: 'no link in CODEX_HOME leads to a dotfiles repository, and none was named'}
    const home = await inspectHome(ctx)
    const blocked = homeBlocksLinks(home, ctx.config.links)
    if (blocked) return blocked
    const reports = await Promise.all(ctx.config.links.map((entry) => inspectEntry(ctx.codexHome, codexDir, entry)))
    return linksVerdict(reports, {codexHome: ctx.codexHome, codexDir, homeMissing: home.kind === 'missing'})
  },
  async plan(ctx) {
    const codexDir = ctx.codexDir
    if (!ctx.dotfiles || !codexDir) return []
    const home = await inspectHome(ctx)
    // the old layout is codex-home's migration: linking through the directory link would hit the repository's own files
    if (homeBlocksLinks(home, ctx.config.links)) return []
    const reports = await Promise.all(ctx.config.links.map((entry) => inspectEntry(ctx.codexHome, codexDir, entry)))
    return planLinks(reports, ctx, home.kind === 'missing')
  },
}
