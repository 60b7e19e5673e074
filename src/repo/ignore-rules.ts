/**
 * Which .gitignore line ignores a path, read from the files themselves when they only hold plain
 * patterns: what `git check-ignore -v` answers, without starting git (a process costs more than
 * the whole check). The answer is given only where it is certain: every pattern met on the way is
 * one this reader matches exactly as git does (literal names, `*` and `?` in one path segment, a
 * leading `/`, a trailing `/`, `!`), the work tree's .gitignore files are all git reads, and git's
 * own listing agrees that the path is ignored. Anything else (`**`, brackets, escapes, a linked
 * .gitignore, rules in .git/info/exclude or a global excludes file, core.ignoreCase) is git's.
 */
import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'

export interface IgnoreRule {
  /** The file holding the rule, as git names it (repo-relative for a .gitignore in the work tree). */
  source: string
  /** 1-based. */
  line: number
  pattern: string
}

/** One parsed line; null: a pattern this reader cannot match exactly. */
interface Pattern {
  negated: boolean
  dirOnly: boolean
  /** Anchored to the .gitignore's folder (it holds a `/` other than a trailing one). */
  anchored: boolean
  regex: RegExp
}

const UNSUPPORTED = /[[\]\\]|\*\*/

/** A gitignore line as a pattern; undefined for blank lines and comments, null for what only git can match. */
export function parsePattern(text: string): Pattern | null | undefined {
  if (text === '' || text.startsWith('#')) return undefined
  // trailing blanks are dropped unless escaped; escapes are git's to read
  if (/\s$/.test(text) || UNSUPPORTED.test(text)) return null
  let p = text
  const negated = p.startsWith('!')
  if (negated) p = p.slice(1)
  const dirOnly = p.endsWith('/')
  if (dirOnly) p = p.slice(0, -1)
  const anchored = p.includes('/')
  if (p.startsWith('/')) p = p.slice(1)
  if (p === '' || p.includes('//')) return null
  const body = p
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|]/g, '\\$&')))
    .join('')
  return {negated, dirOnly, anchored, regex: new RegExp(`^${body}$`)}
}

/** Whether a pattern from the .gitignore in `base` (repo-relative, '' for the top) matches `rel`. */
function matches(pattern: Pattern, base: string, rel: string, isDir: boolean): boolean {
  if (pattern.dirOnly && !isDir) return false
  const inBase = base === '' ? rel : rel.startsWith(base + '/') ? rel.slice(base.length + 1) : null
  if (inBase === null) return false
  return pattern.anchored ? pattern.regex.test(inBase) : pattern.regex.test(inBase.slice(inBase.lastIndexOf('/') + 1))
}

type Verdict = {rule: IgnoreRule; negated: boolean} | 'none' | 'unknown'

/** What readOrNull gives for a linked file: git refuses to read a .gitignore that is a link. */
const LINKED = '\0linked'

/**
 * The last line that matches `rel` in the .gitignore files from its folder up to the top (the
 * deepest file first, as git reads them): git's decision for that path alone.
 */
function decide(repo: string, rel: string, isDir: boolean, read: (file: string) => string | null): Verdict {
  const dirs = rel.split('/').slice(0, -1)
  for (let depth = dirs.length; depth >= 0; depth--) {
    const base = dirs.slice(0, depth).join('/')
    const source = base === '' ? '.gitignore' : `${base}/.gitignore`
    const text = read(path.join(repo, ...source.split('/')))
    if (text === null) continue
    if (text === LINKED) return 'unknown'
    // a byte-order mark or carriage returns: git's to read
    if (text.startsWith('\uFEFF')) return 'unknown'
    const lines = text.split('\n')
    for (let i = lines.length - 1; i >= 0; i--) {
      const pattern = parsePattern(lines[i]!)
      if (pattern === undefined) continue
      if (pattern === null) return 'unknown'
      if (matches(pattern, base, rel, isDir)) return {rule: {source, line: i + 1, pattern: lines[i]!}, negated: pattern.negated}
    }
  }
  return 'none'
}

/** Lines that say something (not blank, not a comment). */
const hasRules = (text: string | null) => text !== null && text.split('\n').some((l) => l.trim() !== '' && !l.startsWith('#'))

/**
 * Whether the work tree's .gitignore files are all git reads here: `repo` is the top of a work
 * tree (its own `.git` folder), no rules in `.git/info/exclude` or a global excludes file, no
 * `core.excludesFile`, `core.ignoreCase` or `[include]` in any config git reads, no configuration
 * from the environment. Anything else is git's to judge.
 */
function onlyGitignores(repo: string, env: NodeJS.ProcessEnv): boolean {
  if (!isFolder(path.join(repo, '.git'))) return false
  if (env.GIT_CONFIG_COUNT || env.GIT_CONFIG_PARAMETERS || env.GIT_DIR || env.GIT_WORK_TREE) return false
  if (hasRules(readThroughLinks(path.join(repo, '.git', 'info', 'exclude')))) return false
  const home = env.HOME ?? ''
  const xdg = env.XDG_CONFIG_HOME || path.join(home, '.config')
  if (hasRules(readThroughLinks(path.join(xdg, 'git', 'ignore')))) return false
  const configs = [path.join(repo, '.git', 'config'), ...(env.GIT_CONFIG_GLOBAL ? [env.GIT_CONFIG_GLOBAL] : [path.join(home, '.gitconfig'), path.join(xdg, 'git', 'config')])]
  if (!env.GIT_CONFIG_NOSYSTEM) configs.push(env.GIT_CONFIG_SYSTEM || '/etc/gitconfig')
  return configs.every((file) => !/excludesfile|ignorecase|\[include/i.test(readThroughLinks(file) ?? ''))
}

function isFolder(p: string): boolean {
  try {
    return lstatSync(p).isDirectory()
  } catch {
    return false
  }
}

/**
 * The rule that ignores `rel` (a file, repo-relative), as `git check-ignore -v` names it; null when
 * this reader cannot be certain (then ask git). `ignored`: git's listing says the file is ignored.
 */
export function ignoringRule(repo: string, rel: string, ignored: boolean, env: NodeJS.ProcessEnv, read: (file: string) => string | null = readOrNull): IgnoreRule | null {
  if (!ignored || !onlyGitignores(repo, env)) return null
  const parts = rel.split('/')
  // a folder on the way that is ignored takes everything in it along, whatever comes after
  for (let n = 1; n < parts.length; n++) {
    const verdict = decide(repo, parts.slice(0, n).join('/'), true, read)
    if (verdict === 'unknown') return null
    if (verdict !== 'none' && !verdict.negated) return verdict.rule
  }
  const verdict = decide(repo, rel, false, read)
  return verdict !== 'none' && verdict !== 'unknown' && !verdict.negated ? verdict.rule : null
}

/** Config and exclude files, read through links as git reads them (a ~/.gitconfig linked from the dotfiles is the rule). */
function readThroughLinks(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** A .gitignore's text; null when it is missing, LINKED for a link (git does not read a linked .gitignore). */
function readOrNull(file: string): string | null {
  try {
    return lstatSync(file).isSymbolicLink() ? LINKED : readFileSync(file, 'utf8')
  } catch {
    return null
  }
}
