import {realpath} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import semver from 'semver'

import {UsageError} from '../errors.js'
import {gitRoot, readChain, statOrUndefined} from './chain.js'
import {inspectCodex} from './codex.js'
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

/**
 * The dotfiles root, in SPEC's order: the flag, $DOTFILES, the repository that a managed
 * entry's link chain (or CODEX_HOME's own, in the old layout) ends in, the current work tree.
 */
export async function findDotfiles(
  opts: {flag?: string; env: NodeJS.ProcessEnv; codexHome: string; entries: readonly string[]; codexDirName: string; cwd: string},
): Promise<{dotfiles: string | null; source: Source | null}> {
  const home = homeDir(opts.env)
  if (opts.flag) return {dotfiles: path.resolve(opts.cwd, expandHome(opts.flag, home)), source: 'flag'}
  if (opts.env.DOTFILES) return {dotfiles: path.resolve(opts.cwd, expandHome(opts.env.DOTFILES, home)), source: 'env'}
  for (const candidate of [...opts.entries.map((e) => path.join(opts.codexHome, e)), opts.codexHome]) {
    // an unreadable CODEX_HOME leads nowhere here; the codex-home check reports it
    const root = await repoAtEndOf(candidate).catch(() => null)
    if (root) return {dotfiles: root, source: 'link-chain'}
  }
  const here = await gitRoot(opts.cwd).catch(() => null)
  if (here && ((await statOrUndefined(path.join(here, opts.codexDirName))) || (await statOrUndefined(path.join(here, CONFIG_FILE))))) {
    return {dotfiles: here, source: 'cwd'}
  }
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

  // The codex folder's name and the entries come from the config file, which lives at the root we are looking for:
  // detect with the defaults first, then read the file there.
  const {dotfiles, source} = await findDotfiles({
    flag: opts.dotfiles, env, codexHome, entries: ['config.toml', 'prompts'], codexDirName: 'config/codex', cwd,
  })
  if (dotfiles && (source === 'flag' || source === 'env') && !(await statOrUndefined(dotfiles))?.isDirectory()) {
    throw new UsageError(`${source === 'flag' ? '--dotfiles' : '$DOTFILES'}: ${dotfiles} is not a folder`)
  }
  const {config, file} = await loadConfig(dotfiles, opts.checkIds)

  let codexInfo: Promise<CodexInfo> | undefined
  return {
    home,
    codexHome,
    codexHomeSource,
    dotfiles,
    dotfilesSource: source,
    codexDir: dotfiles ? path.join(dotfiles, config.codex_dir) : null,
    config,
    configFile: file,
    minVersion: opts.minVersion ?? config.min_version ?? DEFAULT_MIN_VERSION,
    probe: opts.probe ?? true,
    readOnly: opts.readOnly ?? false,
    stateDir: stateDirOf(env),
    cacheDir: cacheDirOf(env),
    env,
    codex: () => (codexInfo ??= inspectCodex(opts.codexBin, env)),
  }
}
