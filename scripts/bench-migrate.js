#!/usr/bin/env node
// Migrates a machine whose repository holds N session files (default 20,000) and prints the times.
// A benchmark, not a test: it prints figures. Usage: npm run build && node scripts/bench-migrate.js [N]
import {spawnSync} from 'node:child_process'
import {readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildOldLayout} from '../dist/demo/old-layout.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const codexBin = path.join(root, 'node_modules', 'codex-latest', 'bin', 'codex.js')
const n = Number(process.argv[2] ?? 20_000)

function timed(label, args, env, ok = [0]) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [runJs, ...args], {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (!ok.includes(result.status)) throw new Error(`${label} exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
  console.log(`${label.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s`)
  return result
}

function countFiles(dir) {
  let count = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) count += entry.isDirectory() ? countFiles(path.join(dir, entry.name)) : 1
  return count
}

let started = process.hrtime.bigint()
const machine = await buildOldLayout(process.env, n)
console.log(`built the old layout with ${n} session files in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s (${machine.root})`)
try {
  const args = ['--no-probe', '--codex-bin', codexBin]
  timed('codex-doctor (checks, old layout: exit 1)', args, machine.env, [1])
  timed('codex-doctor --fix --dry-run (exit 1)', ['--fix', '--dry-run', ...args], machine.env, [1])
  timed('codex-doctor --fix (the migration)', ['--fix', ...args], machine.env)
  const moved = countFiles(path.join(machine.codexHome, 'sessions'))
  if (moved !== n) throw new Error(`expected ${n} session files in CODEX_HOME, found ${moved}`)
  timed('codex-doctor --fix again (nothing to do)', ['--fix', ...args], machine.env)
  timed('codex-doctor undo', ['undo'], machine.env)
  const back = countFiles(path.join(machine.codexDir, 'sessions'))
  if (back !== n) throw new Error(`expected ${n} session files back in the repository, found ${back}`)
  console.log(`all ${n} session files moved into CODEX_HOME and back`)
} finally {
  rmSync(machine.root, {recursive: true, force: true})
}
