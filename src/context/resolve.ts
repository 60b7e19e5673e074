import {readdir, realpath} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import semver from 'semver'

import {findCodexDir, readDeclaredSet} from '../declared/read.js'
import type {DeclaredSet} from '../declared/set.js'
import {UsageError} from '../errors.js'
import {git} from '../process.js'
import {readRepoFacts, type RepoFacts} from '../repo/facts.js'
import {gitRoot, readChain, statOrUndefined} from './chain.js'
import {chooseTempDir, inspectCodex, type TempDir} from './codex.js'
import {CONFIG_FILE, loadConfig} from './config.js'
import type {CodexInfo, Context, Source} from './types.js'

export const DEFAULT_MIN_VERSION = '0.88.0'

export interface ContextOptions {
  codexHome?: string
  dotfiles?: string
  codexBin?: string
  minVersion?: string
  probe?: boolean
  readOnly?: boolean
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Known check ids, to validate `skip` in codex-doctor.toml. */
  checkIds: readonly string[]
}

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

/** The git work tree that a path's link chain ends in, or null. */
async function repoAtEndOf(p: string): Promise<string | null> {
  const chain = await readChain(p)
  if (chain.hops.length === 0 || chain.end === 'loop') return null
  let end = chain.final
  try {
    end = await realpath(chain.end === 'missing' ? path.dirname(end) : end)
  } catch {
    return null
  }
  return gitRoot(end)
}

/** Every link in CODEX_HOME, and one level down in a real skills/ folder (skills linked one by one). */
async function linksIn(codexHome: string): Promise<string[]> {
  const list = async (dir: string) => {
    try {
      return (await readdir(dir, {withFileTypes: true})).filter((d) => d.isSymbolicLink()).map((d) => path.join(dir, d.name)).sort()
    } catch {
      return []
    }
  }
  const skills = path.join(codexHome, 'skills')
  const skillsIsFolder = (await statOrUndefined(skills, false))?.isDirectory() ?? false
  return [...(await list(codexHome)), ...(skillsIsFolder ? await list(skills) : [])]
}

/** The repository most of CODEX_HOME's links lead into (the first found on a tie). */
async function repoOfLinks(codexHome: string): Promise<string | null> {
  const home = await statOrUndefined(codexHome, false).catch(() => undefined)
  // CODEX_HOME itself a link: the old layout, its entries are the repository's own files
  if (home?.isSymbolicLink()) return repoAtEndOf(codexHome).catch(() => null)
  const counts = new Map<string, number>()
  for (const link of await linksIn(codexHome)) {
    const root = await repoAtEndOf(link).catch(() => null)
    if (root) counts.set(root, (counts.get(root) ?? 0) + 1)
  }
  let best: string | null = null
  for (const [root, n] of counts) if (best === null || n > counts.get(best)!) best = root
  return best
}

/** Whether a work tree declares or holds Codex entries: codex-doctor.toml, a known codex folder, a stow package, a Nix or Ansible file naming .codex. */
async function declaresCodex(root: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (await statOrUndefined(path.join(root, CONFIG_FILE))) return true
  if (await findCodexDir(root)) return true
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
  const linked = await repoOfLinks(opts.codexHome).catch(() => null)
  if (linked) return {dotfiles: linked, source: 'link-chain'}
  const here = await gitRoot(opts.cwd).catch(() => null)
  if (here && (await declaresCodex(here, opts.env).catch(() => false))) return {dotfiles: here, source: 'cwd'}
  return {dotfiles: null, source: null}
}

export async function resolveContext(opts: ContextOptions): Promise<Context> {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  const home = homeDir(env)

  let codexHome: string
  let codexHomeSource: Source
  if (opts.codexHome) [codexHome, codexHomeSource] = [opts.codexHome, 'flag']
  else if (env.CODEX_HOME) [codexHome, codexHomeSource] = [env.CODEX_HOME, 'env']
  else [codexHome, codexHomeSource] = [path.join(home, '.codex'), 'default']
  codexHome = path.resolve(cwd, expandHome(codexHome, home))

  if (opts.minVersion !== undefined && !semver.valid(opts.minVersion)) {
    throw new UsageError(`--min-version: "${opts.minVersion}" is not a version such as 0.89.0`)
  }

  const {dotfiles, source} = await findDotfiles({flag: opts.dotfiles, env, codexHome, cwd})
  if (dotfiles && (source === 'flag' || source === 'env') && !(await statOrUndefined(dotfiles))?.isDirectory()) {
    throw new UsageError(`${source === 'flag' ? '--dotfiles' : '$DOTFILES'}: ${dotfiles} is not a folder`)
  }
  const {config, file} = await loadConfig(dotfiles, opts.checkIds)

  const stateDir = stateDirOf(env)
  const cacheDir = cacheDirOf(env)
  const readOnly = opts.readOnly ?? false
  let temp: Promise<TempDir> | undefined
  const tempDir = () => (temp ??= chooseTempDir(env, cacheDir, readOnly))
  let codexInfo: Promise<CodexInfo> | undefined
  let repoFacts: Promise<RepoFacts | null> | undefined
  let declared: Promise<DeclaredSet> | undefined
  const repo = () => (repoFacts ??= dotfiles ? readRepoFacts(dotfiles, env) : Promise.resolve(null))
  return {
    home,
    codexHome,
    codexHomeSource,
    dotfiles,
    dotfilesSource: source,
    config,
    configFile: file,
    minVersion: opts.minVersion ?? config.min_version ?? DEFAULT_MIN_VERSION,
    probe: opts.probe ?? true,
    readOnly,
    stateDir,
    cacheDir,
    env,
    codex: () => (codexInfo ??= inspectCodex(opts.codexBin, env, {cacheDir, readOnly, tempDir})),
    tempDir,
    repo,
    declared: () => (declared ??= repo().then((facts) => readDeclaredSet({codexHome, home, dotfiles, config, configFile: file, repo: facts, env}))),
    refresh() {
      repoFacts = undefined
      declared = undefined
    },
  }
}
