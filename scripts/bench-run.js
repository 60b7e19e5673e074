#!/usr/bin/env node
// Wall time of a full `codex-doctor` run next to `node -e 0`, medians of N runs (not a test: figures only).
// Usage: npm run build && node scripts/bench-run.js [N]
import {spawnSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildOldLayout} from '../dist/demo/old-layout.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runJs = path.join(root, 'bin', 'run.js')
const codexBin = path.join(root, 'node_modules', 'codex-latest', 'bin', 'codex.js')
const n = Number(process.argv[2] ?? 15)

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function time(args, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, {env, encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0 && result.status !== 1) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

const machine = await buildOldLayout(process.env, 200)
try {
  // migrate once so the runs measure a healthy machine
  time([runJs, '--fix', '--codex-bin', codexBin], machine.env)
  const cases = [
    ['node -e 0', ['-e', '0']],
    ['codex-doctor --no-probe', [runJs, '--no-probe', '--codex-bin', codexBin]],
    ['codex-doctor (probe cached)', [runJs, '--codex-bin', codexBin]],
    ['codex-doctor --json (probe cached)', [runJs, '--json', '--codex-bin', codexBin]],
    ['codex-doctor checks', [runJs, 'checks']],
  ]
  time(cases[2][1], machine.env) // fills the probe cache
  console.log(`median of ${n} runs each, ${process.version}, ${path.basename(codexBin, '.js')} ${path.basename(path.dirname(path.dirname(codexBin)))}`)
  for (const [label, args] of cases) {
    const samples = Array.from({length: n}, () => time(args, machine.env))
    console.log(`${label.padEnd(36)} ${median(samples).toFixed(0).padStart(5)} ms   (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)})`)
  }
  const {env} = machine
  rmSync(path.join(env.XDG_CACHE_HOME, 'codex-doctor'), {recursive: true, force: true})
  console.log(`${'codex-doctor (uncached probe)'.padEnd(36)} ${time([runJs, '--codex-bin', codexBin], env).toFixed(0).padStart(5)} ms   (one run)`)
} finally {
  rmSync(machine.root, {recursive: true, force: true})
}
