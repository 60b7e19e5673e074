/**
 * Finding a live Codex with a real one running: `codex app-server` (stays up offline while its
 * stdin is open) in its own process group, with HOME, CODEX_HOME and XDG_* in a temp folder,
 * killed with its whole group afterwards.
 */
import {spawn, execFileSync, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {ancestors, codexHomeOf, codexRole, findLiveCodex, nodeScript, raceVerdict, scanLines, type LiveCodexScan} from '../../src/platform/live-codex.js'
import {psTable, type ProcessEntry} from '../../src/platform/processes.js'
import {CODEX, REPO_ROOT} from '../codex-bins.js'
import {killGroup, startAppServer as startCodexAppServer} from '../codex/app-server.js'

const temps: string[] = []
const groups: number[] = []

afterEach(async () => {
  for (const pid of groups.splice(0)) await killGroup(pid)
  for (const dir of temps.splice(0)) rmSync(dir, {recursive: true, force: true})
})

function tempRoot(): string {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-live-')))
  temps.push(root)
  return root
}

/** A machine in the old layout: `home/.codex` is a link to the repository's `codex` folder. */
function oldLayout() {
  const root = tempRoot()
  const home = path.join(root, 'home')
  const repoCodex = path.join(home, 'dotfiles', 'config', 'codex')
  mkdirSync(repoCodex, {recursive: true})
  writeFileSync(path.join(repoCodex, 'config.toml'), 'model = "gpt-5"\n')
  symlinkSync(repoCodex, path.join(home, '.codex'))
  return {root, home, repoCodex, codexHome: path.join(home, '.codex')}
}

function envFor(root: string, home: string, codexHome: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_STATE_HOME: path.join(root, 'state'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    XDG_CONFIG_HOME: path.join(root, 'config'),
  }
  if (codexHome !== undefined) env.CODEX_HOME = codexHome
  return env
}

/** Starts `codex app-server` (the shared helper), remembered for the kill after each test. */
async function startAppServer(env: NodeJS.ProcessEnv, cwd: string): Promise<ChildProcessWithoutNullStreams> {
  const child = await startCodexAppServer(CODEX.latest, env, cwd)
  groups.push(child.pid!)
  return child
}

describe.runIf(existsSync(CODEX.latest) || process.env.CI)('a real codex app-server', () => {
  it('CODEX_HOME is a link into the repository: found, with pid, command and the files it holds', async () => {
    const m = oldLayout()
    const child = await startAppServer(envFor(m.root, m.home, m.codexHome), m.root)
    const scan = await findLiveCodex([m.codexHome])
    const native = scan.live.find((c) => c.role === 'native')
    expect(native, JSON.stringify(scan)).toBeDefined()
    expect(native!.command).toMatch(/codex app-server$/)
    expect(native!.codexHome).toBe(m.codexHome)
    expect(native!.codexHomeReal).toBe(m.repoCodex)
    expect(native!.usesPaths).toBe(true)
    // the native binary keeps its sqlite state open, through the link, at the repository's real path
    expect(native!.holds.length).toBeGreaterThan(0)
    for (const file of native!.holds) expect(file.startsWith(m.repoCodex + path.sep)).toBe(true)
    // npm's launcher counts too (on Node without process.execve it stays as the native binary's parent)
    expect(scan.live.map((c) => c.pid)).toContain(child.pid)
    expect(scan.uninspectable.filter((u) => scan.live.some((c) => c.pid === u.pid))).toEqual([])
    expect(raceVerdict(scan, true)).toBe('live')
    const lines = scanLines(scan)
    expect(lines.join('\n')).toContain(`pid ${native!.pid}`)
    expect(lines.join('\n')).toMatch(/it holds .*\.sqlite/)

    // what --fix would move, named item by item (the repository's real paths): found by the files it holds
    // (a state database: it stays open, unlike the short-lived lock files)
    const items = native!.holds.filter((f) => /state_\d+\.sqlite$/.test(f))
    expect(items).toHaveLength(1)
    const byItem = await findLiveCodex(items)
    expect(byItem.live.find((c) => c.pid === native!.pid)?.holds).toEqual(items)
  })

  it('CODEX_HOME unset: HOME/.codex, a link into the repository, is found the same way', async () => {
    const m = oldLayout()
    const child = await startAppServer(envFor(m.root, m.home, undefined), m.root)
    const scan = await findLiveCodex([m.repoCodex])
    const found = scan.live.filter((c) => c.codexHome === m.codexHome)
    expect(found.map((c) => c.role).sort(), JSON.stringify(scan)).toContain('native')
    expect(found.map((c) => c.pid)).toContain(child.pid)
    expect(found.every((c) => c.codexHomeReal === m.repoCodex && c.usesPaths)).toBe(true)
  })

  it('a Codex with another CODEX_HOME is not found, nor is a non-Codex process holding a file there', async () => {
    const m = oldLayout()
    const elsewhere = path.join(m.root, 'elsewhere-codex')
    mkdirSync(elsewhere)
    const other = await startAppServer(envFor(m.root, path.join(m.root, 'other-home'), elsewhere), m.root)
    // not Codex: a node script with the repository's history open and CODEX_HOME pointing there
    const history = path.join(m.repoCodex, 'history.jsonl')
    writeFileSync(history, '{}\n')
    const holder = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(history)}, 'r'); console.log('ready'); setInterval(() => {}, 1000)`], {
      env: envFor(m.root, m.home, m.codexHome),
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    })
    groups.push(holder.pid!)
    await new Promise((resolve) => holder.stdout.once('data', resolve))

    const scan = await findLiveCodex([m.codexHome])
    expect(scan.live, JSON.stringify(scan.live)).toEqual([])
    expect(scan.uninspectable.map((u) => u.pid)).not.toContain(holder.pid)
    expect(scan.uninspectable.map((u) => u.pid)).not.toContain(other.pid)
    expect(scan.candidates).toBeGreaterThanOrEqual(1)
    expect(raceVerdict(scan, false)).toBe(scan.blind === null && scan.uninspectable.length === 0 ? 'clear' : 'unsure')
    // the other Codex is there, just elsewhere
    const scanElsewhere = await findLiveCodex([elsewhere])
    expect(scanElsewhere.live.map((c) => c.pid)).toContain(other.pid)
  })

  // lsof is not promised in CI; where it is, the macOS table runs on this machine's real ps and lsof output
  it.runIf(process.platform === 'linux' && onPath('lsof'))('the ps + lsof table on real tools: procps has no -E, so the open files alone convict it', async () => {
    const m = oldLayout()
    await startAppServer(envFor(m.root, m.home, m.codexHome), m.root)
    const scan = await findLiveCodex([m.codexHome], {table: psTable({ps: 'ps', lsof: 'lsof'})})
    const native = scan.live.find((c) => c.role === 'native')
    expect(native, JSON.stringify(scan)).toBeDefined()
    expect(native!.codexHome).toBeNull()
    expect(native!.holds.some((f) => /state_\d+\.sqlite$/.test(f))).toBe(true)
    // the launcher holds nothing there and its environment cannot be read this way: uninspectable, not safe
    const launcher = scan.uninspectable.find((u) => /codex\.js app-server$/.test(u.command ?? ''))
    expect(launcher?.why, JSON.stringify(scan)).toMatch(/could not read its environment/)
  })

  it.runIf(process.getuid?.() === 0)('another user cannot read a Codex of root: it is uninspectable, never safe', async () => {
    const m = oldLayout()
    const child = await startAppServer(envFor(m.root, m.home, m.codexHome), m.root)
    const script = compileForNobody(m.root)
    const out = execFileSync(process.execPath, [script, m.codexHome], {uid: 65534, gid: 65534, encoding: 'utf8', env: {PATH: process.env.PATH, HOME: '/nonexistent'}})
    const scan = JSON.parse(out) as LiveCodexScan
    const seen = scan.uninspectable.find((u) => u.pid === child.pid)
    expect(seen, out).toBeDefined()
    expect(seen!.command).toMatch(/codex\.js app-server$/)
    expect(seen!.why).toMatch(/permission denied/)
    expect(scan.live).toEqual([])
    expect(raceVerdict(scan, false)).toBe('unsure')
    expect(raceVerdict(scan, true)).toBe('overridden')
  })
})

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && existsSync(path.join(dir, name)))
}

/** Our modules compiled into `root` (by the project's own tsc), readable by nobody, with a script that prints a scan as JSON. */
function compileForNobody(root: string): string {
  const out = path.join(root, 'compiled')
  const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc')
  execFileSync(tsc, ['--ignoreConfig', '--outDir', out, '--rootDir', path.join(REPO_ROOT, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', path.join(REPO_ROOT, 'src', 'platform', 'live-codex.ts')], {cwd: REPO_ROOT})
  writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n')
  const script = path.join(out, 'scan.mjs')
  writeFileSync(script, `import {findLiveCodex} from './platform/live-codex.js'\nconsole.log(JSON.stringify(await findLiveCodex(process.argv.slice(2))))\n`)
  for (let dir = out; dir !== path.dirname(root); dir = path.dirname(dir)) if (existsSync(dir)) chmodSync(dir, 0o755)
  execFileSync('chmod', ['-R', 'a+rX', out])
  return script
}

describe('which processes are Codex', () => {
  const entry = (over: Partial<ProcessEntry>): ProcessEntry => ({pid: 10, ppid: 1, uid: 501, start: '1', name: null, argv: null, argvJoined: false, line: null, exe: null, unreadable: null, ...over})

  it.each([
    ['npm native binary', {exe: '/usr/lib/node_modules/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex', argv: ['/usr/lib/…/codex', 'app-server']}, 'native'],
    ['old npm layout, binary replaced by an upgrade', {exe: '/x/vendor/x86_64-unknown-linux-musl/codex/codex', argv: ['codex']}, 'native'],
    ['Homebrew cask binary', {exe: '/opt/homebrew/Caskroom/codex/0.141.0/codex-aarch64-apple-darwin', argv: ['codex']}, 'native'],
    ['Nix wrapper', {exe: '/nix/store/abc-codex-0.148.0/bin/.codex-wrapped', argv: ['/nix/store/abc-codex-0.148.0/bin/codex']}, 'native'],
    ['exe unreadable, kernel name', {name: 'codex', argv: ['codex', 'exec', 'hi']}, 'native'],
    ['macOS: only the kernel name', {name: 'codex-aarch64-ap'}, 'native'],
    ['npm launcher', {exe: '/usr/bin/node', argv: ['node', '/usr/lib/node_modules/@openai/codex/bin/codex.js', 'app-server']}, 'launcher'],
    ['npm launcher in an alias folder', {exe: '/usr/bin/node', argv: ['node', '/work/node_modules/codex-0.89/bin/codex.js']}, 'launcher'],
    ['npm bin link run through its shebang, with node options', {exe: '/home/u/.nvm/versions/node/v20.19.0/bin/node', argv: ['node', '--max-old-space-size=4096', '-r', 'x', '/home/u/.npm-global/bin/codex']}, 'launcher'],
    ['macOS launcher with a space in the path', {name: null, argv: ['node', '/Users/Jo', 'Doe/.npm/bin/codex.js', 'app-server'], argvJoined: true, line: 'node /Users/Jo Doe/.npm/bin/codex.js app-server'}, 'launcher'],
    ['codex-doctor itself', {exe: '/usr/bin/node', argv: ['node', '/usr/lib/node_modules/codex-doctor/bin/run.js', '--fix']}, null],
    ['node -e mentioning codex', {exe: '/usr/bin/node', argv: ['node', '-e', 'require("/x/bin/codex.js")']}, null],
    ['an editor on a file named codex', {exe: '/usr/bin/vim', name: 'vim', argv: ['vim', 'codex']}, null],
    ['codex-doctor binary name', {exe: '/usr/local/bin/codex-doctor', name: 'codex-doctor', argv: ['codex-doctor']}, null],
  ] as const)('%s', (_what, over, role) => {
    expect(codexRole(entry(over as Partial<ProcessEntry>))).toBe(role)
  })

  it('finds the script among node options', () => {
    expect(nodeScript(['node', '--inspect', '--import', 'tsx', 'app.js', 'codex.js'])).toBe('app.js')
    expect(nodeScript(['node', '--', 'codex.js'])).toBe('codex.js')
    expect(nodeScript(['node', '-p', '1'])).toBeNull()
  })

  it('computes CODEX_HOME as Codex does', () => {
    expect(codexHomeOf({CODEX_HOME: '/a/b/', HOME: '/h'}, '/cwd')).toBe('/a/b')
    expect(codexHomeOf({CODEX_HOME: 'rel', HOME: '/h'}, '/cwd')).toBe('/cwd/rel')
    expect(codexHomeOf({CODEX_HOME: '', HOME: '/h'}, '/cwd')).toBe('/h/.codex')
    expect(codexHomeOf({}, '/cwd', '/fallback')).toBe('/fallback/.codex')
    expect(codexHomeOf({}, '/cwd')).toBeNull()
    expect(codexHomeOf({CODEX_HOME: 'rel'}, null)).toBeNull()
  })

  it('walks the ancestors of codex-doctor (a Codex that started it is named as such)', () => {
    const chain = ancestors([{pid: 5, ppid: 4}, {pid: 4, ppid: 3}, {pid: 3, ppid: 1}, {pid: 1, ppid: 0}, {pid: 9, ppid: 1}], 5)
    expect([...chain]).toEqual([4, 3, 1])
  })
})

describe('the verdict for --fix', () => {
  const live = {pid: 7, role: 'native' as const, command: 'codex', uid: 1, codexHome: '/h/.codex', codexHomeReal: '/h/dotfiles/codex', usesPaths: true, holds: ['/h/dotfiles/codex/history.jsonl'], cwd: null, startedUs: true}
  const unsure = {pid: 8, command: '(codex)', uid: 2, why: 'permission denied'}

  it('a live Codex stops the fix even with --ignore-running-codex; an uninspectable one only without it', () => {
    expect(raceVerdict({live: [live], uninspectable: [unsure], blind: null}, true)).toBe('live')
    expect(raceVerdict({live: [], uninspectable: [unsure], blind: null}, false)).toBe('unsure')
    expect(raceVerdict({live: [], uninspectable: [unsure], blind: null}, true)).toBe('overridden')
    expect(raceVerdict({live: [], uninspectable: [], blind: 'hidepid'}, false)).toBe('unsure')
    expect(raceVerdict({live: [], uninspectable: [], blind: null}, false)).toBe('clear')
  })

  it('says what each process holds and what to do', () => {
    const lines = scanLines({live: [live], uninspectable: [unsure], blind: 'x'}, (p) => p.replace('/h', '~'))
    expect(lines[0]).toBe(
      'Codex is running: pid 7 (codex): its CODEX_HOME ~/.codex (~/dotfiles/codex) is what would move; it holds ~/dotfiles/codex/history.jsonl; this looks like the Codex session codex-doctor was started from: quit it and run codex-doctor from a plain terminal',
    )
    expect(lines[1]).toMatch(/^pid 8 \(\(codex\)\) may be Codex and could not be inspected: permission denied; .*--ignore-running-codex$/)
    expect(lines[2]).toMatch(/^not every process could be seen: x; .*--ignore-running-codex$/)
  })

  it('an OS without a process table is blind, not clear', async () => {
    const scan = await findLiveCodex(['/x'], {platform: 'win32'})
    expect(scan.blind).toMatch(/cannot list processes on win32/)
    expect(raceVerdict(scan, false)).toBe('unsure')
  })
})
