/**
 * The process table, fed bad input: a fake /proc (unreadable or missing environ, entries that
 * vanish or are reused, hidepid-like tables) and fake `ps`/`lsof` on PATH printing what the
 * macOS ones print (formats from Apple's adv_cmds ps and lsof's darwin dialect).
 */
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {findLiveCodex, raceVerdict} from '../../src/platform/live-codex.js'
import {
  envAfterArgs,
  hidepidOf,
  parseLsof,
  parseProcStat,
  parsePsList,
  procTable,
  psTable,
  unLsof,
  unvis,
  type ProcessTable,
} from '../../src/platform/processes.js'

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) {
    // give back permissions taken away for a test, so the folder can be removed
    for (const p of restore.splice(0)) if (existsSync(p)) chmodSync(p, 0o755)
    rmSync(dir, {recursive: true, force: true})
  }
})
const restore: string[] = []

function tempRoot(): string {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-procs-')))
  temps.push(root)
  return root
}

/** Old layout on disk: home/.codex links to repo/codex, which holds Codex's state. */
function machine(root: string, homeName = 'home') {
  const home = path.join(root, homeName)
  const repoCodex = path.join(root, 'dotfiles', 'codex')
  mkdirSync(path.join(repoCodex, 'sessions'), {recursive: true})
  mkdirSync(home, {recursive: true})
  for (const f of ['state_5.sqlite', 'history.jsonl', 'auth.json']) writeFileSync(path.join(repoCodex, f), '')
  symlinkSync(repoCodex, path.join(home, '.codex'))
  const elsewhere = path.join(root, 'elsewhere')
  mkdirSync(elsewhere)
  return {home, repoCodex, codexHome: path.join(home, '.codex'), elsewhere}
}

// ---------------------------------------------------------------- a fake /proc

interface FakeProcess {
  name: string
  state?: string
  ppid?: number
  flags?: number
  start?: string
  argv?: string[]
  /** null: no environ file; 'folder': one that cannot be read as a file (EISDIR). */
  env?: Record<string, string> | null | 'folder'
  exe?: string
  cwd?: string
  /** Link targets of /proc/<pid>/fd/N; null: no fd folder. */
  fds?: string[] | null
}

function fakeProcess(proc: string, pid: number, p: FakeProcess): string {
  const dir = path.join(proc, String(pid))
  mkdirSync(dir, {recursive: true})
  writeStat(proc, pid, p)
  writeFileSync(path.join(dir, 'cmdline'), (p.argv ?? []).map((a) => a + '\0').join(''))
  if (p.env === 'folder') mkdirSync(path.join(dir, 'environ'))
  else if (p.env !== null) writeFileSync(path.join(dir, 'environ'), Object.entries(p.env ?? {}).map(([k, v]) => `${k}=${v}\0`).join(''))
  if (p.exe) symlinkSync(p.exe, path.join(dir, 'exe'))
  if (p.cwd) symlinkSync(p.cwd, path.join(dir, 'cwd'))
  if (p.fds !== null) {
    mkdirSync(path.join(dir, 'fd'))
    ;(p.fds ?? ['/dev/null']).forEach((target, i) => symlinkSync(target, path.join(dir, 'fd', String(i))))
  }
  return dir
}

function writeStat(proc: string, pid: number, p: FakeProcess): void {
  // proc(5): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime …
  const line = `${pid} (${p.name}) ${p.state ?? 'S'} ${p.ppid ?? 1} ${pid} ${pid} 0 -1 ${p.flags ?? 4194304} 0 0 0 0 0 0 0 0 20 0 1 0 ${p.start ?? '5000'} 0 0\n`
  writeFileSync(path.join(proc, String(pid), 'stat'), line)
}

const NATIVE = '/usr/lib/node_modules/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex'

describe('reading /proc', () => {
  it('parses stat lines whose name holds spaces and parentheses', () => {
    expect(parseProcStat('42 (a) (b c) R 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0')).toEqual({name: 'a) (b c', state: 'R', ppid: 7, flags: 4194560, start: '987654'})
    expect(parseProcStat('garbage')).toBeNull()
  })

  it('reads hidepid from the mount table (the last mount on the path wins)', () => {
    expect(hidepidOf('proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n', '/proc')).toBeNull()
    expect(hidepidOf('proc /proc proc rw,relatime,hidepid=invisible 0 0\n', '/proc')).toBe('invisible')
    expect(hidepidOf('proc /proc proc rw,hidepid=2 0 0\nproc /proc proc rw,hidepid=0 0 0\n', '/proc')).toBeNull()
    expect(hidepidOf('proc /other proc rw,hidepid=2 0 0\n', '/proc')).toBeNull()
  })

  it('finds the native Codex and its launcher, and nothing else, in a busy table', async () => {
    const root = tempRoot()
    const m = machine(root)
    const proc = path.join(root, 'proc')
    fakeProcess(proc, 2, {name: 'kthreadd', flags: 0x00208040, fds: null})
    fakeProcess(proc, 300, {name: 'codex', state: 'Z', argv: []})
    fakeProcess(proc, 400, {name: 'node', argv: ['node', '/usr/lib/node_modules/@openai/codex/bin/codex.js', 'app-server'], exe: '/usr/bin/node', env: {HOME: m.home}, cwd: root, fds: ['pipe:[1]']})
    fakeProcess(proc, 401, {name: 'codex', ppid: 400, argv: [NATIVE, 'app-server'], exe: NATIVE, env: {HOME: m.home}, cwd: root, fds: ['pipe:[1]', path.join(m.repoCodex, 'state_5.sqlite'), path.join(m.repoCodex, 'state_5.sqlite'), 'socket:[9]', `${path.join(m.repoCodex, 'history.jsonl')} (deleted)`]})
    fakeProcess(proc, 500, {name: 'codex', argv: ['codex'], exe: '/opt/codex/codex', env: {HOME: m.home, CODEX_HOME: m.elsewhere}, cwd: m.elsewhere})
    fakeProcess(proc, 600, {name: 'tail', argv: ['tail', '-f', 'history.jsonl'], exe: '/usr/bin/tail', env: {HOME: m.home, CODEX_HOME: m.codexHome}, cwd: m.repoCodex, fds: [path.join(m.repoCodex, 'history.jsonl')]})
    fakeProcess(proc, 700, {name: 'codex-doctor', argv: ['node', '/x/codex-doctor/bin/run.js'], exe: '/usr/bin/node', env: {HOME: m.home}})

    const scan = await findLiveCodex([m.codexHome], {table: procTable({root: proc}), selfPid: 700, uid: null})
    expect(scan.blind).toBeNull()
    expect(scan.uninspectable).toEqual([])
    expect(scan.scanned).toBe(5)
    expect(scan.candidates).toBe(3)
    expect(scan.live.map((c) => [c.pid, c.role, c.codexHomeReal])).toEqual([
      [400, 'launcher', m.repoCodex],
      [401, 'native', m.repoCodex],
    ])
    expect(scan.live[1]!.holds).toEqual([path.join(m.repoCodex, 'history.jsonl'), path.join(m.repoCodex, 'state_5.sqlite')])
    expect(scan.live[1]!.command).toBe(`${NATIVE} app-server`)
  })

  it('a Codex that exits while it is looked at is gone, not uninspectable: a zombie reads as an empty environment', async () => {
    const root = tempRoot()
    const proc = path.join(root, 'proc')
    fakeProcess(proc, 20, {name: 'codex', argv: ['codex'], exe: NATIVE, env: {HOME: root}, cwd: root})
    const table = procTable({root: proc, uid: null})
    const {entries} = await table.list()
    expect(entries.map((e) => e.pid)).toEqual([20])
    // between the listing and the look: it exits, and its parent has not reaped it yet
    writeStat(proc, 20, {name: 'codex', state: 'Z'})
    writeFileSync(path.join(proc, '20', 'environ'), '')
    rmSync(path.join(proc, '20', 'fd'), {recursive: true})
    rmSync(path.join(proc, '20', 'cwd'))
    rmSync(path.join(proc, '20', 'exe'))
    expect((await table.look(entries)).get(20)).toEqual({state: 'gone'})
  })

  it('a Codex whose environ is missing or unreadable is uninspectable, unless what it holds already convicts it', async () => {
    const root = tempRoot()
    const m = machine(root)
    const proc = path.join(root, 'proc')
    fakeProcess(proc, 10, {name: 'codex', argv: ['codex'], exe: NATIVE, env: null, cwd: root})
    fakeProcess(proc, 11, {name: 'codex', argv: ['codex'], exe: NATIVE, env: 'folder', cwd: root})
    fakeProcess(proc, 12, {name: 'codex', argv: ['codex'], exe: NATIVE, env: null, cwd: root, fds: [path.join(m.repoCodex, 'auth.json')]})
    fakeProcess(proc, 13, {name: 'codex', argv: ['codex'], exe: NATIVE, env: {HOME: m.home}, cwd: root, fds: null})

    const scan = await findLiveCodex([m.repoCodex], {table: procTable({root: proc}), selfPid: 1, uid: null})
    expect(scan.live.map((c) => c.pid)).toEqual([12, 13])
    expect(scan.live[0]!.holds).toEqual([path.join(m.repoCodex, 'auth.json')])
    expect(scan.uninspectable.map((u) => [u.pid, u.command])).toEqual([
      [10, 'codex'],
      [11, 'codex'],
    ])
    expect(scan.uninspectable[0]!.why).toMatch(/could not read its environment \(so its CODEX_HOME\).*environment: missing/)
    expect(scan.uninspectable[1]!.why).toMatch(/environment: EISDIR/)
    expect(raceVerdict(scan, true)).toBe('live')
  })

  it('a Codex with another CODEX_HOME but unreadable open files is uninspectable', async () => {
    const root = tempRoot()
    const m = machine(root)
    const proc = path.join(root, 'proc')
    fakeProcess(proc, 20, {name: 'codex', argv: ['codex'], exe: NATIVE, env: {CODEX_HOME: m.elsewhere}, cwd: root, fds: null})
    const scan = await findLiveCodex([m.repoCodex], {table: procTable({root: proc}), selfPid: 1, uid: null})
    expect(scan.live).toEqual([])
    expect(scan.uninspectable).toEqual([{pid: 20, command: 'codex', uid: expect.any(Number), why: expect.stringMatching(/could not read its open files/)}])
    expect(raceVerdict(scan, false)).toBe('unsure')
  })

  it.runIf(process.getuid?.() !== 0)('environ without read permission (as a normal user): uninspectable', async () => {
    const root = tempRoot()
    const m = machine(root)
    const proc = path.join(root, 'proc')
    const dir = fakeProcess(proc, 30, {name: 'codex', argv: ['codex'], exe: NATIVE, env: {HOME: m.home}, cwd: root})
    chmodSync(path.join(dir, 'environ'), 0)
    const scan = await findLiveCodex([m.repoCodex], {table: procTable({root: proc}), selfPid: 1})
    expect(scan.uninspectable.map((u) => u.why)).toEqual([expect.stringMatching(/environment: permission denied/)])
  })

  it('a process that exits while it is inspected, and a pid reused by a newer process, are skipped without a crash', async () => {
    const root = tempRoot()
    const m = machine(root)
    const proc = path.join(root, 'proc')
    const holding = {argv: ['codex'], exe: NATIVE, env: {HOME: m.home}, cwd: root, fds: [path.join(m.repoCodex, 'state_5.sqlite')]}
    fakeProcess(proc, 40, {name: 'codex', ...holding})
    fakeProcess(proc, 41, {name: 'codex', start: '100', ...holding})
    fakeProcess(proc, 42, {name: 'codex', ...holding})
    const real = procTable({root: proc})
    // between the listing and the closer look: 40 exits, 41's pid goes to a newer process
    const racing: ProcessTable = {
      source: real.source,
      list: () => real.list(),
      async look(entries) {
        rmSync(path.join(proc, '40'), {recursive: true})
        writeStat(proc, 41, {name: 'codex', start: '200'})
        return real.look(entries)
      },
    }
    const scan = await findLiveCodex([m.repoCodex], {table: racing, selfPid: 1, uid: null})
    expect(scan.live.map((c) => c.pid)).toEqual([42])
    expect(scan.uninspectable).toEqual([])
    expect(scan.candidates).toBe(3)
  })

  it('an entry that disappears while the table is listed is skipped', async () => {
    const root = tempRoot()
    const proc = path.join(root, 'proc')
    // a pid folder with nothing in it: its stat is gone (ENOENT), as for a process that just exited
    mkdirSync(path.join(proc, '50'), {recursive: true})
    fakeProcess(proc, 51, {name: 'bash', argv: ['bash'], exe: '/bin/bash'})
    const listing = await procTable({root: proc}).list()
    expect(listing.entries.map((e) => e.pid)).toEqual([51])
    expect(listing.blind).toBeNull()
  })

  it('a hidepid-like empty table, a missing /proc and a hidepid mount are blind, never clear', async () => {
    const root = tempRoot()
    const empty = path.join(root, 'empty-proc')
    mkdirSync(path.join(empty, 'sys'), {recursive: true})
    writeFileSync(path.join(empty, 'mounts'), `proc ${empty} proc rw,relatime 0 0\n`)
    const none = await findLiveCodex(['/x'], {table: procTable({root: empty}), selfPid: 1})
    expect(none.blind).toMatch(/lists no processes/)
    expect(raceVerdict(none, false)).toBe('unsure')
    expect(raceVerdict(none, true)).toBe('overridden')

    const missing = await findLiveCodex(['/x'], {table: procTable({root: path.join(root, 'no-proc')}), selfPid: 1})
    expect(missing.blind).toMatch(/cannot read .*no-proc: ENOENT/)

    const hidden = path.join(root, 'hidden-proc')
    fakeProcess(hidden, 60, {name: 'bash', argv: ['bash'], exe: '/bin/bash'})
    writeFileSync(path.join(hidden, 'mounts'), `proc ${hidden} proc rw,relatime,hidepid=2 0 0\n`)
    expect((await procTable({root: hidden, uid: 1000}).list()).blind).toMatch(/hidepid=2: other users' processes are hidden/)
    // root sees through hidepid
    expect((await procTable({root: hidden, uid: 0}).list()).blind).toBeNull()
  })

  it('processes whose files cannot be read at all (hidepid=1): ours are named, other users\' counted as blindness', async () => {
    const root = tempRoot()
    const proc = path.join(root, 'proc')
    // stat and cmdline that cannot be read (folders: EISDIR, as EACCES would be for a non-root reader)
    for (const pid of [70, 71]) {
      mkdirSync(path.join(proc, String(pid), 'stat'), {recursive: true})
      mkdirSync(path.join(proc, String(pid), 'cmdline'), {recursive: true})
    }
    const owner = (await import('node:fs')).statSync(path.join(proc, '70')).uid
    const ours = await findLiveCodex(['/x'], {table: procTable({root: proc}), selfPid: 1, uid: owner === 0 ? null : owner})
    expect(ours.uninspectable.map((u) => [u.pid, u.command])).toEqual([
      [70, null],
      [71, null],
    ])
    expect(ours.uninspectable[0]!.why).toMatch(/could not read what it runs: EISDIR/)
    const theirs = await findLiveCodex(['/x'], {table: procTable({root: proc}), selfPid: 1, uid: owner + 1000})
    expect(theirs.uninspectable).toEqual([])
    expect(theirs.blind).toBe('2 processes of other users could not be read')
    expect(raceVerdict(theirs, false)).toBe('unsure')
  })
})

// ---------------------------------------------------------------- macOS: fake ps and lsof on PATH

/** `ps` and `lsof` scripts that print prepared answers and log how they were called. */
function fakeTools(root: string) {
  const bin = path.join(root, 'bin')
  const answers = path.join(root, 'answers')
  mkdirSync(bin)
  mkdirSync(answers)
  const script = (name: string, pick: string) =>
    writeFileSync(
      path.join(bin, name),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> "$FAKE_ANSWERS/${name}.calls"\n${pick}\ncat "$FAKE_ANSWERS/$answer" 2>/dev/null\nexit $(cat "$FAKE_ANSWERS/$answer.rc" 2>/dev/null || echo 0)\n`,
      {mode: 0o755},
    )
  script('ps', 'case "$*" in *-axww*) answer=ps-list ;; *-E*) answer=ps-env ;; *) answer=ps-after ;; esac')
  script('lsof', 'answer=lsof')
  const put = (name: string, text: string, rc = 0) => {
    writeFileSync(path.join(answers, name), text)
    writeFileSync(path.join(answers, `${name}.rc`), `${rc}\n`)
  }
  const calls = (name: string) => readFileSync(path.join(answers, `${name}.calls`), 'utf8').trim().split('\n')
  const table = (over: {ps?: string; lsof?: string} = {}) => psTable({env: {...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_ANSWERS: answers}, ps: over.ps ?? 'ps', lsof: over.lsof ?? 'lsof'})
  return {put, calls, table}
}

/** A line of `ps -o pid=,ppid=,uid=,lstart=,args=` as macOS prints it: numbers right-aligned in 5 columns, lstart (%c) left-justified in 28 (adv_cmds keyword.c). */
const psLine = (pid: number, ppid: number, uid: number, lstart: string, args: string) => `${String(pid).padStart(5)} ${String(ppid).padStart(5)} ${String(uid).padStart(5)} ${lstart.padEnd(28)} ${args}`
const envLine = (pid: number, lstart: string, text: string) => `${String(pid).padStart(5)} ${lstart.padEnd(28)} ${text}`.trimEnd()
const T1 = 'Tue Nov 24 06:15:14 2026'
const T2 = 'Mon Nov  3 09:01:02 2026'
const T3 = 'Wed Nov 25 10:00:00 2026'

/** What strvis(3) makes of a string in the C locale: bytes ≥ 0x80 as \M-x. */
function vis(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (b >= 0x80 ? `\\M-${String.fromCharCode(b & 0x7f)}` : String.fromCharCode(b))).join('')
}

describe('macOS: ps and lsof', () => {
  it('decodes ps (strvis) and lsof escapes', () => {
    expect(unvis('/Users/j\\M-C\\M-3zef/.codex')).toBe('/Users/józef/.codex')
    expect(unvis('a\\^Ib')).toBe('a\tb')
    expect(unvis(vis('/tmp/hóme ü'))).toBe('/tmp/hóme ü')
    expect(unLsof('/Users/j\\xc3\\xb3zef/a\\\\b\\tc')).toBe('/Users/józef/a\\b\tc')
  })

  it('parses the process list, with unreadable arguments as (name) and zombies skipped', () => {
    const entries = parsePsList(
      [psLine(1, 0, 0, T1, '/sbin/launchd'), psLine(880, 1, 502, T2, '(codex)'), psLine(881, 1, 501, T2, '<defunct>'), psLine(4243, 4242, 501, T1, '/opt/x/codex app-server'), ''].join('\n'),
    )
    expect(entries.map((e) => [e.pid, e.ppid, e.uid, e.start, e.name, e.argv])).toEqual([
      [1, 0, 0, T1, null, ['/sbin/launchd']],
      [880, 1, 502, 'Mon Nov 3 09:01:02 2026', 'codex', null],
      [4243, 4242, 501, T1, null, ['/opt/x/codex', 'app-server']],
    ])
  })

  it('takes the environment from what ps -E appends after the arguments', () => {
    expect(envAfterArgs('codex app-server HOME=/Users/me CODEX_HOME=/Users/me/my codex TERM=xterm executable_path=/opt/codex', 'codex app-server')).toEqual({
      HOME: '/Users/me',
      CODEX_HOME: '/Users/me/my codex',
      TERM: 'xterm',
      executable_path: '/opt/codex',
    })
    expect(envAfterArgs('(codex)', '(codex)')).toBeNull()
    expect(envAfterArgs('other args X=1', 'codex')).toBeNull()
  })

  it('parses lsof -F pfn output, with errors written in place of names', () => {
    const out = parseLsof(['p4243', 'fcwd', 'n/Users/me', 'ftxt', 'n/opt/codex', 'f0', 'n/dev/ttys003', 'f12', 'n/Users/me/dotfiles/codex/state_5.sqlite', 'f13', 'nlocalhost:1234->x', 'p4600', 'fcwd', 'ncwd|rtd info error: Operation not permitted', 'fNOFD', 'nFD info error: Operation not permitted', ''].join('\n'))
    expect(out.get(4243)).toEqual({cwd: '/Users/me', txt: ['/opt/codex'], files: ['/dev/ttys003', '/Users/me/dotfiles/codex/state_5.sqlite'], errors: []})
    expect(out.get(4600)!.errors).toEqual(['cwd: cwd|rtd info error: Operation not permitted', 'NOFD: FD info error: Operation not permitted'])
  })

  it('finds the live Codex processes, and says which could not be inspected, from real-looking ps and lsof output', async () => {
    const root = tempRoot()
    const m = machine(root)
    const accented = machine(path.join(root, 'second'), 'hóme')
    const f = fakeTools(root)
    const launcher = 'node /Users/me/.npm-global/lib/node_modules/@openai/codex/bin/codex.js app-server'
    const native = '/Users/me/.npm-global/lib/node_modules/@openai/codex/node_modules/@openai/codex-darwin-arm64/vendor/aarch64-apple-darwin/codex/codex app-server'
    f.put(
      'ps-list',
      [
        psLine(1, 0, 0, T2, '/sbin/launchd'),
        psLine(4100, 4000, 501, T2, '-zsh'),
        psLine(4242, 4100, 501, T1, launcher),
        psLine(4243, 4242, 501, T1, native),
        psLine(4300, 4100, 501, T1, 'codex'),
        psLine(4400, 1, 502, T1, '(codex)'),
        psLine(4500, 4100, 501, T1, 'node /Users/me/.npm-global/bin/codex'),
        psLine(4600, 4100, 501, T1, 'codex exec hello'),
        psLine(4700, 4100, 501, T1, 'codex'),
        psLine(4800, 4100, 501, T1, 'codex resume'),
        psLine(4900, 4100, 501, T1, 'vim /Users/me/dotfiles/codex/history.jsonl'),
        '',
      ].join('\n'),
    )
    const apple = 'executable_path=/opt/homebrew/bin/codex ptr_munge= main_stack='
    f.put(
      'ps-env',
      [
        envLine(4242, T1, `${launcher} TERM=xterm-256color HOME=${m.home} SHELL=/bin/zsh`),
        envLine(4243, T1, `${native} HOME=${m.home} CODEX_MANAGED_BY_NPM=1 ${apple}`),
        envLine(4300, T1, `codex HOME=${m.home} CODEX_HOME=${m.elsewhere} ${apple}`),
        envLine(4400, T1, '(codex)'),
        envLine(4600, T1, `codex exec hello HOME=${m.elsewhere}`),
        envLine(4700, T1, vis(`codex HOME=${accented.home} LANG=pl_PL.UTF-8`)),
        envLine(4800, T1, `codex resume HOME=${m.home}`),
        '',
      ].join('\n'),
      1,
    )
    // 4500 exited meanwhile; 4800's pid now names a newer process
    f.put('ps-after', [4242, 4243, 4300, 4400, 4600, 4700].map((pid) => envLine(pid, T1, '')).concat(envLine(4800, T3, ''), '').join('\n'), 1)
    f.put(
      'lsof',
      [
        'p4242', 'fcwd', `n${root}`, 'ftxt', 'n/opt/homebrew/Cellar/node/20.19.0/bin/node', 'f0', 'n/dev/ttys003',
        'p4243', 'fcwd', `n${root}`, 'ftxt', 'n/Users/me/.npm-global/lib/node_modules/@openai/codex/node_modules/@openai/codex-darwin-arm64/vendor/aarch64-apple-darwin/codex/codex',
        'f0', 'npipe', 'f11', `n${path.join(m.repoCodex, 'state_5.sqlite')}`, 'f12', `n${path.join(m.repoCodex, 'history.jsonl')}`,
        'p4300', 'fcwd', `n${m.elsewhere}`, 'ftxt', 'n/opt/homebrew/Caskroom/codex/0.141.0/codex-aarch64-apple-darwin', 'f5', `n${path.join(m.elsewhere, 'state_5.sqlite')}`,
        'p4600', 'fcwd', 'ncwd|rtd info error: Operation not permitted', 'fNOFD', 'nFD info error: Operation not permitted',
        'p4700', 'fcwd', `n${root.replace(/ó/g, '\\xc3\\xb3')}`, 'f3', `n${path.join(accented.repoCodex, 'auth.json')}`,
        'p4800', 'fcwd', 'n/',
        '',
      ].join('\n'),
      1,
    )

    const scan = await findLiveCodex([m.codexHome, accented.repoCodex], {table: f.table(), selfPid: 99999, uid: 501, platform: 'darwin'})
    expect(scan.blind).toBeNull()
    expect(scan.live.map((c) => [c.pid, c.role, c.codexHomeReal])).toEqual([
      [4242, 'launcher', m.repoCodex],
      [4243, 'native', m.repoCodex],
      [4700, 'native', accented.repoCodex],
    ])
    expect(scan.live[1]!.holds).toEqual([path.join(m.repoCodex, 'history.jsonl'), path.join(m.repoCodex, 'state_5.sqlite')])
    expect(scan.live[2]!.codexHome).toBe(path.join(accented.home, '.codex'))
    expect(scan.uninspectable.map((u) => [u.pid, u.command])).toEqual([
      [4400, '(codex)'],
      [4600, 'codex exec hello'],
    ])
    expect(scan.uninspectable[0]!.why).toMatch(/could not read its environment .*lsof could not inspect it \(permission denied/)
    expect(scan.uninspectable[1]!.why).toMatch(/could not read its open files.*FD info error: Operation not permitted/)
    expect(raceVerdict(scan, true)).toBe('live')

    // flags as the real tools take them: field output, no name or port lookups, one lsof for every candidate
    const candidates = '4242,4243,4300,4400,4500,4600,4700,4800'
    expect(f.calls('lsof')).toEqual([`-w -n -P -F pfn -p ${candidates}`])
    expect(f.calls('ps')).toEqual(['-axww -o pid=,ppid=,uid=,lstart=,args=', `-ww -E -o pid=,lstart=,args= -p ${candidates}`, `-ww -o pid=,lstart= -p ${candidates}`])
  })

  it('without ps, or with a failing one, the table is blind; without lsof, a Codex is uninspectable', async () => {
    const root = tempRoot()
    const m = machine(root)
    const f = fakeTools(root)
    const missing = await findLiveCodex([m.repoCodex], {table: f.table({ps: path.join(root, 'no-such-ps')}), selfPid: 1, uid: 501})
    expect(missing.blind).toMatch(/cannot run .*no-such-ps: ENOENT/)
    expect(raceVerdict(missing, false)).toBe('unsure')

    f.put('ps-list', '', 1)
    const failing = await findLiveCodex([m.repoCodex], {table: f.table(), selfPid: 1, uid: 501})
    expect(failing.blind).toMatch(/ps failed: exit 1/)

    f.put('ps-list', psLine(4300, 1, 501, T1, 'codex') + '\n')
    f.put('ps-env', envLine(4300, T1, `codex HOME=${m.home}`) + '\n')
    f.put('ps-after', envLine(4300, T1, '') + '\n')
    const noLsof = await findLiveCodex([m.codexHome], {table: f.table({lsof: path.join(root, 'no-such-lsof')}), selfPid: 1, uid: 501})
    // its environment alone convicts it
    expect(noLsof.live.map((c) => c.pid)).toEqual([4300])
    const elsewhere = await findLiveCodex([m.elsewhere + '-not-it'], {table: f.table({lsof: path.join(root, 'no-such-lsof')}), selfPid: 1, uid: 501})
    expect(elsewhere.uninspectable.map((u) => u.why)).toEqual([expect.stringMatching(/cannot list its open files: cannot run .*no-such-lsof/)])

    // the check after the closer look fails: that proves nothing left, so nothing is skipped as gone
    f.put('lsof', `p4300\nfcwd\nn${root}\n`)
    f.put('ps-after', '', 2)
    const unchecked = await findLiveCodex([m.codexHome], {table: f.table(), selfPid: 1, uid: 501})
    expect(unchecked.live.map((c) => c.pid)).toEqual([4300])
    const looked = await f.table().look(parsePsList(psLine(4300, 1, 501, T1, 'codex')))
    expect(looked.get(4300)).toMatchObject({state: 'read', look: {problems: [expect.stringMatching(/cannot tell whether it is still the same process: ps failed: exit 2/)]}})
  })
})
