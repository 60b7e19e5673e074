#!/usr/bin/env node
/**
 * Every row of SPEC "Speed" (and issue 7's table), measured in one go: figures, not a test.
 *
 *   node scripts/bench.js [--rounds N] [--sessions N] [--only start|history|migrate]
 *
 * Start-up rows are ratios to a bare `node -e 0` measured in the same rounds: the rounds interleave
 * every command, so a busy moment of the machine weighs on all of them alike; each row prints its
 * median time over the rounds divided by the median of `node -e 0`. The migration rows are wall times of a real
 * `codex-doctor --fix` moving N session files (20,000) out of the repository, on one file system
 * and then with the repository on a tmpfs of its own (root only; else the forced copy path).
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildOldLayout} from '../dist/demo/old-layout.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const codexBin = path.join(root, 'node_modules', 'codex-latest', 'bin', 'codex.js')

const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? fallback : argv[i + 1]
}
// 21: on a VM whose neighbours come and go, a median of 11 moved by 0.3x from one run to the next
const rounds = Number(option('rounds', 21))
const sessions = Number(option('sessions', 20_000))
const only = option('only', null)
if (!(rounds >= 1 && sessions >= 1) || ![null, 'start', 'history', 'migrate'].includes(only)) {
  console.error('usage: node scripts/bench.js [--rounds N] [--sessions N] [--only start|history|migrate]')
  process.exit(2)
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9

/** Wall time of one command, in ms; its exit status must be one of `ok`. */
function time(args, env, ok = [0]) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const ms = seconds(started) * 1000
  if (!ok.includes(result.status)) throw new Error(`${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
  return ms
}

const rows = []
function row(what, value, target) {
  rows.push({what, value, target})
  console.log(`${what.padEnd(62)} ${value.padStart(16)}   target ${target}`)
}

/** A migrated, healthy machine: the old layout, then --fix. */
async function healthyMachine(n = 200) {
  const m = await buildOldLayout(process.env, n)
  time([runJs, '--fix', '--codex-bin', codexBin], m.env)
  return m
}

/** Interleaved rounds of the cases: the median time of each, and of `node -e 0` in the same rounds. */
function startRows(cases, env) {
  const samples = new Map(cases.map(([label]) => [label, {ms: []}]))
  const base = []
  for (let r = 0; r < rounds; r++) {
    base.push(time(['-e', '0'], env))
    for (const [label, run] of cases) samples.get(label).ms.push(run())
  }
  return {node: median(base), samples}
}

async function startUp() {
  // the build trained V8's code cache for its Node; another Node gets one as npm's postinstall makes it
  const codeCache = createRequire(import.meta.url)(path.join(root, 'dist', 'bundle', 'code-cache.cjs'))
  if (!existsSync(codeCache.codeCacheDirOf(path.join(root, 'dist', 'bundle')))) {
    const trained = await codeCache.trainCodeCache(root)
    console.log(trained.ok ? `\n(trained the code cache for Node ${process.version}, as npm's postinstall does)` : `\n(no code cache: ${trained.reason})`)
  }
  console.log(`\nStart-up: ${rounds} interleaved rounds on a migrated machine (200 sessions), ${path.basename(path.dirname(path.dirname(codexBin)))} (Codex 0.169.0)`)
  const m = await healthyMachine()
  const cache = path.join(m.env.XDG_CACHE_HOME, 'codex-doctor')
  const doctor = (extra = [], ok = [0], env = m.env) => () => time([runJs, ...extra, '--codex-bin', codexBin], env, ok)
  try {
    doctor()() // the probe verdict and the version, remembered
    const {node, samples} = startRows(
      [
        ['full run, probe verdict cached', doctor()],
        // as after `npm install --ignore-scripts`, or on a Node the postinstall did not train for
        ['the same without the code cache', doctor([], [0], {...m.env, CODEX_DOCTOR_CODE_CACHE: 'off'})],
        [
          'full run, nothing cached',
          () => {
            rmSync(cache, {recursive: true, force: true})
            return doctor()()
          },
        ],
        ['--help', () => time([runJs, '--help'], m.env)],
        ['--version', () => time([runJs, '--version'], m.env)],
        ['checks', () => time([runJs, 'checks'], m.env)],
      ],
      m.env,
    )
    console.log(`node -e 0: median ${node.toFixed(0)} ms`)
    const targets = {'full run, probe verdict cached': 2.5, 'the same without the code cache': null, 'full run, nothing cached': 4, '--help': 2, '--version': 2, checks: 2}
    for (const [label, s] of samples) row(label, `${(median(s.ms) / node).toFixed(2)}× (${median(s.ms).toFixed(0)} ms)`, targets[label] === null ? '(none: the install trains the cache)' : `≤ ${targets[label]}×`)
  } finally {
    rmSync(m.root, {recursive: true, force: true})
  }
}

/** 5,000 commits touching 2,000 files, written with git fast-import (seconds, not minutes). */
function bigHistory(dotfiles, env) {
  const lines = []
  const files = 2000
  for (let c = 1; c <= 5000; c++) {
    lines.push('commit refs/heads/main', `committer bench <bench@example.com> ${1_600_000_000 + c} +0000`, 'data 7', `commit${c % 10}`)
    if (c === 1) lines.push('from refs/heads/main^0')
    const f = c <= files ? c : 1 + (c % files)
    const body = `line ${c}\n`
    lines.push(`M 644 inline notes/n${String(f).padStart(4, '0')}.md`, `data ${Buffer.byteLength(body)}`, body)
  }
  execFileSync('git', ['-C', dotfiles, 'fast-import', '--quiet'], {input: lines.join('\n') + '\n', env})
  execFileSync('git', ['-C', dotfiles, 'reset', '-q', '--hard'], {env})
  const count = execFileSync('git', ['-C', dotfiles, 'rev-list', '--count', 'HEAD'], {env, encoding: 'utf8'}).trim()
  const tracked = execFileSync('git', ['-C', dotfiles, 'ls-files'], {env, encoding: 'utf8'}).trim().split('\n').length
  return {count, tracked}
}

async function history() {
  console.log(`\nHistory: a repository with 5,000 commits and 2,000 files next to a fresh one (2 commits), ${rounds} interleaved rounds`)
  const small = await healthyMachine()
  const big = await healthyMachine()
  try {
    // what --fix changed in the repository is committed first: the new history grows on top of it
    for (const m of [small, big]) execFileSync('git', ['-C', m.dotfiles, 'commit', '-q', '-am', 'migrated'], {env: m.env})
    const branch = execFileSync('git', ['-C', big.dotfiles, 'branch', '--show-current'], {env: big.env, encoding: 'utf8'}).trim()
    if (branch !== 'main') execFileSync('git', ['-C', big.dotfiles, 'branch', '-m', branch, 'main'], {env: big.env})
    const {count, tracked} = bigHistory(big.dotfiles, big.env)
    console.log(`  (${count} commits, ${tracked} tracked files)`)
    const run = (m) => () => time([runJs, '--codex-bin', codexBin], m.env)
    run(small)()
    run(big)()
    const a = []
    const b = []
    for (let r = 0; r < rounds; r++) {
      a.push(run(small)())
      b.push(run(big)())
    }
    row('5,000 commits and 2,000 files vs a fresh repository', `${(median(b) / median(a)).toFixed(2)}× (${median(b).toFixed(0)} vs ${median(a).toFixed(0)} ms)`, '≤ 1.3×')
  } finally {
    rmSync(small.root, {recursive: true, force: true})
    rmSync(big.root, {recursive: true, force: true})
  }
}

function countFiles(dir) {
  let count = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) count += entry.isDirectory() ? countFiles(path.join(dir, entry.name)) : 1
  return count
}

function expectCount(dir, what) {
  const found = countFiles(dir)
  if (found !== sessions) throw new Error(`expected ${sessions} session files ${what}, found ${found}`)
}

/** Puts the repository on a tmpfs of its own, at the same path; {mounted: false} when this process may not mount. */
function repositoryOnTmpfs(dotfiles) {
  const aside = `${dotfiles}.aside`
  renameSync(dotfiles, aside)
  mkdirSync(dotfiles)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2g', 'tmpfs', dotfiles], {stdio: 'pipe'})
  } catch (error) {
    rmSync(dotfiles, {recursive: true})
    renameSync(aside, dotfiles)
    return {mounted: false, why: error.stderr?.toString().trim() || String(error)}
  }
  cpSync(aside, dotfiles, {recursive: true, preserveTimestamps: true, verbatimSymlinks: true})
  rmSync(aside, {recursive: true})
  return {mounted: true}
}

async function migrate() {
  const args = ['--no-probe', '--codex-bin', codexBin]
  const fix = (env) => {
    const ms = time([runJs, '--fix', ...args], env)
    return ms / 1000
  }
  console.log(`\nMigration: --fix moving ${sessions.toLocaleString('en')} session files out of the repository (wall time, checks included)`)
  let m = await buildOldLayout(process.env, sessions)
  try {
    const s = fix(m.env)
    expectCount(path.join(m.codexHome, 'sessions'), 'in CODEX_HOME')
    row(`${sessions.toLocaleString('en')} sessions, one file system`, `${s.toFixed(2)} s`, '≤ 2 s')
    const u = time([runJs, 'undo'], m.env) / 1000
    expectCount(path.join(m.codexDir, 'sessions'), 'back in the repository')
    row('  its undo', `${u.toFixed(2)} s`, '(none)')
  } finally {
    rmSync(m.root, {recursive: true, force: true})
  }

  m = await buildOldLayout(process.env, sessions)
  const env = {...m.env}
  const tmpfs = repositoryOnTmpfs(m.dotfiles)
  if (!tmpfs.mounted) env.CODEX_DOCTOR_FORCE_COPY = '1'
  try {
    const s = fix(env)
    expectCount(path.join(m.codexHome, 'sessions'), 'in CODEX_HOME')
    row(`the same, the repository on ${tmpfs.mounted ? 'a tmpfs' : 'the forced copy path (no tmpfs)'}`, `${s.toFixed(2)} s`, '≤ 10 s')
    const u = time([runJs, 'undo'], env) / 1000
    expectCount(path.join(m.codexDir, 'sessions'), 'back in the repository')
    row('  its undo', `${u.toFixed(2)} s`, '(none)')
  } finally {
    if (tmpfs.mounted) execFileSync('umount', [m.dotfiles])
    rmSync(m.root, {recursive: true, force: true})
  }
}

console.log(`codex-doctor bench: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`)
if (!only || only === 'start') await startUp()
if (!only || only === 'history') await history()
if (!only || only === 'migrate') await migrate()
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 2))
