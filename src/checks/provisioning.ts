/**
 * What the nix and ansible checks share: how the user's provisioning files declare CODEX_HOME
 * (the whole folder, the old way, or entry by entry), the verdict on it, and the rewrite of a
 * whole-folder declaration into one declaration per entry (seed steps 2 and 3).
 */
import path from 'node:path'

import type {Action} from '../actions/types.js'
import {CODEX_READS} from '../codex-facts.js'
import {statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {editAction, type NewLink, type PlannedEdit, toolRefuses} from '../declared/edit.js'
import type {DeclaredSet} from '../declared/set.js'
import type {Declaration, ReadProblem} from '../declared/types.js'
import {readdir, readFile} from '../fs-now.js'
import {repoPath} from '../repo/facts.js'
import {declaredAt, noDotfiles} from './shared.js'
import type {Check, Outcome} from './types.js'
import {listSome, listWords} from '../words.js'
import {CHECK_TITLES} from './titles.js'

export type Tool = 'nix' | 'ansible'

/** What one tool's files declare, out of the whole set. */
export interface ToolView {
  folderLinks: Declaration[]
  /** Per-entry declarations of this tool, with the entry they declare. */
  entries: {entry: string; declaration: Declaration}[]
  unresolved: Declaration[]
  problems: ReadProblem[]
}

export function viewOf(set: DeclaredSet, tool: Tool): ToolView {
  const mine = (d: Declaration) => d.origin.via === tool
  return {
    folderLinks: set.folderLinks.filter(mine),
    entries: set.entries.flatMap((e) => e.declarations.filter(mine).map((declaration) => ({entry: e.entry, declaration}))),
    unresolved: set.unresolved.filter(mine),
    problems: set.problems.filter((p) => p.via === tool),
  }
}

/**
 * The entries a whole-folder declaration becomes: each one Codex reads that the folder holds,
 * skills one by one (Codex writes its own skills/.system into CODEX_HOME/skills).
 */
export async function entriesOfFolder(folder: string, codexHome: string): Promise<NewLink[]> {
  const links: NewLink[] = []
  for (const name of Object.keys(CODEX_READS)) {
    const source = path.join(folder, name)
    if (!statOrUndefined(source)) continue
    if (name === 'skills') {
      const skills = (await readdir(source, {withFileTypes: true}).catch(() => []))
        .filter((d) => !d.name.startsWith('.') && (d.isDirectory() || d.isSymbolicLink()))
        .map((d) => d.name)
        .sort()
      for (const skill of skills) links.push({target: path.join(codexHome, 'skills', skill), source: path.join(source, skill)})
      continue
    }
    links.push({target: path.join(codexHome, name), source})
  }
  return links
}

/** Where the files are read: the repository (real path), HOME and CODEX_HOME. */
export interface Where {
  repo: string
  home: string
  codexHome: string
}

export type Rewrite = (ctx: Context, where: Where, file: string, text: string, folder: Declaration, entries: readonly NewLink[]) => Promise<{text: string} | {error: string}> | {text: string} | {error: string}

/** The rewrite of one whole-folder declaration, verified by our reader (inside `rewrite`) and the real tool where installed. */
export async function planRewrite(ctx: Context, set: DeclaredSet, tool: Tool, folder: Declaration, rewrite: Rewrite): Promise<PlannedEdit> {
  const file = folder.origin.file!
  const old = await readFile(file, 'utf8').catch(() => null)
  if (old === null) return {file, error: `cannot read ${file}`}
  if (!folder.source) return {file, error: `its source cannot be resolved${folder.unresolved ? ` (${folder.unresolved})` : ''}`}
  const entries = await entriesOfFolder(folder.source, ctx.codexHome)
  if (entries.length === 0) return {file, error: `${folder.source} holds nothing Codex reads`}
  const result = await rewrite(ctx, {repo: set.repo ?? ctx.dotfiles ?? '', home: ctx.home, codexHome: ctx.codexHome}, file, old, folder, entries)
  if ('error' in result) return {file, error: result.error}
  const refused = await toolRefuses(tool, file, result.text, ctx.env, (await ctx.tempDir()).dir)
  if (refused) return {file, error: refused}
  return {file, text: result.text, old}
}

const NAMES: Record<Tool, string> = {nix: 'Nix', ansible: 'Ansible'}

/** The verdict (pure, given the planned rewrites): a whole-folder link fails; an in-store config.toml fails; unreadable files warn. */
export function judgeProvisioning(tool: Tool, set: DeclaredSet, view: ToolView, rewrites: readonly PlannedEdit[], advice: {step: string; entryFix: string; run: string}): Outcome {
  const at = (d: Declaration) => declaredAt(d, set.repo)
  const rel = (file: string) => (set.repo ? repoPath(set.repo, file) : file)
  const details = {
    folderLinks: view.folderLinks.map((d) => ({file: d.origin.file, line: d.origin.line, source: d.source})),
    entries: view.entries.map(({entry, declaration: d}) => ({entry, file: d.origin.file, line: d.origin.line, source: d.source, inStore: d.inStore ?? false})),
    ...(rewrites.length > 0 ? {rewrites: rewrites.map((r) => ('error' in r ? {file: r.file, error: r.error} : {file: r.file}))} : {}),
    ...(view.unresolved.length > 0 ? {unresolved: view.unresolved.map((d) => ({at: at(d), target: d.target, why: d.unresolved}))} : {}),
    ...(view.problems.length > 0 ? {problems: view.problems.map((p) => ({file: p.file, line: p.line, message: p.message}))} : {}),
  }
  // an unresolved source is reported once, with what is checked instead
  const unresolvedAt = new Set(view.unresolved.map((d) => `${d.origin.file}:${d.origin.line}`))
  const notes = [
    ...view.problems.filter((p) => !unresolvedAt.has(`${p.file}:${p.line}`)).map((p) => `${rel(p.file)}${p.line ? `:${p.line}` : ''}: ${p.message}`),
    ...view.unresolved.map((d) => `${at(d)}: the source of ${d.target} cannot be resolved (${d.unresolved ?? 'unknown'}), so it is checked as it exists`),
  ]

  if (view.folderLinks.length > 0) {
    const failed = rewrites.filter((r): r is Extract<PlannedEdit, {error: string}> => 'error' in r)
    return {
      status: 'fail',
      summary: `${listSome(view.folderLinks.map(at))} ${view.folderLinks.length === 1 ? 'links' : 'link'} the whole ~/.codex folder; link its entries one by one`,
      details,
      remediation: {
        text:
          `${advice.step} Codex's own state then stays in ~/.codex, out of the repository. ` +
          (failed.length === 0
            ? `codex-doctor --fix rewrites ${listWords([...new Set(view.folderLinks.map((d) => rel(d.origin.file!)))])} in its own style (comments and everything else kept; undo restores it byte for byte); run --fix --dry-run to see the diff, then ${advice.run}.`
            : `codex-doctor --fix cannot rewrite ${failed.map((f) => `${rel(f.file)} (${f.error})`).join('; ')}: edit it by hand, then ${advice.run}.`),
        commands: [],
        automatic: failed.length === 0,
      },
    }
  }
  const store = view.entries.filter(({entry, declaration}) => entry === 'config.toml' && declaration.inStore)
  if (store.length > 0) {
    const generated = store.some(({declaration}) => declaration.source === null)
    return {
      status: 'fail',
      summary:
        `${listSome(store.map(({declaration}) => at(declaration)))} ${generated ? 'generate' : 'put'}${store.length === 1 ? 's' : ''} ~/.codex/config.toml into the read-only Nix store: Codex cannot save its settings` +
        (notes.length ? `; ${notes.join('; ')}` : ''),
      details,
      remediation: {text: advice.entryFix, commands: [], automatic: false},
    }
  }
  if (notes.length > 0) {
    return {
      status: 'warn',
      summary: notes.join('; '),
      details,
      remediation: {text: `codex-doctor could not read every ${NAMES[tool]} declaration; those entries are checked as they exist on disk.`, commands: [], automatic: false},
    }
  }
  if (view.entries.length === 0) return {status: 'skip', summary: `no ${NAMES[tool]} file declares a link in ~/.codex`, details}
  const files = [...new Set(view.entries.map(({declaration}) => rel(declaration.origin.file!)))]
  const entries = [...new Set(view.entries.map(({entry}) => entry))]
  return {status: 'pass', summary: `${listSome(files)} ${files.length === 1 ? 'links' : 'link'} ~/.codex entry by entry: ${listSome(entries, 5)}`, details}
}

/** A check for one provisioning tool: judge its declarations, and rewrite whole-folder ones on --fix. */
export function provisioningCheck(tool: Tool, rewrite: Rewrite, advice: {step: string; entryFix: string; run: string}): Check {
  const rewritesOf = async (ctx: Context, set: DeclaredSet) => {
    // one rewrite per file: a second whole-folder declaration in the same file is seen again after the first
    const firstPerFile = new Map<string, Declaration>()
    for (const d of viewOf(set, tool).folderLinks) if (d.origin.file && !firstPerFile.has(d.origin.file)) firstPerFile.set(d.origin.file, d)
    return Promise.all([...firstPerFile.values()].map((d) => planRewrite(ctx, set, tool, d, rewrite)))
  }
  return {
    id: tool,
    title: CHECK_TITLES[tool],
    async run(ctx) {
      if (!ctx.dotfiles) return noDotfiles(ctx)
      const set = await ctx.declared()
      const view = viewOf(set, tool)
      return judgeProvisioning(tool, set, view, view.folderLinks.length > 0 ? await rewritesOf(ctx, set) : [], advice)
    },
    async plan(ctx): Promise<Action[]> {
      if (!ctx.dotfiles) return []
      const set = await ctx.declared()
      const edits = await rewritesOf(ctx, set)
      return edits.flatMap((e) => ('text' in e ? [editAction(tool, e, `seed step ${tool === 'nix' ? 2 : 3}: one declaration per entry instead of the whole ~/.codex`, set.repo)] : []))
    },
  }
}
