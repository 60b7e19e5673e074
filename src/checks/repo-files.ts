/** Reading the dotfiles repository: what git tracks, and its files by extension. */
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {git} from '../process.js'

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

/** `git ls-files -z -- pathspecs…` as repo-relative paths; null when git cannot answer (not a repository, no git). */
export async function trackedFiles(repo: string, pathspecs: readonly string[], env: NodeJS.ProcessEnv, untrackedToo = false): Promise<string[] | null> {
  const others = untrackedToo ? ['--cached', '--others', '--exclude-standard'] : []
  const r = await git(repo, ['ls-files', '-z', ...others, '--', ...pathspecs], {env})
  if (r.exitCode !== 0) return null
  return nulList(r.stdout)
}

const WALK_SKIP = new Set(['.git', 'node_modules', '.direnv', 'result', '.venv', 'dist', 'target'])
const WALK_MAX_DEPTH = 8
const WALK_MAX_ENTRIES = 20_000

/** Without git: a bounded walk (depth, entry count) that never follows links. */
async function walk(root: string, wanted: (name: string) => boolean): Promise<string[]> {
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
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      seen++
      const full = path.join(dir, entry.name)
      if (entry.isDirectory() && !WALK_SKIP.has(entry.name)) await visit(full, depth + 1)
      else if (entry.isFile() && wanted(entry.name)) found.push(repoPath(root, full))
    }
  }
  await visit(root, 0)
  return found
}

/** The repository's files with one of `extensions` (`.nix`): what git tracks or would add, else found by a bounded walk. */
export async function repoFilesWith(repo: string, extensions: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const tracked = await trackedFiles(repo, extensions.map((e) => `*${e}`), env, true)
  if (tracked) return tracked
  return walk(repo, (name) => extensions.some((e) => name.endsWith(e)))
}

/** 1-based line number of a character offset. */
export function lineAt(text: string, offset: number): number {
  let n = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++
  return n
}
