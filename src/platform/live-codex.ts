/**
 * Never race a live Codex (SPEC safety rule 9): before `--fix` moves state out of the repository,
 * find the running Codex processes whose CODEX_HOME resolves into what would move, or that hold
 * files there. A process that might be Codex but could not be read is reported as such, never as
 * safe; `--ignore-running-codex` is the user's word that those are not in the way.
 */
import {realpath} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {isInside} from '../context/chain.js'
import {processTable, type ProcessEntry, type ProcessLook, type ProcessTable} from './processes.js'
import {now} from '../clock.js'

/** npm's node launcher (`bin/codex.js`), or the native binary that holds the files. */
export type CodexRole = 'native' | 'launcher'

export interface LiveCodex {
  pid: number
  role: CodexRole
  /** Its command line, as `ps` would show it. */
  command: string
  uid: number | null
  /** CODEX_HOME as it sees it ($CODEX_HOME, else $HOME/.codex), and that path with links resolved. */
  codexHome: string | null
  codexHomeReal: string | null
  /** Whether its CODEX_HOME is, or holds, one of the paths. */
  usesPaths: boolean
  /** The files inside the paths it has open (real paths, each once). */
  holds: string[]
  /** Its working folder, when inside the paths. */
  cwd: string | null
  /** It is one of codex-doctor's own ancestors: codex-doctor was started from this Codex session. */
  startedUs: boolean
}

export interface Uninspectable {
  pid: number
  /** Null when not even its command line could be read. */
  command: string | null
  uid: number | null
  why: string
}

export interface LiveCodexScan {
  /** Codex processes using the paths: --fix must not move them. */
  live: LiveCodex[]
  /** Processes that are (or may be) Codex but could not be read well enough to rule them out. */
  uninspectable: Uninspectable[]
  /** Why part or all of the process table could not be seen (hidepid, no `ps`, an unsupported OS); null when all of it was. */
  blind: string | null
  /** How many processes were listed, and how many of them looked like Codex. */
  scanned: number
  candidates: number
  durationMs: number
}

export interface FindLiveCodexOptions {
  /** Where processes come from (tests pass a fake /proc or fake ps/lsof); default: this OS's table. */
  table?: ProcessTable | null
  /** Our own pid: never counted, and the start of the ancestor chain. */
  selfPid?: number
  /** Our uid (a process of ours we cannot read is odd; another user's is expected); default process.getuid(). */
  uid?: number | null
  /** Our home, for a process of ours whose environment has no HOME (Codex then asks the password database). */
  home?: string
  /** Decides whether paths compare case-insensitively (macOS volumes usually are). */
  platform?: NodeJS.Platform
}

const NATIVE = /^(codex|codex\.exe|\.codex-wrapped|codex-(x86_64|aarch64|arm64)(-.*)?)$/
const INTERPRETER = /^(node|nodejs|bun)(\d+(\.\d+)*)?$/
/** npm's launcher itself, or the bin link to it run through its `#!/usr/bin/env node` line. */
const LAUNCHER_SCRIPT = /^codex(\.js)?$/
/** Node options that take the next argument as their value (so it is not the script). */
const NODE_VALUE_OPTIONS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--inspect-port', '--input-type', '--preserve-symlinks-main'])

const base = (p: string) => path.basename(p)

/** The script a node process runs: the first argument that is not an option (or an option's value). */
export function nodeScript(argv: readonly string[]): string | null {
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print') return null
    if (arg === '--') return argv[i + 1] ?? null
    if (arg.startsWith('-')) {
      if (NODE_VALUE_OPTIONS.has(arg)) i++
      continue
    }
    return arg
  }
  return null
}

/** Whether a process is Codex, and which part of it: decided from its executable, kernel name and arguments. */
export function codexRole(entry: Pick<ProcessEntry, 'exe' | 'name' | 'argv' | 'argvJoined' | 'line'>): CodexRole | null {
  const argv0 = entry.argv?.[0] ?? null
  if (entry.exe !== null && NATIVE.test(base(entry.exe))) return 'native'
  const interpreter = [entry.exe, entry.name, argv0].some((p) => p !== null && INTERPRETER.test(base(p)))
  if (interpreter && entry.argv) {
    const script = nodeScript(entry.argv)
    if (script !== null && LAUNCHER_SCRIPT.test(base(script))) return 'launcher'
    // `ps` joins arguments with spaces: a script path holding a space is only seen in the whole line
    if (entry.argvJoined && entry.line !== null && /\/(bin\/codex\.js|bin\/codex)( |$)/.test(entry.line)) return 'launcher'
  }
  if (interpreter) return null
  if (entry.name !== null && NATIVE.test(entry.name)) return 'native'
  if (argv0 !== null && NATIVE.test(base(argv0))) return 'native'
  return null
}

/** CODEX_HOME as Codex computes it: `$CODEX_HOME` (relative to its working folder) when set and not empty, else `$HOME/.codex`. */
export function codexHomeOf(env: Readonly<Record<string, string>>, cwd: string | null, fallbackHome: string | null = null): string | null {
  const set = env.CODEX_HOME
  if (set) return path.isAbsolute(set) ? path.resolve(set) : cwd !== null ? path.resolve(cwd, set) : null
  const home = env.HOME || fallbackHome
  return home ? path.join(home, '.codex') : null
}

/** A path and, when it exists, its real path: a process reports real paths, the caller may pass links. */
async function bothForms(p: string): Promise<string[]> {
  const resolved = path.resolve(p)
  try {
    const real = await realpath(resolved)
    return real === resolved ? [resolved] : [resolved, real]
  } catch {
    return [resolved]
  }
}

async function realOrSelf(p: string): Promise<string> {
  try {
    return await realpath(p)
  } catch {
    return p
  }
}

/** Which of `files` lie inside one of `targets`, each once. */
export function filesInside(files: readonly string[], targets: readonly string[], foldCase: boolean): string[] {
  const fold = (p: string) => (foldCase ? p.toLowerCase() : p)
  const folded = targets.map(fold)
  return [...new Set(files.filter((f) => folded.some((t) => isInside(fold(f), t))))].sort()
}

/** Whether two folders overlap: one is the other or inside it (CODEX_HOME inside what moves, or what moves inside CODEX_HOME). */
export function overlaps(a: string, targets: readonly string[], foldCase: boolean): boolean {
  const fold = (p: string) => (foldCase ? p.toLowerCase() : p)
  return targets.some((t) => isInside(fold(a), fold(t)) || isInside(fold(t), fold(a)))
}

/** The pids from `selfPid` up to init, through each process's parent. */
export function ancestors(entries: readonly Pick<ProcessEntry, 'pid' | 'ppid'>[], selfPid: number): Set<number> {
  const parent = new Map(entries.map((e) => [e.pid, e.ppid]))
  const chain = new Set<number>()
  for (let pid = parent.get(selfPid); pid !== undefined && pid !== null && pid > 0 && !chain.has(pid); pid = parent.get(pid)) chain.add(pid)
  return chain
}

const commandOf = (entry: ProcessEntry): string | null => entry.line ?? (entry.name !== null ? `(${entry.name})` : null)

/** The verdict on one Codex process, from what a closer look read. */
export function judge(
  entry: ProcessEntry,
  role: CodexRole,
  look: ProcessLook,
  facts: {codexHomeReal: string | null; targets: readonly string[]; foldCase: boolean; fallbackHome: string | null; startedUs: boolean},
): {live: LiveCodex} | {uninspectable: Uninspectable} | {elsewhere: true} {
  const codexHome = look.env ? codexHomeOf(look.env, look.cwd, facts.fallbackHome) : null
  const usesPaths = facts.codexHomeReal !== null && (overlaps(facts.codexHomeReal, facts.targets, facts.foldCase) || (codexHome !== null && overlaps(codexHome, facts.targets, facts.foldCase)))
  const holds = filesInside(look.files ?? [], facts.targets, facts.foldCase)
  const cwd = look.cwd !== null && filesInside([look.cwd], facts.targets, facts.foldCase).length > 0 ? look.cwd : null
  const command = commandOf(entry) ?? look.exe ?? `pid ${entry.pid}`
  if (usesPaths || holds.length > 0 || cwd !== null) {
    return {live: {pid: entry.pid, role, command, uid: entry.uid, codexHome, codexHomeReal: facts.codexHomeReal, usesPaths, holds, cwd, startedUs: facts.startedUs}}
  }
  // not seen using the paths; only safe if we saw both where its CODEX_HOME is and what it holds
  const missing = [
    ...(look.env === null
      ? ['its environment (so its CODEX_HOME)']
      : codexHome === null
        ? [look.env.CODEX_HOME ? 'its CODEX_HOME (a relative path, and its working folder is unknown)' : 'its CODEX_HOME (no CODEX_HOME or HOME in its environment)']
        : []),
    ...(look.files === null ? ['its open files'] : []),
  ]
  if (missing.length > 0) return {uninspectable: {pid: entry.pid, command, uid: entry.uid, why: [`could not read ${missing.join(' or ')}`, ...look.problems].join('; ')}}
  return {elsewhere: true}
}

/**
 * The running Codex processes that use `paths` (what --fix would move out of the repository):
 * their CODEX_HOME resolves into them, or they hold files (or their working folder) there.
 * Only Codex candidates get a closer look (environment, open files), all at once.
 */
export async function findLiveCodex(paths: readonly string[], options: FindLiveCodexOptions = {}): Promise<LiveCodexScan> {
  const started = now()
  const platform = options.platform ?? process.platform
  const table = options.table === undefined ? processTable(platform) : options.table
  const selfPid = options.selfPid ?? process.pid
  const uid = options.uid === undefined ? (process.getuid?.() ?? null) : options.uid
  const ownHome = options.home ?? os.homedir()
  const done = (scan: Omit<LiveCodexScan, 'durationMs'>): LiveCodexScan => ({...scan, durationMs: Math.round(now() - started)})
  if (table === null) return done({live: [], uninspectable: [], blind: `codex-doctor cannot list processes on ${platform}`, scanned: 0, candidates: 0})

  const [listing, targets] = await Promise.all([table.list(), Promise.all(paths.map(bothForms)).then((forms) => [...new Set(forms.flat())])])
  const uninspectable: Uninspectable[] = []
  const candidates: {entry: ProcessEntry; role: CodexRole}[] = []
  let othersUnreadable = 0
  for (const entry of listing.entries) {
    if (entry.pid === selfPid) continue
    const role = codexRole(entry)
    if (role) candidates.push({entry, role})
    else if (entry.argv === null && entry.exe === null && entry.name === null) {
      // not even its name: it might be Codex. Ours is worth naming; other users' are counted
      if (uid !== null && uid !== 0 && entry.uid !== null && entry.uid !== uid) othersUnreadable++
      else uninspectable.push({pid: entry.pid, command: null, uid: entry.uid, why: `could not read what it runs: ${entry.unreadable ?? 'unknown'}`})
    }
  }

  const looks = await table.look(candidates.map((c) => c.entry))
  const chain = ancestors(listing.entries, selfPid)
  const foldCase = platform === 'darwin' || platform === 'win32'
  const live: LiveCodex[] = []
  for (const {entry, role} of candidates) {
    const result = looks.get(entry.pid)
    if (result === undefined) {
      uninspectable.push({pid: entry.pid, command: commandOf(entry), uid: entry.uid, why: 'it was not inspected'})
      continue
    }
    // exited, or its pid now names a newer process: nothing of it to race
    if (result.state === 'gone') continue
    const look = result.look
    const owned = {...entry, uid: entry.uid ?? look.uid}
    const fallbackHome = uid !== null && owned.uid === uid ? ownHome : null
    const home = look.env ? codexHomeOf(look.env, look.cwd, fallbackHome) : null
    const verdict = judge(owned, role, look, {codexHomeReal: home ? await realOrSelf(home) : null, targets, foldCase, fallbackHome, startedUs: chain.has(entry.pid)})
    if ('live' in verdict) live.push(verdict.live)
    else if ('uninspectable' in verdict) uninspectable.push(verdict.uninspectable)
  }

  const blinds = [listing.blind, othersUnreadable > 0 ? `${othersUnreadable} processes of other users could not be read` : null].filter((b): b is string => b !== null)
  return done({
    live: live.sort((a, b) => a.pid - b.pid),
    uninspectable: uninspectable.sort((a, b) => a.pid - b.pid),
    blind: blinds.length > 0 ? blinds.join('; ') : null,
    scanned: listing.entries.length,
    candidates: candidates.length,
  })
}

/**
 * What --fix does with a scan. `live`: stop, exit 2, whatever the flags (quitting Codex is the
 * fix). `unsure`: a process could not be ruled out; stop unless --ignore-running-codex, which
 * turns it into `overridden`. `clear`: go ahead.
 */
export type RaceVerdict = 'clear' | 'live' | 'unsure' | 'overridden'

export function raceVerdict(scan: Pick<LiveCodexScan, 'live' | 'uninspectable' | 'blind'>, ignoreRunningCodex: boolean): RaceVerdict {
  if (scan.live.length > 0) return 'live'
  if (scan.uninspectable.length > 0 || scan.blind !== null) return ignoreRunningCodex ? 'overridden' : 'unsure'
  return 'clear'
}

function listFew(items: readonly string[], max: number): string {
  if (items.length <= max) return items.join(', ')
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

/** One line per finding, for the report and the `codex-home` warning; `show` shortens paths (e.g. the home folder to ~). */
export function scanLines(scan: Pick<LiveCodexScan, 'live' | 'uninspectable' | 'blind'>, show: (p: string) => string = (p) => p): string[] {
  const lines: string[] = []
  for (const c of scan.live) {
    const what = [
      ...(c.usesPaths && c.codexHome !== null ? [`its CODEX_HOME ${show(c.codexHome)}${c.codexHomeReal !== null && c.codexHomeReal !== c.codexHome ? ` (${show(c.codexHomeReal)})` : ''} is what would move`] : []),
      ...(c.holds.length > 0 ? [`it holds ${listFew(c.holds.map(show), 4)}`] : []),
      ...(c.cwd !== null ? [`it runs in ${show(c.cwd)}`] : []),
    ]
    const quit = c.startedUs ? 'this looks like the Codex session codex-doctor was started from: quit it and run codex-doctor from a plain terminal' : `quit it (or kill ${c.pid}) and run again`
    lines.push(`Codex is running: pid ${c.pid} (${c.command}): ${what.join('; ')}; ${quit}`)
  }
  for (const u of scan.uninspectable) {
    lines.push(`pid ${u.pid}${u.command !== null ? ` (${u.command})` : ''} may be Codex and could not be inspected: ${u.why}; if it does not use these files, run again with --ignore-running-codex`)
  }
  if (scan.blind !== null) lines.push(`not every process could be seen: ${scan.blind}; if no Codex of yours is running, run again with --ignore-running-codex`)
  return lines
}
