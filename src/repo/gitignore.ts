/**
 * What the repository's .gitignore says about the live config.toml and the codex folder, and the
 * edits --fix makes to it. The repository must ignore the live config.toml (Codex ≥ 0.89 rewrites it through the link) and
 * nothing broader: the old `config/codex/*` with `!` exceptions was only needed while all of
 * Codex's state lived in the repository (plan step 6).
 */
import path from 'node:path'

import type {Action} from '../actions/types.js'
import {isInside, statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {liveConfigOf} from '../declared/set.js'
import {readFile} from '../fs-now.js'
import {git} from '../process.js'
import {checkIgnore, nulList, repoPath, type RepoFacts} from './facts.js'
import {ignoringRule, type IgnoreRule} from './ignore-rules.js'

export type {IgnoreRule} from './ignore-rules.js'

export interface GitignoreLine {
  /** 1-based. */
  line: number
  text: string
}

/** A pattern as git compares it: no trailing blanks, no leading or trailing `/`. */
function normalized(pattern: string): string {
  return pattern.replace(/(?<!\\)\s+$/, '').replace(/^\//, '').replace(/\/$/, '')
}

/** Whether a pattern ignores the whole codex folder (`prefix`: the folder relative to the .gitignore's folder). */
export function isBroad(pattern: string, prefix: string): boolean {
  const p = normalized(pattern)
  if (p.startsWith('!') || p.startsWith('#')) return false
  const under = prefix === '' ? ['*', '**', '**/*'] : [prefix, `${prefix}/*`, `${prefix}/**`, `${prefix}/**/*`]
  return under.includes(p)
}

/** The broad patterns over the codex folder and the `!` exceptions that only exist because of them. */
export function broadLines(text: string, prefix: string): GitignoreLine[] {
  const lines = text.split('\n').map((t, i) => ({line: i + 1, text: t.replace(/\r$/, '')}))
  const broad = lines.filter((l) => isBroad(l.text, prefix))
  if (broad.length === 0) return []
  const exceptions = lines.filter((l) => {
    if (!l.text.startsWith('!')) return false
    const p = normalized(l.text.slice(1))
    return prefix === '' || p === prefix || p.startsWith(prefix + '/')
  })
  return [...broad, ...exceptions].sort((a, b) => a.line - b.line)
}

/** The line that ignores just the live config.toml, from a .gitignore whose folder is `prefix` above the codex folder. */
export function configLine(prefix: string): string {
  return prefix === '' ? '/config.toml' : `${prefix}/config.toml`
}

/** Step 6 as an edit: the broad lines and their exceptions go, one config.toml line stands where the first of them was. */
export function simplifyGitignore(text: string, prefix: string, wanted = configLine(prefix)): string {
  const old = new Set(broadLines(text, prefix).map((l) => l.line))
  const lines = text.split('\n')
  const has = lines.some((l, i) => !old.has(i + 1) && normalized(l) === normalized(wanted))
  const out: string[] = []
  let placed = has
  lines.forEach((l, i) => {
    if (!old.has(i + 1)) out.push(l)
    else if (!placed) {
      out.push(wanted)
      placed = true
    }
  })
  if (!placed) {
    if (out.length > 0 && out.at(-1) === '') out.splice(-1, 0, wanted)
    else out.push(wanted, '')
  }
  return out.join('\n')
}

/** `-z -v` output: source, line, pattern, path, each NUL-terminated; an empty source means no rule. */
function parseCheckIgnore(stdout: string): Map<string, IgnoreRule> {
  const fields = stdout.split('\0')
  const rules = new Map<string, IgnoreRule>()
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const [source, line, pattern, file] = fields.slice(i, i + 4) as [string, string, string, string]
    if (source !== '') rules.set(file, {source, line: Number(line), pattern})
  }
  return rules
}

async function rulesFor(repo: string, paths: readonly string[], env: NodeJS.ProcessEnv): Promise<Map<string, IgnoreRule>> {
  if (paths.length === 0) return new Map()
  return parseCheckIgnore(await checkIgnore(repo, paths, env))
}

/** The rule ignoring the live config.toml: read from the .gitignore files where they are plain enough (ignore-rules.ts), else asked of git. */
async function configRule(repo: string, config: string, facts: RepoFacts | null, env: NodeJS.ProcessEnv): Promise<IgnoreRule | undefined> {
  // git's listing holds every file it would add: one that exists and is missing from it is ignored
  const ignored = facts?.git === true && !facts.tracked.has(config) && !facts.files.includes(config) && statOrUndefined(path.join(repo, config), false) !== undefined
  return ignoringRule(repo, config, ignored, env) ?? (await rulesFor(repo, [config], env)).get(config)
}

const ignores = (rule: IgnoreRule | undefined) => rule !== undefined && !rule.pattern.startsWith('!')
/** A rule every clone shares: a .gitignore inside the work tree, not .git/info/exclude or a global excludes file. */
export const sharedRule = (rule: IgnoreRule) => !path.isAbsolute(rule.source) && !rule.source.startsWith('.git/') && path.basename(rule.source) === '.gitignore'

export interface GitignoreState {
  repo: string
  /** The live config.toml, repo-relative. */
  config: string
  configTracked: boolean
  ignoredBy: IgnoreRule | null
  /** The .gitignore to edit: the one holding the broad lines, else the repository's top-level one. */
  gitignorePath: string
  /** The codex folder relative to that .gitignore's folder. */
  prefix: string
  /** The line that ignores the live config.toml in that .gitignore. */
  line: string
  oldLines: GitignoreLine[]
  /** Files git tracks under the codex folder today (absolute); an edit of .gitignore must leave each one tracked. */
  tracked: string[]
  /** Ignored, untracked items under the codex folder that only the broad lines ignore: the simpler rule would show them. */
  wouldShow: string[]
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return null
  }
}

export async function readGitignore(repo: string, codexDir: string, liveConfig: string, facts: RepoFacts | null, env: NodeJS.ProcessEnv): Promise<GitignoreState> {
  const rel = repoPath(repo, codexDir)
  const config = repoPath(repo, liveConfig)
  const tracked = facts ? facts.files.filter((f) => facts.tracked.has(f) && (rel === '' || f === rel || f.startsWith(rel + '/'))) : []
  const rule = await configRule(repo, config, facts, env)

  // .gitignore files from the top down to the codex folder: the broad lines may sit in any of them
  const parts = rel.split('/')
  let gitignorePath = path.join(repo, '.gitignore')
  let prefix = rel
  let oldLines: GitignoreLine[] = []
  for (let depth = 0; depth <= parts.length; depth++) {
    const dir = parts.slice(0, depth).join('/')
    const file = path.join(repo, dir, '.gitignore')
    const text = await readText(file)
    const here = parts.slice(depth).join('/')
    const found = text === null ? [] : broadLines(text, here)
    if (found.length > 0) {
      ;[gitignorePath, prefix, oldLines] = [file, here, found]
      break
    }
  }

  let wouldShow: string[] = []
  if (oldLines.length > 0) {
    const ignored = await git(repo, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory', '--', `:(literal)${rel}`], {env})
    const items = nulList(ignored.stdout).filter((p) => p !== config)
    const itemRules = await rulesFor(repo, items.map((p) => p.replace(/\/$/, '')), env)
    const source = repoPath(repo, gitignorePath)
    const oldNumbers = new Set(oldLines.map((l) => l.line))
    wouldShow = items.filter((p) => {
      const r = itemRules.get(p.replace(/\/$/, ''))
      return r !== undefined && r.source === source && oldNumbers.has(r.line)
    })
  }

  // the seed's `config/codex/config.toml`; a config.toml that lives elsewhere is named from the .gitignore's folder
  const inCodexDir = path.dirname(liveConfig) === codexDir && path.basename(liveConfig) === 'config.toml'
  return {
    repo,
    config,
    configTracked: facts?.tracked.has(config) ?? false,
    ignoredBy: ignores(rule) ? rule! : null,
    gitignorePath,
    prefix,
    line: inCodexDir ? configLine(prefix) : '/' + repoPath(path.dirname(gitignorePath), liveConfig),
    oldLines,
    tracked: tracked.sort().map((p) => path.join(repo, p)),
    wouldShow: wouldShow.sort().map((p) => path.join(repo, p)),
  }
}

/** `text` with each of `lines` appended unless a line already says it. */
export function appendLines(text: string, lines: readonly string[]): string {
  const present = new Set(text.split('\n').map(normalized))
  const missing = [...new Set(lines)].filter((l) => !present.has(normalized(l)))
  if (missing.length === 0) return text
  return (text === '' || text.endsWith('\n') ? text : text + '\n') + missing.map((l) => l + '\n').join('')
}

/**
 * Every .gitignore edit --fix makes, as whole new texts: step 6's simplification (or the missing
 * config.toml line) and a line per secret that is tracked or not ignored. Whatever the broad
 * pattern hid that is still in the repository keeps a line of its own: --fix plans this after
 * stray-state has moved the state out, so only what stayed (a skipped check, a failed move,
 * something that is not state) is named. The gitignore and the secrets checks both plan these
 * same edits, so the engine makes them once, never one over the other.
 */
export async function planGitignoreEdits(ctx: Context, check: string, secretPaths: readonly string[]): Promise<Action[]> {
  const state = await gitignoreState(ctx)
  if (!state) return []
  const repo = state.repo
  const texts = new Map<string, string>()
  const textOf = async (file: string) => texts.get(file) ?? (await readText(file)) ?? ''
  const lineFor = (file: string, p: string) => '/' + repoPath(path.dirname(file), p).replace(/\/$/, '')

  if (state.oldLines.length > 0) {
    const simplified = simplifyGitignore(await textOf(state.gitignorePath), state.prefix, state.line)
    texts.set(state.gitignorePath, appendLines(simplified, state.wouldShow.map((p) => lineFor(state.gitignorePath, p))))
  } else if (!state.configTracked && !(state.ignoredBy && sharedRule(state.ignoredBy))) {
    texts.set(state.gitignorePath, appendLines(await textOf(state.gitignorePath), [state.line]))
  }
  if (secretPaths.length > 0) {
    const top = path.join(repo, '.gitignore')
    texts.set(top, appendLines(await textOf(top), secretPaths.map((p) => lineFor(top, p))))
  }
  const edits: Action[] = []
  for (const [file, content] of texts) {
    if (content !== (await readText(file))) edits.push({check, op: 'edit', path: file, content, note: 'ignore the live config.toml and the secrets, nothing broader'})
  }
  return edits
}

/** The repository's .gitignore as it concerns the live config.toml; null without a git repository or a codex folder in it. */
export async function gitignoreState(ctx: Context): Promise<GitignoreState | null> {
  const [set, facts] = await Promise.all([ctx.declared(), ctx.repo()])
  const live = liveConfigOf(set)
  if (!set.repo || !facts?.git || !set.codexDir || !live || !isInside(live, set.repo)) return null
  return readGitignore(set.repo, set.codexDir, live, facts, ctx.env)
}
