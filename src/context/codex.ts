/**
 * The installed `codex`: where it is, how to start it, and what it answers.
 *
 * What happens before Codex starts (finding it on PATH, its real path and package.json, the
 * throwaway CODEX_HOME) uses synchronous calls, each microseconds, inside async functions: an
 * awaited fs/promises call is a trip through the thread pool that waits, on return, for the main
 * thread, which is busy with the other checks. Ten such trips held the probe's start back by 40 ms.
 */
import {accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as semver from '../semver.js'

import {run, type RunOptions, type RunResult} from '../process.js'
import {binaryIdentity, lookup, platformBinaryCandidates, readCache, rememberOnDisk} from './binary-cache.js'
import {tryOr} from './chain.js'
import type {CodexInfo, InstallMethod} from './types.js'

/** Below the check's 10 s, so a hung binary is reported with its reason, not as a generic timeout. */
export const VERSION_TIMEOUT_MS = 5000

/** How `codex` was installed, in the words of the report. */
export const INSTALL_NAMES: Record<InstallMethod, string> = {
  npm: 'npm',
  pnpm: 'pnpm',
  bun: 'bun',
  homebrew: 'Homebrew',
  nix: 'Nix',
  other: 'unknown install',
}

/** The first executable file `name` on PATH, as a shell would find it. */
export async function findOnPath(name: string, envPath: string | undefined): Promise<string | null> {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      // a folder named `codex` is executable too, but a shell would not run it
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not here; keep looking
    }
  }
  return null
}

/** `codex-cli 0.89.0` (or `codex-cli 0.90.0-alpha.1`) → `0.89.0`; anything else → null. */
export function parseVersion(stdout: string): string | null {
  const match = /^codex-cli\s+v?(\S+)\s*$/m.exec(stdout.trim())
  if (!match?.[1]) return null
  return semver.valid(match[1])
}

/** A global package folder of a Node package manager ends in `node_modules/@openai/codex` (or an alias of it). */
const NPM_PACKAGE = /\/node_modules\/(@openai\/codex(-[\w-]+)?|codex[\w.-]*)\/(bin|vendor|node_modules)\//

/**
 * How Codex was installed, from the real path of its binary (or of npm's `codex.js` launcher).
 * Order matters: Homebrew's and Nix's own node put npm packages under their prefixes, and bun's
 * and pnpm's global folders hold a `node_modules/@openai/codex` too.
 */
export function installMethod(realPath: string): InstallMethod {
  const p = realPath.replaceAll('\\', '/')
  if (p.startsWith('/nix/store/')) return 'nix'
  if (p.includes('/.bun/install/global/') || p.includes('/.bun/bin/')) return 'bun'
  // pnpm's content-addressed store: …/pnpm/global/5/.pnpm/@openai+codex@0.89.0/node_modules/@openai/codex/…
  if (p.includes('/.pnpm/') || /\/pnpm\/global\/\d+\//.test(p)) return 'pnpm'
  if (NPM_PACKAGE.test(p)) return 'npm'
  if (/\/(Cellar|Caskroom)\//.test(p) || p.startsWith('/opt/homebrew/') || p.startsWith('/home/linuxbrew/.linuxbrew/')) return 'homebrew'
  return 'other'
}

/** The command that upgrades Codex for an install method. */
export function upgradeCommand(method: InstallMethod): string {
  switch (method) {
    case 'npm':
      return 'npm install -g @openai/codex@latest'
    case 'pnpm':
      return 'pnpm add -g @openai/codex@latest'
    case 'bun':
      return 'bun add -g @openai/codex@latest'
    case 'homebrew':
      return 'brew upgrade codex'
    case 'nix':
      return 'nix flake update && just switch   # or bump the codex package in your Nix configuration'
    case 'other':
      return 'codex self-update   # or reinstall: npm install -g @openai/codex@latest'
  }
}

/** The command that installs Codex when there is none. */
export const INSTALL_COMMAND = 'npm install -g @openai/codex@latest'

/** Whether a file is a Node script (`.js`, or a `node` shebang): npm's launcher is one. */
async function isNodeScript(file: string): Promise<boolean> {
  if (/\.[cm]?js$/.test(file)) return true
  let fd: number | undefined
  try {
    // a regular file only: opening a FIFO would wait, here synchronously, for a writer
    if (!statSync(file).isFile()) return false
    fd = openSync(file, 'r')
    const buffer = Buffer.alloc(128)
    const bytesRead = readSync(fd, buffer, 0, 128, 0)
    return /^#!.*\bnode\b/.test(buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '')
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * How to start `bin`: itself, or through this Node when it is a Node script that lost its
 * executable bit (npm leaves some releases' `codex.js` at 0644).
 */
export async function codexCommand(bin: string): Promise<{file: string; args: string[]}> {
  try {
    accessSync(bin, constants.X_OK)
    return {file: bin, args: []}
  } catch {
    return (await isNodeScript(bin)) ? {file: process.execPath, args: [bin]} : {file: bin, args: []}
  }
}

/**
 * npm's launcher (codex.js) only finds its native binary and starts it with a few variables: which
 * package manager installed it, the package's folder, PATH with the tools it bundles. That costs a
 * second Node start-up per call; the native binary is started here directly, with the same
 * variables. Null when `bin` is not such a launcher or its binary is not where launchers look.
 */
export async function nativeCommand(bin: string, env: NodeJS.ProcessEnv): Promise<{file: string; env: NodeJS.ProcessEnv} | null> {
  const real = tryOr(() => realpathSync(bin), null)
  if (!real || !/\.[cm]?js$/.test(real)) return null
  // only @openai/codex's own launcher: any other script is run as it is
  const pkg = tryOr(() => readFileSync(path.join(path.dirname(path.dirname(real)), 'package.json'), 'utf8'), '')
  if (!/"name"\s*:\s*"@openai\/codex"/.test(pkg)) return null
  for (const candidate of platformBinaryCandidates(real)) {
    try {
      accessSync(candidate, constants.X_OK)
    } catch {
      continue
    }
    const install = installMethod(real)
    const manager = install === 'pnpm' ? 'PNPM' : install === 'bun' ? 'BUN' : 'NPM'
    const tools = path.join(path.dirname(path.dirname(candidate)), 'path')
    const hasTools = tryOr(() => statSync(tools).isDirectory(), false)
    const native: NodeJS.ProcessEnv = {...env, CODEX_MANAGED_PACKAGE_ROOT: path.dirname(path.dirname(real))}
    for (const m of ['NPM', 'BUN', 'PNPM', 'VITE_PLUS']) delete native[`CODEX_MANAGED_BY_${m}`]
    native[`CODEX_MANAGED_BY_${manager}`] = '1'
    if (hasTools) native.PATH = [tools, env.PATH].filter(Boolean).join(path.delimiter)
    return {file: candidate, env: native}
  }
  return null
}

/** Runs the codex binary (the native one behind npm's launcher); a timeout kills it with whatever it started. */
export async function runCodex(bin: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const native = await nativeCommand(bin, options.env ?? process.env)
  if (native) return run(native.file, args, {...options, env: native.env, killTree: true})
  const command = await codexCommand(bin)
  return run(command.file, [...command.args, ...args], {...options, killTree: true})
}

/** The first line of a program's output, cut to fit in a one-line summary. */
export function firstLine(text: string, max = 80): string {
  const line = text.trim().split('\n')[0]?.trim() ?? ''
  return line.length > max ? line.slice(0, max - 1) + '…' : line
}

/** The temp folder runs of Codex get, and why it is not $TMPDIR when it is not. */
export interface TempDir {
  dir: string
  /** Set when $TMPDIR could not be used: what was wrong with it. */
  fellBack: string | null
}

async function usableFolder(dir: string): Promise<string | null> {
  try {
    if (!statSync(dir).isDirectory()) return 'is not a folder'
    accessSync(dir, constants.W_OK | constants.X_OK)
    return null
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? 'does not exist' : `cannot be written (${code ?? 'error'})`
  }
}

/**
 * $TMPDIR when it is a writable folder; else the OS default (/tmp); else a folder under the
 * cache folder. A stale $TMPDIR (a closed tmux session, an old sudo environment) is common.
 */
export async function chooseTempDir(env: NodeJS.ProcessEnv, cacheDir: string, readOnly = false): Promise<TempDir> {
  const named = env.TMPDIR
  let why: string | null = null
  if (named) {
    why = path.isAbsolute(named) ? await usableFolder(named) : 'is not an absolute path'
    if (why === null) return {dir: named, fellBack: null}
  }
  const fellBack = named ? `$TMPDIR (${named}) ${why}` : null
  const osDefault = process.platform === 'win32' ? os.tmpdir() : '/tmp'
  if ((await usableFolder(osDefault)) === null) return {dir: osDefault, fellBack}
  const own = path.join(cacheDir, 'tmp')
  // a dry run writes nothing, not even this folder
  if (readOnly && (await usableFolder(own)) !== null) throw new Error(`no usable temp folder: ${fellBack ?? 'no $TMPDIR'}, and ${osDefault} cannot be used`)
  mkdirSync(own, {recursive: true, mode: 0o700})
  return {dir: own, fellBack: `${fellBack ?? 'no $TMPDIR'} and ${osDefault} cannot be used`}
}

/**
 * Runs `fn` with an empty CODEX_HOME in the temp folder, removed afterwards: any Codex run writes
 * helper links into CODEX_HOME/tmp, and a run without --fix must not write into the user's.
 */
export async function withThrowawayCodexHome<T>(temp: string, env: NodeJS.ProcessEnv, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  // never fall back to the user's CODEX_HOME: Codex would write its helper links there
  const dir = mkdtempSync(path.join(temp, 'codex-doctor-version-'))
  try {
    return await fn({...env, CODEX_HOME: dir, TMPDIR: temp})
  } finally {
    await (await import('node:fs/promises')).rm(dir, {recursive: true, force: true})
  }
}

export interface InspectOptions {
  /** Default VERSION_TIMEOUT_MS; tests lower it. */
  timeoutMs?: number
  /** Where the answer of this binary is remembered; none: always ask. */
  cacheDir?: string
  /** `--fix --dry-run`: read the cache, never write it. */
  readOnly?: boolean
  /** The temp folder for the throwaway CODEX_HOME (asked only when the binary must be run). */
  tempDir?: () => Promise<TempDir>
}

/** Finds the binary and asks its version, once per binary identity (cached); never throws. */
/** The binary to run (`--codex-bin`, else the first `codex` on PATH) and its real path, or why there is none. */
export async function locateCodex(codexBin: string | undefined, env: NodeJS.ProcessEnv): Promise<{bin: string; realPath: string} | {bin: string | null; error: string}> {
  const bin = codexBin ? path.resolve(codexBin) : await findOnPath('codex', env.PATH)
  if (!bin) return {bin: null, error: 'no `codex` on PATH'}
  try {
    return {bin, realPath: realpathSync(bin)}
  } catch {
    return {bin, error: `${bin} does not exist`}
  }
}

export async function inspectCodex(codexBin: string | undefined, env: NodeJS.ProcessEnv, options: InspectOptions = {}): Promise<CodexInfo> {
  const timeoutMs = options.timeoutMs ?? VERSION_TIMEOUT_MS
  const none = {realPath: null, version: null, rawVersion: null, install: 'other' as InstallMethod}
  const found = await locateCodex(codexBin, env)
  if ('error' in found) return {...none, bin: found.bin, error: found.error}
  const {bin, realPath: real} = found
  const install = installMethod(real)
  const failed = (error: string, rawVersion: string | null = null): CodexInfo => ({bin, realPath: real, version: null, rawVersion, install, error})
  const identity = options.cacheDir ? await binaryIdentity(real) : null
  if (identity && options.cacheDir) {
    const known = lookup(await readCache(options.cacheDir), identity)?.version
    if (known) return {bin, realPath: real, version: known.version, rawVersion: known.rawVersion, install, error: null, cached: true}
  }
  let result: RunResult
  let temp: TempDir = {dir: os.tmpdir(), fellBack: null}
  try {
    if (options.tempDir) temp = await options.tempDir()
    result = await withThrowawayCodexHome(temp.dir, env, (versionEnv) => runCodex(bin, ['--version'], {env: versionEnv, timeoutMs}))
  } catch (error) {
    return failed(`cannot run ${bin}: ${error instanceof Error ? firstLine(error.message) : String(error)}`)
  }
  if (result.timedOut) return failed(`\`codex --version\` did not answer within ${timeoutMs / 1000} s`)
  if (result.failedToStart) return failed(`cannot run ${bin}: ${result.failedToStart}`)
  const rawVersion = firstLine(result.stdout, 200)
  if (result.exitCode !== 0) {
    const said = firstLine(result.stderr) || firstLine(result.stdout)
    return failed(`\`codex --version\` exited with ${result.exitCode === undefined ? `signal ${result.signal}` : `code ${result.exitCode}`}${said ? `: ${said}` : ''}`, rawVersion || null)
  }
  const version = parseVersion(result.stdout)
  if (!version) {
    return failed(rawVersion ? `unexpected output from \`codex --version\`: ${JSON.stringify(firstLine(result.stdout))}` : '`codex --version` printed nothing', rawVersion || null)
  }
  // only a clean answer is remembered: a hang or a crash is asked again next time
  if (identity && options.cacheDir && !options.readOnly) await rememberOnDisk(options.cacheDir, identity, {version: {version, rawVersion}})
  return {bin, realPath: real, version, rawVersion, install, error: null, cached: false, ...(temp.fellBack ? {temp} : {})}
}
