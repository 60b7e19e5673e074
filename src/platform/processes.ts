/**
 * One small view of the OS's process table: a cheap listing of every process (pid, start time,
 * command line, executable), then a closer look at a few of them (environment, working folder,
 * open files). Linux reads `/proc`; macOS (no `/proc`) asks `ps` and `lsof`.
 *
 * A process can exit or its pid can be reused at any moment: the closer look reads the start
 * time again afterwards and answers `gone` when it changed. Nothing here throws for a process
 * that vanished or could not be read; it says what it could not read instead.
 */
import {existsSync, readFile as readFileCallback} from 'node:fs'
import {readdir, readlink, stat} from 'node:fs/promises'
import path from 'node:path'
import {promisify} from 'node:util'

// the callback readFile does a small file in one trip to the thread pool; fs/promises' takes several (≈2× slower over /proc)
const readFile = promisify(readFileCallback) as (file: string, encoding: 'utf8') => Promise<string>

export interface ProcessEntry {
  pid: number
  ppid: number | null
  /** Owner; null when unknown (Linux reads it only for processes it takes a closer look at, or cannot read). */
  uid: number | null
  /** When it started, in the OS's own terms (clock ticks since boot, `ps` lstart): with the pid it names one process. */
  start: string | null
  /** The kernel's short name for it (Linux `comm`, macOS `p_comm`: the executable's file name, cut to 15 or 16 bytes). */
  name: string | null
  /** Its arguments, argv[0] first; null when unreadable. */
  argv: string[] | null
  /** `ps` prints arguments joined by spaces: an argument that holds a space was cut in two (`line` is the joined form). */
  argvJoined: boolean
  /** The command line as one line, for people. */
  line: string | null
  /** The executable's path when the listing knows it; else null (see `name`, and the closer look's `exe`). */
  exe: string | null
  /** Why its command line could not be read, null when it could. */
  unreadable: string | null
}

export interface ProcessLook {
  /** Owner, when the listing could not tell. */
  uid: number | null
  /** Its environment at start; null when unreadable (see `problems`). */
  env: Record<string, string> | null
  /** Its working folder; null when unreadable. */
  cwd: string | null
  /** Paths of the files it has open or mapped (executable included); null when unreadable. */
  files: string[] | null
  exe: string | null
  problems: string[]
}

/** `gone`: it exited while we looked, or its pid now names another process. */
export type LookResult = {state: 'read'; look: ProcessLook} | {state: 'gone'}

export interface ProcessListing {
  entries: ProcessEntry[]
  /** Why part or all of the table could not be seen (hidepid, no `ps`); null when all of it could. */
  blind: string | null
}

export interface ProcessTable {
  readonly source: 'proc' | 'ps'
  list(): Promise<ProcessListing>
  look(entries: readonly ProcessEntry[]): Promise<Map<number, LookResult>>
}

/** The table for this OS: `/proc` on Linux, `ps` + `lsof` on macOS; null elsewhere. */
export function processTable(platform: NodeJS.Platform = process.platform): ProcessTable | null {
  if (platform === 'linux' || platform === 'android') return procTable()
  if (platform === 'darwin') return psTable()
  return null
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/** ENOENT/ESRCH from `/proc/<pid>/…`: the process is gone (or never was). */
function isGone(error: unknown): boolean {
  return ['ENOENT', 'ESRCH'].includes(errnoCode(error) ?? '')
}

export function describeError(error: unknown): string {
  const code = errnoCode(error)
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  return code ?? (error instanceof Error ? error.message : String(error))
}

/** Runs `fn` over `items`, at most `limit` at a time: hundreds of processes, without running out of file descriptors. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}

// ---------------------------------------------------------------- Linux: /proc

/** What `/proc/<pid>/stat` says that we need; the name sits in parentheses and may hold spaces and ')'. */
export interface ProcStat {
  name: string
  state: string
  ppid: number
  flags: number
  start: string
}

export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return null
  const fields = text.slice(close + 2).trim().split(/\s+/)
  // after the name: state(3) ppid(4) … flags(9) … starttime(22), counted from 1 as in proc(5)
  const [state, ppid, flags, start] = [fields[0], fields[1], fields[6], fields[19]]
  if (state === undefined || ppid === undefined || flags === undefined || start === undefined) return null
  return {name: text.slice(open + 1, close), state, ppid: Number(ppid), flags: Number(flags), start}
}

const PF_KTHREAD = 0x00200000

/** NUL-separated strings (`cmdline`, `environ`), without the trailing empty one. */
export function splitNul(text: string): string[] {
  const parts = text.split('\0')
  if (parts.at(-1) === '') parts.pop()
  return parts
}

export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of splitNul(text)) {
    const eq = pair.indexOf('=')
    if (eq > 0 && !(pair.slice(0, eq) in env)) env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

/** The `hidepid=` option of the proc file system mounted at `root`, from `/proc/mounts`; null when off or unknown. */
export function hidepidOf(mounts: string, root: string): string | null {
  let found: string | null = null
  for (const line of mounts.split('\n')) {
    const [, mountPoint, type, options] = line.split(' ')
    if (type !== 'proc' || mountPoint !== root || options === undefined) continue
    const option = options.split(',').find((o) => o.startsWith('hidepid='))
    const value = option?.slice('hidepid='.length) ?? null
    // the last mount on a path wins
    found = value === null || value === '0' || value === 'off' ? null : value
  }
  return found
}

/** A link target in `/proc/<pid>/fd|cwd|exe`: a path (maybe deleted since), or a pipe/socket/anon inode (null). */
export function procLinkPath(target: string): string | null {
  if (!target.startsWith('/')) return null
  return target.endsWith(' (deleted)') ? target.slice(0, -' (deleted)'.length) : target
}

export interface ProcTableOptions {
  /** A proc file system to read instead of `/proc` (tests build fake ones). */
  root?: string
  /** How many `/proc/<pid>` folders are read at once. */
  concurrency?: number
  /** Who we are (default: this process's uid); root sees through hidepid. */
  uid?: number | null
}

export function procTable(options: ProcTableOptions = {}): ProcessTable {
  const root = options.root ?? '/proc'
  const limit = options.concurrency ?? 32
  const file = (pid: number, name: string) => path.join(root, String(pid), name)

  async function readStat(pid: number): Promise<ProcStat | 'gone' | {error: string}> {
    try {
      return parseProcStat(await readFile(file(pid, 'stat'), 'utf8')) ?? {error: 'unreadable stat'}
    } catch (error) {
      return isGone(error) ? 'gone' : {error: describeError(error)}
    }
  }

  /** The owner of `/proc/<pid>`; null when it cannot be told. */
  async function ownerOf(pid: number): Promise<number | null> {
    try {
      return (await stat(path.join(root, String(pid)))).uid
    } catch {
      return null
    }
  }

  // two small reads a process (stat, cmdline): the kernel's name is the executable's, so exe waits for a closer look
  async function entryOf(pid: number): Promise<ProcessEntry | null> {
    const st = await readStat(pid)
    if (st === 'gone') return null
    const entry: ProcessEntry = {pid, ppid: null, uid: null, start: null, name: null, argv: null, argvJoined: false, line: null, exe: null, unreadable: null}
    if ('error' in st) return {...entry, uid: await ownerOf(pid), unreadable: st.error}
    // kernel threads and zombies run no program and hold no files
    if (st.flags & PF_KTHREAD || st.state === 'Z' || st.state === 'X') return null
    entry.ppid = st.ppid
    entry.start = st.start
    entry.name = st.name
    try {
      const argv = splitNul(await readFile(file(pid, 'cmdline'), 'utf8'))
      if (argv.length > 0) {
        entry.argv = argv
        entry.line = argv.join(' ')
      }
    } catch (error) {
      if (isGone(error)) return null
      return {...entry, uid: await ownerOf(pid), unreadable: describeError(error)}
    }
    return entry
  }

  async function lookAt(entry: ProcessEntry): Promise<LookResult> {
    const problems: string[] = []
    const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | null | 'gone'> => {
      try {
        return await read()
      } catch (error) {
        if (isGone(error)) return 'gone'
        problems.push(`cannot read its ${what}: ${describeError(error)}`)
        return null
      }
    }
    const [uid, env, cwd, exe, files] = await Promise.all([
      ownerOf(entry.pid),
      attempt('environment', async () => parseEnviron(await readFile(file(entry.pid, 'environ'), 'utf8'))),
      attempt('working folder', async () => procLinkPath(await readlink(file(entry.pid, 'cwd')))),
      attempt('executable', async () => procLinkPath(await readlink(file(entry.pid, 'exe')))),
      attempt('open files', async () => {
        const fds = await readdir(file(entry.pid, 'fd'))
        const targets = await Promise.all(
          fds.map(async (fd) => {
            try {
              return procLinkPath(await readlink(path.join(root, String(entry.pid), 'fd', fd)))
            } catch {
              // closed between the listing and the read
              return null
            }
          }),
        )
        return targets.filter((t): t is string => t !== null)
      }),
    ])
    // the same pid and start time after reading: the same process, not a newcomer that reused the pid
    const after = await readStat(entry.pid)
    if (after === 'gone') return {state: 'gone'}
    if ('error' in after) problems.push(`cannot read its start time again: ${after.error}`)
    else if (entry.start !== null && after.start !== entry.start) return {state: 'gone'}
    // it exited while we looked and awaits its parent: a zombie's environment reads empty, and it
    // runs nothing and holds no files (a parallel test's Codex did this to a --fix in CI)
    else if (after.state === 'Z' || after.state === 'X') return {state: 'gone'}
    // a file missing from a process that is still there is unreadable, not a sign that it left
    const kept = <T>(value: T | null | 'gone', what: string): T | null => {
      if (value !== 'gone') return value
      problems.push(`cannot read its ${what}: missing`)
      return null
    }
    const exePath = kept(exe, 'executable')
    const fileList = kept(files, 'open files')
    return {
      state: 'read',
      look: {
        uid,
        env: kept(env, 'environment'),
        cwd: kept(cwd, 'working folder'),
        exe: exePath,
        files: fileList === null ? null : [...new Set([...fileList, ...(exePath ? [exePath] : [])])],
        problems,
      },
    }
  }

  return {
    source: 'proc',
    async list() {
      let names: string[]
      try {
        names = await readdir(root)
      } catch (error) {
        return {entries: [], blind: `cannot read ${root}: ${describeError(error)}`}
      }
      const pids = names.filter((n) => /^\d+$/.test(n)).map(Number)
      const entries = (await mapLimit(pids, limit, entryOf)).filter((e): e is ProcessEntry => e !== null)
      let hidepid: string | null = null
      try {
        hidepid = hidepidOf(await readFile(path.join(root, 'mounts'), 'utf8'), root)
      } catch {
        // a fake or unusual /proc without mounts: judge from what we saw
      }
      const uid = options.uid === undefined ? process.getuid?.() : options.uid
      let blind: string | null = null
      if (entries.length === 0) blind = `${root} lists no processes at all`
      else if (hidepid !== null && uid !== 0) blind = `${root} is mounted with hidepid=${hidepid}: other users' processes are hidden or unreadable`
      return {entries, blind}
    },
    async look(entries) {
      const results = await mapLimit(entries, limit, async (e) => [e.pid, await lookAt(e)] as const)
      return new Map(results)
    },
  }
}

// ---------------------------------------------------------------- macOS: ps and lsof

/**
 * Undoes strvis(3) as macOS `ps` applies it (VIS_TAB | VIS_NL | VIS_NOSLASH, C locale): `\^X`
 * for control bytes, `\M-…` for bytes ≥ 0x80. A backslash is not doubled, so one in a real
 * argument followed by `^` or `M-` is misread (rare).
 */
export function unvis(text: string): string {
  const bytes: number[] = []
  const control = (c: string) => (c === '?' ? 0x7f : c.charCodeAt(0) - 0x40)
  for (let i = 0; i < text.length; ) {
    const rest = text.slice(i)
    let m: RegExpMatchArray | null
    if ((m = rest.match(/^\\M\^([@-_?])/))) {
      bytes.push(0x80 | control(m[1]!))
      i += 4
    } else if ((m = rest.match(/^\\M-([\s\S])/))) {
      bytes.push(0x80 | m[1]!.charCodeAt(0))
      i += 4
    } else if ((m = rest.match(/^\\\^([@-_?])/))) {
      bytes.push(control(m[1]!))
      i += 3
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'))
      i += 1
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** Undoes lsof's escaping of a name (`\\`, `\n`, `\xNN`…). `^X` is left alone: a literal `^` is not escaped, so it cannot be told apart. */
export function unLsof(text: string): string {
  const simple: Record<string, number> = {b: 8, f: 12, n: 10, r: 13, t: 9, '\\': 0x5c}
  const bytes: number[] = []
  for (let i = 0; i < text.length; ) {
    const hex = text.slice(i).match(/^\\x([0-9a-f]{2})/)
    if (hex) {
      bytes.push(parseInt(hex[1]!, 16))
      i += 4
    } else if (text[i] === '\\' && text[i + 1] !== undefined && text[i + 1]! in simple) {
      bytes.push(simple[text[i + 1]!]!)
      i += 2
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'))
      i += 1
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** `lstart` in the C locale: `Tue Nov 24 06:15:14 2026` (strftime %c; the day is space-padded), left-justified in 28 columns by macOS ps. */
const LSTART = String.raw`\S+\s+\S+\s+\d+\s+\d+:\d+:\d+\s+\d+`

/** `ps -axww -o pid=,ppid=,uid=,lstart=,args=`: one process a line; args last, unlimited width. */
export function parsePsList(stdout: string): ProcessEntry[] {
  const line = new RegExp(String.raw`^\s*(\d+)\s+(\d+)\s+(\d+)\s+(${LSTART})\s+(.*)$`)
  const entries: ProcessEntry[] = []
  for (const text of stdout.split('\n')) {
    const m = text.match(line)
    if (!m) continue
    const args = m[5]!.trimEnd()
    if (args === '<defunct>') continue
    const base = {pid: Number(m[1]), ppid: Number(m[2]), uid: Number(m[3]), start: m[4]!.replace(/\s+/g, ' '), exe: null}
    // `(name)`: ps could not read its arguments (another user's process), only the kernel's name for it
    const hidden = args.match(/^\((.*)\)$/)
    if (hidden) entries.push({...base, name: hidden[1]!, argv: null, argvJoined: false, line: null, unreadable: 'its arguments are not readable (another user\'s process?)'})
    else {
      const decoded = unvis(args)
      entries.push({...base, name: null, argv: decoded.split(' ').filter((a) => a !== ''), argvJoined: true, line: decoded, unreadable: null})
    }
  }
  return entries
}

/** `ps -ww [-E] -o pid=,lstart=[,args=] -p …`: with -E, the arguments, a space, then the environment (shown only for our own processes). */
export function parsePsEnv(stdout: string): Map<number, {start: string; text: string}> {
  const line = new RegExp(String.raw`^\s*(\d+)\s+(${LSTART})(?:\s+(.*))?$`)
  const out = new Map<number, {start: string; text: string}>()
  for (const text of stdout.split('\n')) {
    const m = text.match(line)
    if (m) out.set(Number(m[1]), {start: m[2]!.replace(/\s+/g, ' '), text: (m[3] ?? '').trimEnd()})
  }
  return out
}

/**
 * The environment `ps -E` appended after `args` (both decoded). Entries are joined by spaces too, so a value is
 * taken to run until the next ` NAME=`; macOS also appends its own `apple[]` strings
 * (`executable_path=…`), harmless here. Null when nothing follows the arguments: not shown to us.
 */
export function envAfterArgs(withEnv: string, args: string): Record<string, string> | null {
  if (!withEnv.startsWith(args + ' ')) return null
  const rest = withEnv.slice(args.length + 1)
  const env: Record<string, string> = {}
  for (const pair of rest.split(/ (?=[A-Za-z_][A-Za-z0-9_]*=)/)) {
    const eq = pair.indexOf('=')
    if (eq > 0 && !(pair.slice(0, eq) in env)) env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

/** One process in `lsof -F pfn` output: its working folder, executable(s) and files, and errors lsof wrote in place of names. */
export interface LsofProcess {
  cwd: string | null
  txt: string[]
  files: string[]
  errors: string[]
}

/** `lsof -F pfn`: `p<pid>` starts a process, then `f<fd>` and `n<name>` for each file (cwd, txt, 0u…). */
export function parseLsof(stdout: string): Map<number, LsofProcess> {
  const out = new Map<number, LsofProcess>()
  let current: LsofProcess | null = null
  let fd = ''
  for (const line of stdout.split('\n')) {
    const tag = line[0]
    const value = line.slice(1)
    if (tag === 'p') {
      current = {cwd: null, txt: [], files: [], errors: []}
      out.set(Number(value), current)
    } else if (tag === 'f') fd = value
    else if (tag === 'n' && current) {
      // lsof puts an error where it could not read a name: "cwd|rtd info error: …", "FD info error: …"
      if (/ info error: /.test(value) || /\(Permission denied\)$|\(Operation not permitted\)$/.test(value)) {
        current.errors.push(`${fd}: ${value}`)
        continue
      }
      const name = unLsof(value).replace(/ \(deleted\)$/, '')
      if (!name.startsWith('/')) continue
      if (fd === 'cwd') current.cwd = name
      else if (fd === 'txt') current.txt.push(name)
      else if (/^\d+$/.test(fd) || fd === 'mem') current.files.push(name)
    }
  }
  return out
}

export interface PsTableOptions {
  /** Environment for `ps`/`lsof` (tests put fake ones first on PATH). */
  env?: NodeJS.ProcessEnv
  /** The programs to run; default `/bin/ps` and `/usr/sbin/lsof` when present (a login PATH may lack /usr/sbin), else by name. */
  ps?: string
  lsof?: string
}

export function psTable(options: PsTableOptions = {}): ProcessTable {
  const ps = options.ps ?? (existsSync('/bin/ps') ? '/bin/ps' : 'ps')
  const lsof = options.lsof ?? (existsSync('/usr/sbin/lsof') ? '/usr/sbin/lsof' : 'lsof')
  // the C locale: lstart in one known format, non-ASCII bytes escaped the same way every time
  const env = {...(options.env ?? process.env), LC_ALL: 'C', LANG: 'C'}
  const exec = async (file: string, args: string[]) => {
    const {run} = await import('../process.js')
    return run(file, args, {env, timeoutMs: 15_000})
  }
  const failure = (file: string, r: {failedToStart: string | undefined; timedOut: boolean; stderr: string; exitCode: number | undefined}) =>
    r.failedToStart ? `cannot run ${file}: ${r.failedToStart}` : r.timedOut ? `${file} did not answer in time` : `${file} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`

  return {
    source: 'ps',
    async list() {
      const r = await exec(ps, ['-axww', '-o', 'pid=,ppid=,uid=,lstart=,args='])
      const entries = parsePsList(r.stdout)
      // ps exits 1 when a process vanished while it read the table; only an empty answer is blindness
      if (entries.length === 0) return {entries, blind: failure(ps, r)}
      return {entries, blind: null}
    },
    async look(entries) {
      const results = new Map<number, LookResult>()
      if (entries.length === 0) return results
      const pids = entries.map((e) => e.pid).join(',')
      const [open, withEnv] = await Promise.all([exec(lsof, ['-w', '-n', '-P', '-F', 'pfn', '-p', pids]), exec(ps, ['-ww', '-E', '-o', 'pid=,lstart=,args=', '-p', pids])])
      const lsofBroken = open.failedToStart || open.timedOut ? failure(lsof, open) : null
      const files = parseLsof(open.stdout)
      const envs = parsePsEnv(withEnv.stdout)
      // read after lsof and ps -E: a pid still there with the same start time is the process we looked at
      const check = await exec(ps, ['-ww', '-o', 'pid=,lstart=', '-p', pids])
      // ps exits 1 when some pid is gone; anything worse proves nothing about who left
      const checkBroken = check.failedToStart || check.timedOut || (check.exitCode !== 0 && check.exitCode !== 1) ? failure(ps, check) : null
      const after = parsePsEnv(check.stdout)
      const lsofError = open.stderr.trim().split('\n')[0]
      for (const entry of entries) {
        const problems: string[] = []
        const now = after.get(entry.pid)
        if (checkBroken) problems.push(`cannot tell whether it is still the same process: ${checkBroken}`)
        else if (!now || (entry.start !== null && now.start !== entry.start)) {
          results.set(entry.pid, {state: 'gone'})
          continue
        }
        const seen = files.get(entry.pid)
        if (lsofBroken) problems.push(`cannot list its open files: ${lsofBroken}`)
        else if (!seen) problems.push(lsofError ? `lsof could not inspect it: ${lsofError}` : 'lsof could not inspect it (permission denied: another user\'s process?)')
        else problems.push(...seen.errors.map((e) => `lsof: ${e}`))
        const cwdUnreadable = seen?.errors.some((e) => e.startsWith('cwd')) ?? true
        const fdsUnreadable = seen?.errors.some((e) => /FD info error/.test(e)) ?? true
        const shown = envs.get(entry.pid)
        const environment = shown && entry.line !== null && shown.start === (now?.start ?? entry.start) ? envAfterArgs(unvis(shown.text), entry.line) : null
        if (environment === null) problems.push(entry.line === null ? 'cannot read its environment (another user\'s process?)' : 'ps -E did not show its environment')
        results.set(entry.pid, {
          state: 'read',
          look: {
            uid: entry.uid,
            env: environment,
            cwd: seen && !cwdUnreadable ? seen.cwd : null,
            exe: seen?.txt[0] ?? null,
            files: seen && !lsofBroken && !fdsUnreadable ? [...new Set([...seen.files, ...seen.txt])] : null,
            problems,
          },
        })
      }
      return results
    },
  }
}

