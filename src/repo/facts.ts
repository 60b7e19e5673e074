/**
 * What git says about the dotfiles repository, asked once per run (one `git ls-files`) and
 * shared by every check and reader. Without git (a plain folder), a bounded walk stands in.
 */
import path from 'node:path'

import {readdir} from '../fs-now.js'
import {git} from '../process.js'

export interface RepoFacts {
  root: string
  /** false: not a git work tree; `files` then came from a bounded walk and nothing is "tracked". */
  git: boolean
  /** Every file git tracks or would add (untracked, not ignored): repo-relative, '/'-separated, sorted. */
  files: string[]
  tracked: ReadonlySet<string>
}

/** A path inside the repository as git spells it: relative, with `/`. */
export function repoPath(repo: string, p: string): string {
  return path.relative(repo, p).split(path.sep).join('/')
}

/** Escapes a literal path for use inside a `:(glob)` pathspec. */
export function globEscape(p: string): string {
  return p.replaceAll(/[*?[\]\\]/g, '\\$&')
}

/** NUL-separated git output as a list, empty entries dropped. */
export function nulList(stdout: string): string[] {
  return stdout.split('\0').filter((s) => s !== '')
}

/** `git ls-files -t` lines (`H path`, `? path`, …) into every path and the tracked ones. */
export function parseTaggedList(stdout: string): {files: string[]; tracked: Set<string>} {
  const files: string[] = []
  const tracked = new Set<string>()
  for (const line of nulList(stdout)) {
    const tag = line[0]
    const file = line.slice(2)
    files.push(file)
    // H cached, S skip-worktree, M unmerged, R removed, C changed, K to be killed; ? untracked
    if (tag !== '?') tracked.add(file)
  }
  return {files: [...new Set(files)].sort(), tracked}
}

const WALK_SKIP = new Set(['.git', 'node_modules', '.direnv', 'result', '.venv', 'dist', 'target'])
const WALK_MAX_DEPTH = 8
const WALK_MAX_ENTRIES = 20_000

/** Without git: a bounded walk (depth, entry count) that never follows links. */
async function walk(root: string): Promise<string[]> {
  const found: string[] = []
  let seen = 0
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (depth > WALK_MAX_DEPTH || seen > WALK_MAX_ENTRIES) return
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch {
      return
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      seen++
      const full = path.join(dir, entry.name)
      if (entry.isDirectory() && !WALK_SKIP.has(entry.name)) await visit(full, depth + 1)
      else if (entry.isFile() || entry.isSymbolicLink()) found.push(repoPath(root, full))
    }
  }
  await visit(root, 0)
  return found.sort()
}

/** `git check-ignore -z -v -n --no-index` for these repo-relative paths: its stdout, or an error. */
export async function checkIgnore(root: string, paths: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  // --no-index: judge the rules even for a tracked file; -n: also report paths no rule matches
  const r = await git(root, ['check-ignore', '-z', '-v', '-n', '--no-index', '--stdin'], {env, input: paths.map((p) => p + '\0').join('')})
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`git check-ignore failed: ${r.stderr.trim().split('\n')[0] ?? ''}`)
  return r.stdout
}

export async function readRepoFacts(root: string, env: NodeJS.ProcessEnv): Promise<RepoFacts> {
  // only the exit code says anything here (not a work tree: the walk stands in): no pipe for stderr
  const r = await git(root, ['ls-files', '-z', '-t', '--cached', '--others', '--exclude-standard'], {env, stderr: 'ignore'})
  if (r.exitCode === 0) return {root, git: true, ...parseTaggedList(r.stdout)}
  return {root, git: false, files: await walk(root), tracked: new Set()}
}

/** The repository's files whose name ends with one of `extensions` (`.nix`). */
export function filesWith(facts: RepoFacts, extensions: readonly string[]): string[] {
  return facts.files.filter((f) => extensions.some((e) => f.endsWith(e)))
}

/** 1-based line number of a character offset. */
export function lineAt(text: string, offset: number): number {
  let n = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++
  return n
}
