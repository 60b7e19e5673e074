/**
 * Where things are, before anything is read: CODEX_HOME, the dotfiles repository (SPEC
 * "Resolution") and the state and cache folders. Small on purpose: the command line's fast path
 * (cli.ts) locates the repository and starts listing it (git, a process of its own) while the
 * rest of codex-doctor is still being loaded.
 */
import {readdirSync, realpathSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {UsageError} from '../errors.js'
import {git} from '../process.js'
import {readRepoFacts, type RepoFacts} from '../repo/facts.js'
import {gitRoot, readChain, statOrUndefined, tryOr} from './chain.js'
import type {Source} from './types.js'

export function homeDir(env: NodeJS.ProcessEnv): string {
  // `HOME=/home/me/` must shorten paths to ~ like `HOME=/home/me`
  return path.resolve(env.HOME || os.homedir())
}

/** `$XDG_STATE_HOME/codex-doctor`, else `~/.local/state/codex-doctor`. */
export function stateDirOf(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(homeDir(env), '.local', 'state')
  return path.join(base, 'codex-doctor')
}

/** `$XDG_CACHE_HOME/codex-doctor`, else `~/.cache/codex-doctor`. */
export function cacheDirOf(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homeDir(env), '.cache')
  return path.join(base, 'codex-doctor')
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p
}

/** The git work tree that a path's link chain ends in, or null. Synchronous, as chain.ts is: see readChain. */
function repoAtEndOf(p: string): string | null {
  try {
    const chain = readChain(p)
    if (chain.hops.length === 0 || chain.end === 'loop') return null
    return gitRoot(realpathSync(chain.end === 'missing' ? path.dirname(chain.final) : chain.final))
  } catch {
    return null
  }
}

/** Every link in CODEX_HOME, and one level down in a real skills/ folder (skills linked one by one). */
function linksIn(codexHome: string): string[] {
  const list = (dir: string) => {
    try {
      return readdirSync(dir, {withFileTypes: true}).filter((d) => d.isSymbolicLink()).map((d) => path.join(dir, d.name)).sort()
    } catch {
      return []
    }
  }
  const skills = path.join(codexHome, 'skills')
  const skillsIsFolder = statOrUndefined(skills, false)?.isDirectory() ?? false
  return [...list(codexHome), ...(skillsIsFolder ? list(skills) : [])]
}

/** The repository most of CODEX_HOME's links lead into (the first found on a tie). */
function repoOfLinks(codexHome: string): string | null {
  const home = statOrUndefined(codexHome, false)
  // CODEX_HOME itself a link: the old layout, its entries are the repository's own files
  if (home?.isSymbolicLink()) return repoAtEndOf(codexHome)
  const counts = new Map<string, number>()
  for (const link of linksIn(codexHome)) {
    const root = repoAtEndOf(link)
    if (root) counts.set(root, (counts.get(root) ?? 0) + 1)
  }
  let best: string | null = null
  for (const [root, n] of counts) if (best === null || n > counts.get(best)!) best = root
  return best
}

/** Whether a work tree declares or holds Codex entries: codex-doctor.toml, a known codex folder, a stow package, a Nix or Ansible file naming .codex. */
async function declaresCodex(root: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  // rare (no link leads anywhere): what it needs is loaded here only
  const [{CONFIG_FILE}, {findCodexDir}] = await Promise.all([import('./config.js'), import('../declared/read.js')])
  if (statOrUndefined(path.join(root, CONFIG_FILE))) return true
  if (findCodexDir(root)) return true
  const stow = await git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ':(glob)*/.codex/*', ':(glob)*/*/.codex/*'], {env})
  if (stow.exitCode === 0 && stow.stdout !== '') return true
  const grep = await git(root, ['grep', '-q', '-I', '-F', '--untracked', '-e', '.codex', '--', '*.nix', '*.yml', '*.yaml'], {env})
  return grep.exitCode === 0
}

/**
 * The dotfiles root, in SPEC's order: the flag, $DOTFILES, the repository that the links in
 * CODEX_HOME (or CODEX_HOME's own, in the old layout) end in, the current work tree when it
 * declares or holds Codex entries.
 */
export async function findDotfiles(opts: {flag?: string; env: NodeJS.ProcessEnv; codexHome: string; cwd: string}): Promise<{dotfiles: string | null; source: Source | null}> {
  const home = homeDir(opts.env)
  if (opts.flag) return {dotfiles: path.resolve(opts.cwd, expandHome(opts.flag, home)), source: 'flag'}
  if (opts.env.DOTFILES) return {dotfiles: path.resolve(opts.cwd, expandHome(opts.env.DOTFILES, home)), source: 'env'}
  // an unreadable CODEX_HOME leads nowhere here; the codex-home check reports it
  const linked = tryOr(() => repoOfLinks(opts.codexHome), null)
  if (linked) return {dotfiles: linked, source: 'link-chain'}
  const here = tryOr(() => gitRoot(opts.cwd), null)
  if (here && (await declaresCodex(here, opts.env).catch(() => false))) return {dotfiles: here, source: 'cwd'}
  return {dotfiles: null, source: null}
}

export interface Located {
  env: NodeJS.ProcessEnv
  cwd: string
  home: string
  codexHome: string
  codexHomeSource: Source
  dotfiles: string | null
  dotfilesSource: Source | null
}

/** CODEX_HOME and the dotfiles repository from the flags, the environment and the links; bad ones are usage errors. */
export async function locate(opts: {codexHome?: string; dotfiles?: string; env?: NodeJS.ProcessEnv; cwd?: string}): Promise<Located> {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  const home = homeDir(env)
  let codexHome: string
  let codexHomeSource: Source
  if (opts.codexHome) [codexHome, codexHomeSource] = [opts.codexHome, 'flag']
  else if (env.CODEX_HOME) [codexHome, codexHomeSource] = [env.CODEX_HOME, 'env']
  else [codexHome, codexHomeSource] = [path.join(home, '.codex'), 'default']
  codexHome = path.resolve(cwd, expandHome(codexHome, home))

  const {dotfiles, source} = await findDotfiles({flag: opts.dotfiles, env, codexHome, cwd})
  if (dotfiles && (source === 'flag' || source === 'env') && !statOrUndefined(dotfiles)?.isDirectory()) {
    throw new UsageError(`${source === 'flag' ? '--dotfiles' : '$DOTFILES'}: ${dotfiles} is not a folder`)
  }
  return {env, cwd, home, codexHome, codexHomeSource, dotfiles, dotfilesSource: source}
}

/** `git ls-files` of the repository; null without one. */
export function listRepo(where: Pick<Located, 'dotfiles' | 'env'>): Promise<RepoFacts | null> {
  return where.dotfiles ? readRepoFacts(where.dotfiles, where.env) : Promise.resolve(null)
}

/**
 * The fast path's head start: located, and resolved once git has been started (its process runs
 * while the caller loads the rest). Never throws: resolveContext then does it all again and reports.
 */
export async function locateEarly(opts: {codexHome?: string; dotfiles?: string}): Promise<{located: Located; repo: Promise<RepoFacts | null>} | null> {
  try {
    const located = await locate(opts)
    // git starts here, synchronously; its failure, if any, is met again where the listing is awaited
    const repo = listRepo(located)
    repo.catch(() => undefined)
    return {located, repo}
  } catch {
    return null
  }
}
