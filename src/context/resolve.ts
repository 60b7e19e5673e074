import {readDeclaredSet} from '../declared/read.js'
import type {DeclaredSet} from '../declared/set.js'
import {UsageError} from '../errors.js'
import type {RepoFacts} from '../repo/facts.js'
import * as semver from '../semver.js'
import {chooseTempDir, inspectCodex, locateCodex, type TempDir} from './codex.js'
import {loadConfig} from './config.js'
import {cacheDirOf, listRepo, locate, type Located, stateDirOf} from './locate.js'
import type {CodexInfo, Context} from './types.js'

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
  /** Where things are, found (and the repository's listing started) by the fast path of the command line with the same flags. */
  early?: Promise<{located: Located; repo: Promise<RepoFacts | null>} | null>
}

export {cacheDirOf, findDotfiles, homeDir, stateDirOf} from './locate.js'

export async function resolveContext(opts: ContextOptions): Promise<Context> {
  if (opts.minVersion !== undefined && !semver.valid(opts.minVersion)) {
    throw new UsageError(`--min-version: "${opts.minVersion}" is not a version such as 0.89.0`)
  }
  const early = opts.early ? await opts.early : null
  const {env, home, codexHome, codexHomeSource, dotfiles, dotfilesSource: source} = early?.located ?? (await locate(opts))
  const {config, file} = await loadConfig(dotfiles, opts.checkIds)

  const stateDir = stateDirOf(env)
  const cacheDir = cacheDirOf(env)
  const readOnly = opts.readOnly ?? false
  let temp: Promise<TempDir> | undefined
  const tempDir = () => (temp ??= chooseTempDir(env, cacheDir, readOnly))
  let codexInfo: Promise<CodexInfo> | undefined
  let codexBinary: Promise<{bin: string; realPath: string} | null> | undefined
  let declared: Promise<DeclaredSet> | undefined
  let repoFacts: Promise<RepoFacts | null> | undefined = early?.repo
  const repo = () => (repoFacts ??= listRepo({dotfiles, env}))
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
    codexBinary: () => (codexBinary ??= locateCodex(opts.codexBin, env).then((found) => ('error' in found ? null : found))),
    tempDir,
    repo,
    declared: () => (declared ??= repo().then((facts) => readDeclaredSet({codexHome, home, dotfiles, config, configFile: file, repo: facts, env}))),
    refresh() {
      repoFacts = undefined
      declared = undefined
    },
  }
}
