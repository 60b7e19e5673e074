import {mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {LAST_CLOBBERING_VERSION} from '../codex-facts.js'
import {binaryIdentity, lookup, readCache, rememberOnDisk} from '../context/binary-cache.js'
import {firstLine, runCodex, upgradeCommand} from '../context/codex.js'
import type {Context} from '../context/types.js'
import {lstat, readFile} from '../fs-now.js'
import type {RunResult} from '../process.js'
import type {Check, Outcome} from './types.js'
import {CHECK_TITLES} from './titles.js'
import {now} from '../clock.js'

/** The MCP server the probe adds: a config write that needs no network and no login. */
export const PROBE_SERVER = 'codex-doctor-probe'
export const PROBE_CONTENT = '# codex-doctor write probe: a throwaway file\n'
/** The limit for the Codex run, within the check's 30 s. */
export const ADD_TIMEOUT_MS = 15_000
/** The probe server's command, never started: a program every system has (macOS has no /bin/true). */
export const PROBE_COMMAND = process.platform === 'darwin' ? '/usr/bin/true' : '/bin/true'

export type EntryKind = 'link' | 'file' | 'missing' | 'other'

/** What the disk and Codex showed after `codex mcp add`. */
export interface ProbeObservation {
  add: Pick<RunResult, 'exitCode' | 'signal' | 'stderr' | 'stdout' | 'timedOut' | 'failedToStart'>
  /** `CODEX_HOME/config.toml`, the chain's first link. */
  first: EntryKind
  /** The chain's second link. */
  second: EntryKind
  /** Whether the chain's final file now names the probe server. */
  targetWritten: boolean
}

/** Codex's stderr minus its harmless warning about a CODEX_HOME under the temp folder. */
export function meaningfulStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() && !/Refusing to create helper binaries/.test(line))
    .join('\n')
}

/** What a clobbering Codex needs, fresh or cached. */
function upgradeRemediation(upgrade: string) {
  return {text: `Upgrade Codex: versions ≤ ${LAST_CLOBBERING_VERSION} replace a linked config.toml with a regular file.`, commands: [upgrade]}
}

/** The verdict of one probe: pure, from what was observed. */
export function probeVerdict(o: ProbeObservation, upgrade: string): Outcome {
  const add = `\`codex mcp add ${PROBE_SERVER}\``
  if (o.add.timedOut) return {status: 'error', summary: `${add} did not finish within ${ADD_TIMEOUT_MS / 1000} s`}
  if (o.add.failedToStart) return {status: 'error', summary: `cannot run codex: ${o.add.failedToStart}`}
  if (o.add.exitCode !== 0) {
    const said = firstLine(meaningfulStderr(o.add.stderr)) || firstLine(o.add.stdout)
    const how = o.add.exitCode === undefined ? `signal ${o.add.signal}` : `code ${o.add.exitCode}`
    return {status: 'error', summary: `${add} exited with ${how}${said ? `: ${said}` : ''}`}
  }
  const remediation = upgradeRemediation(upgrade)
  if (o.first === 'file') {
    return {status: 'fail', summary: 'this Codex replaces a linked config.toml with a regular file: upgrade', remediation}
  }
  if (o.second === 'file') {
    return {status: 'fail', summary: 'this Codex follows one link but replaces the next link of the chain with a regular file: upgrade', remediation}
  }
  if (o.first === 'link' && o.second === 'link' && o.targetWritten) {
    return {status: 'pass', summary: 'this Codex follows link chains and writes the target'}
  }
  return {status: 'error', summary: `${add} succeeded but its write did not reach the chain's target (first link: ${o.first}, second: ${o.second})`}
}

async function entryKind(p: string): Promise<EntryKind> {
  try {
    const info = await lstat(p)
    return info.isSymbolicLink() ? 'link' : info.isFile() ? 'file' : 'other'
  } catch {
    return 'missing'
  }
}

/**
 * The experiment: a throwaway CODEX_HOME whose config.toml is a two-hop chain
 * (absolute, then relative) to a real file; one config write; then a look at the disk.
 */
export async function probe(bin: string, env: NodeJS.ProcessEnv, temp: string, signal?: AbortSignal): Promise<ProbeObservation> {
  // the throwaway folder is made synchronously (microseconds): each awaited call would wait for a
  // main thread busy with the other checks, and Codex, the slowest part of a run, would start later
  const root = realpathSync(mkdtempSync(path.join(temp, 'codex-doctor-probe-')))
  try {
    const codexHome = path.join(root, 'codex-home')
    const home = path.join(root, 'home')
    const first = path.join(codexHome, 'config.toml')
    const second = path.join(root, 'links', 'config.toml')
    const target = path.join(root, 'dotfiles', 'config.toml')
    for (const dir of [codexHome, home, path.dirname(second), path.dirname(target)]) mkdirSync(dir, {recursive: true})
    writeFileSync(target, PROBE_CONTENT)
    symlinkSync(path.relative(path.dirname(second), target), second)
    symlinkSync(second, first)

    // every folder Codex could write to lives in the throwaway folder: never the user's HOME or CODEX_HOME
    const codexEnv: NodeJS.ProcessEnv = {
      ...env,
      HOME: home,
      CODEX_HOME: codexHome,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      TMPDIR: temp,
    }
    delete codexEnv.CODEX_SQLITE_HOME

    const add = await runCodex(bin, ['mcp', 'add', PROBE_SERVER, '--', PROBE_COMMAND], {env: codexEnv, cwd: root, timeoutMs: ADD_TIMEOUT_MS, signal})
    const observed = {
      add,
      first: await entryKind(first),
      second: await entryKind(second),
      targetWritten: (await readFile(target, 'utf8').catch(() => '')).includes(PROBE_SERVER),
    }
    // nothing to take back: the whole folder goes
    return observed
  } finally {
    // fs/promises is loaded only where something is written or removed: a cached run loads none of it
    await (await import('node:fs/promises')).rm(root, {recursive: true, force: true})
  }
}

async function runProbe(ctx: Context): Promise<Outcome> {
  // the probe needs the binary, not its version: unless its verdict is remembered, it runs while
  // `codex --version` does, and is stopped if the version says there is nothing to probe
  const binary = await ctx.codexBinary()
  const identity = binary ? await binaryIdentity(binary.realPath) : null
  const cached = identity ? lookup(await readCache(ctx.cacheDir), identity)?.probe : undefined
  const stop = new AbortController()
  const started = now()
  const probing =
    binary && !cached
      ? ctx.tempDir().then(async (temp) => ({temp, observed: await probe(binary.bin, ctx.env, temp.dir, stop.signal)}))
      : null
  // met below, or dropped after it was stopped: never an unhandled rejection
  probing?.catch(() => undefined)

  const info = await ctx.codex()
  if (!info.bin || !info.version || !info.realPath || info.realPath !== binary?.realPath) {
    stop.abort()
    await probing?.catch(() => undefined)
    return {status: 'skip', summary: `no Codex to probe: ${info.error ?? 'its version is unknown'}`}
  }
  const upgrade = upgradeCommand(info.install)
  const details: Record<string, unknown> = {bin: info.bin, realPath: info.realPath, version: info.version, keyedBy: identity ? [identity.bin.path, ...(identity.platform ? [identity.platform.path] : [])] : null}

  if (cached) {
    const remediation = cached.status === 'fail' ? upgradeRemediation(upgrade) : undefined
    return {status: cached.status, summary: cached.summary, details: {...details, cached: true, probedAt: cached.probedAt}, remediation}
  }

  const {temp, observed} = await probing!
  const verdict = probeVerdict(observed, upgrade)
  Object.assign(details, {
    cached: false,
    probeMs: Math.round(now() - started),
    chain: 'CODEX_HOME/config.toml → (absolute) links/config.toml → (relative) dotfiles/config.toml',
    after: {firstLink: observed.first, secondLink: observed.second, targetWritten: observed.targetWritten},
    ...(temp.fellBack ? {tempDir: temp.dir, tempNote: temp.fellBack} : {}),
  })
  // a dry run writes nothing at all, not even this cache (SPEC rule 7); a hang or a crash is probed again next time
  if (identity && !ctx.readOnly && (verdict.status === 'pass' || verdict.status === 'fail')) {
    const cacheError = await rememberOnDisk(ctx.cacheDir, identity, {probe: {status: verdict.status, summary: verdict.summary, probedAt: new Date().toISOString()}})
    if (cacheError) details.cacheError = `could not write ${ctx.cacheDir}: ${cacheError}`
  }
  return {...verdict, details}
}

export const writeProbe: Check = {
  id: 'write-probe',
  title: CHECK_TITLES['write-probe'],
  timeoutMs: 30_000,
  async run(ctx) {
    if (!ctx.probe) return {status: 'skip', summary: 'the write probe is off (--no-probe)'}
    return runProbe(ctx)
  },
}
