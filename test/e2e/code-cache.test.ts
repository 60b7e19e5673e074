/**
 * V8's code cache (src/code-cache.ts): trained by the build and by npm's postinstall, read by
 * every run, written by none. The tests work on a copy of the package (bin, dist/bundle) in the
 * temp folder, trained there by the Node that runs them (Node 20, and 24 in CI's second pass).
 */
import {spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {REPO_ROOT} from '../codex-bins.js'
import {makeSandbox, type Sandbox, snapshot} from '../sandbox.js'

interface Stats {
  used: number
  rejected: number
  missing: number
}

let pkg: string
let cacheDir: string
let s: Sandbox

/** bin/run.js's two lines, with the cache's own count of what it did printed last on stderr. */
const COUNTING_RUN = `
const path = require('node:path')
const [root, ...args] = process.argv.slice(1)
const codeCache = require(path.join(root, 'dist', 'bundle', 'code-cache.cjs'))
codeCache.useCodeCache(path.join(root, 'dist', 'bundle'))
process.on('exit', () => process.stderr.write('\\nSTATS ' + JSON.stringify(codeCache.codeCacheStats) + '\\n'))
require(path.join(root, 'dist', 'bundle', 'cli.cjs')).main(args, root)
`

function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}, nodeFlags: string[] = []): {status: number | null; stdout: string; stats: Stats} {
  const r = spawnSync(process.execPath, [...nodeFlags, '-e', COUNTING_RUN, pkg, ...args], {env: {...s.env, ...extraEnv}, cwd: s.home, encoding: 'utf8', timeout: 60_000})
  const line = r.stderr.split('\n').find((l) => l.startsWith('STATS '))
  if (!line) throw new Error(`no STATS line (exit ${r.status}):\n${r.stderr}`)
  return {status: r.status, stdout: r.stdout, stats: JSON.parse(line.slice(6)) as Stats}
}

/** Every file of every cache folder, with its bytes and times. */
const cacheState = () => snapshot(path.join(pkg, 'dist', 'bundle', 'code-cache'))

beforeAll(async () => {
  pkg = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-code-cache-'))
  // times kept: a cache is found by its source's size and mtime
  const copy = (rel: string) => cpSync(path.join(REPO_ROOT, rel), path.join(pkg, rel), {recursive: true, preserveTimestamps: true, filter: (src) => path.basename(src) !== 'code-cache'})
  for (const rel of ['bin', 'dist/bundle', 'package.json', '.oclif.manifest.json']) copy(rel)
  const {trainCodeCache} = createRequire(import.meta.url)(path.join(pkg, 'dist', 'bundle', 'code-cache.cjs')) as typeof import('../../src/code-cache.js')
  const trained = await trainCodeCache(pkg)
  if (!trained.ok) throw new Error(`training failed: ${trained.reason}`)
  cacheDir = trained.dir
  s = makeSandbox()
}, 120_000)

afterAll(() => {
  s?.cleanup()
  rmSync(pkg, {recursive: true, force: true})
})

describe('the code cache', () => {
  it('is trained for this Node, and a run takes every bundle file it loads from it', () => {
    expect(path.basename(cacheDir)).toBe(`${process.version}-${process.platform}-${process.arch}`)
    expect(readdirSync(cacheDir).some((f) => f.startsWith('cli.cjs-'))).toBe(true)
    const cached = run(['--no-probe'])
    const plain = run(['--no-probe'], {CODEX_DOCTOR_CODE_CACHE: 'off'})
    expect(cached.stats.used).toBeGreaterThanOrEqual(2)
    expect(cached.stats).toMatchObject({rejected: 0, missing: 0})
    // the same run, the same answer
    expect(plain.stats).toEqual({used: 0, rejected: 0, missing: 0})
    expect([cached.status, cached.stdout]).toEqual([plain.status, plain.stdout])
    expect(cached.stdout).toContain('✓ links')
  })

  it('steps aside under --enable-source-maps, whose maps V8 would not see in it', () => {
    const mapped = run(['--no-probe'], {}, ['--enable-source-maps'])
    const plain = run(['--no-probe'], {CODEX_DOCTOR_CODE_CACHE: 'off'})
    expect(mapped.stats).toEqual({used: 0, rejected: 0, missing: 0})
    expect([mapped.status, mapped.stdout]).toEqual([plain.status, plain.stdout])
  })

  it('is never written by a run: plain, --json, --fix --dry-run, --version, --help, checks', () => {
    const before = cacheState()
    for (const args of [['--no-probe'], ['--json', '--no-probe'], ['--fix', '--dry-run', '--no-probe'], ['--version'], ['--help'], ['checks']]) run(args)
    expect(cacheState()).toEqual(before)
  })

  it('is not used for a bundle file changed since the training, even one of the same size', () => {
    const cli = path.join(pkg, 'dist', 'bundle', 'cli.cjs')
    const original = readFileSync(cli, 'utf8')
    expect(original).toContain('`codex-doctor/${')
    try {
      // the same length: V8's own check (the source's length) would take the stale code
      writeFileSync(cli, original.replace('`codex-doctor/${', '`CODEX-DOCTOR/${'))
      const r = run(['--version'])
      expect(r.stdout).toMatch(/^CODEX-DOCTOR\//)
      expect(r.stats.missing).toBeGreaterThanOrEqual(1)
    } finally {
      writeFileSync(cli, original)
    }
  })

  it('that V8 refuses (another V8, damaged) costs only the time: the run is the same', () => {
    const files = readdirSync(cacheDir)
    const saved = files.map((f) => readFileSync(path.join(cacheDir, f)))
    try {
      files.forEach((f, i) => writeFileSync(path.join(cacheDir, f), Buffer.alloc(saved[i]!.length, 0x5a)))
      const damaged = run(['--no-probe'])
      const plain = run(['--no-probe'], {CODEX_DOCTOR_CODE_CACHE: 'off'})
      // doctor.cjs's (cli.cjs's may be stale by now: the test before rewrote the file, its mtime is new)
      expect(damaged.stats.rejected).toBeGreaterThanOrEqual(1)
      expect(damaged.stats.rejected + damaged.stats.missing).toBeGreaterThanOrEqual(2)
      expect(damaged.stats.used).toBe(0)
      expect([damaged.status, damaged.stdout]).toEqual([plain.status, plain.stdout])
    } finally {
      files.forEach((f, i) => writeFileSync(path.join(cacheDir, f), saved[i]!))
    }
  })
})
