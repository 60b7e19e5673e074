/**
 * V8's code cache for the bundle. Parsing and compiling the code a run needs costs a healthy run
 * about 20 ms, a quarter of it (scripts/bench.js prints the run with and without): what V8 made of
 * each bundle file in a typical run is kept next to the bundle, and the next start deserializes
 * it instead (doctor.cjs: 2.5 ms for 400 kB).
 *
 * A cache is written only by a training run (trainCodeCache below: at the end of the build, and
 * by npm's postinstall), never by a user's run: SPEC allows a run to write nothing but the probe's
 * verdicts. It is made by the Node that reads it (a folder per Node version and platform), used
 * only for the exact size and mtime of the file it was made from, and V8 itself refuses data from
 * another V8 or other flags. Without a usable cache, files load as Node loads them.
 *
 *   CODEX_DOCTOR_CODE_CACHE=off     load without it (as node --enable-source-maps does)
 *   CODEX_DOCTOR_CODE_CACHE=write   (training) write what this run compiled, at exit
 */
import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import Module from 'node:module'
import path from 'node:path'
import vm from 'node:vm'

/** The folder of caches that this Node can use. */
export function codeCacheDirOf(bundleDir: string): string {
  return path.join(bundleDir, 'code-cache', `${process.version}-${process.platform}-${process.arch}`)
}

/** A bundle file's cache, named by what it was made from: another size or mtime finds none. */
function cacheFileOf(dir: string, bundleDir: string, filename: string): string {
  const st = statSync(filename)
  const name = path.relative(bundleDir, filename).split(path.sep).join('_')
  return path.join(dir, `${name}-${st.size}-${Math.trunc(st.mtimeMs)}.bin`)
}

/** What the cache did in this process (tests read it: a cache that is never used is no cache). */
export const codeCacheStats = {used: 0, rejected: 0, missing: 0}

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown

/**
 * From now on, the bundle's files (`bundleDir/**.cjs`) are compiled with their cache when there is
 * one; in training, every one of them is cached when the process exits.
 */
export function useCodeCache(bundleDir: string, mode = process.env.CODEX_DOCTOR_CODE_CACHE): void {
  // vm.Script registers no source map: with --enable-source-maps, files load as Node loads them
  if (mode === 'off' || (process.sourceMapsEnabled && mode !== 'write')) return
  const training = mode === 'write'
  const dir = codeCacheDirOf(bundleDir)
  if (!training && !existsSync(dir)) return
  const compiled: {script: vm.Script; file: string}[] = []
  const proto = Module.prototype as unknown as {_compile: Compile}
  const compile = proto._compile
  proto._compile = function (content, filename, ...rest) {
    if (!filename.startsWith(bundleDir + path.sep) || !filename.endsWith('.cjs')) return compile.call(this, content, filename, ...rest)
    let file: string | undefined
    let cachedData: Buffer | undefined
    try {
      file = cacheFileOf(dir, bundleDir, filename)
      if (!training) cachedData = readFileSync(file)
    } catch {
      codeCacheStats.missing++
    }
    // Module.wrap: the same function Node makes of a CommonJS file (its lines stay where they were)
    const script = new vm.Script(Module.wrap(content), {filename, cachedData})
    if (cachedData) codeCacheStats[script.cachedDataRejected ? 'rejected' : 'used']++
    if (training && file) compiled.push({script, file})
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown
    return wrapper.call(this.exports, this.exports, Module.createRequire(filename), this, filename, path.dirname(filename))
  }
  if (training) {
    // at exit: by then the cache holds every function the run compiled, not only the top level
    process.once('exit', () => {
      mkdirSync(dir, {recursive: true})
      for (const {script, file} of compiled) {
        writeFileSync(`${file}.tmp`, script.createCachedData())
        renameSync(`${file}.tmp`, file)
      }
    })
  }
}

/**
 * A stand-in for Codex in the training: it names its version, and `mcp add NAME` appends the
 * server to $CODEX_HOME/config.toml through the probe's link chain, as Codex ≥ 0.89 writes it:
 * the probe passes, its verdict is cached, and the training run takes the path most runs take.
 */
const STAND_IN_CODEX = `#!/bin/sh
case "$1" in
  --version) echo "codex-cli 0.169.0" ;;
  mcp) printf '\\n[mcp_servers.%s]\\ncommand = "/bin/true"\\n' "$3" >> "$CODEX_HOME/config.toml" ;;
esac
exit 0
`

/**
 * The training run. It works on a throwaway machine in the temp folder: the demo's old layout,
 * and a stand-in `codex` (a shell script that only names its version). The layout is migrated
 * with --fix, a run computes the probe verdict, and the training run is then a plain check of
 * that healthy machine with the verdict cached: what most runs are.
 *
 * It never fails an install: without git, on Windows, on any error there is no cache (the reason
 * comes back), and codex-doctor loads as Node loads it.
 */
export async function trainCodeCache(packageRoot: string): Promise<{ok: true; dir: string} | {ok: false; reason: string}> {
  if (process.platform === 'win32') return {ok: false, reason: 'no training on Windows'}
  const dir = codeCacheDirOf(path.join(packageRoot, 'dist', 'bundle'))
  rmSync(dir, {recursive: true, force: true})
  // loaded here only: a run loads this module's top, before anything else
  const [{spawnSync}, {buildOldLayout}] = await Promise.all([import('node:child_process'), import('./demo/old-layout.js')])
  let machine
  try {
    machine = await buildOldLayout(process.env, 3)
  } catch (error) {
    return {ok: false, reason: `no training machine: ${(error as Error).message}`}
  }
  try {
    const codex = path.join(machine.root, 'codex-stand-in')
    writeFileSync(codex, STAND_IN_CODEX)
    chmodSync(codex, 0o755)
    const runJs = path.join(packageRoot, 'bin', 'run.js')
    const steps: [string[], string][] = [
      [['--fix'], 'off'],
      [[], 'off'],
      [[], 'write'],
    ]
    for (const [args, cache] of steps) {
      const env = {...machine.env, CODEX_DOCTOR_CODE_CACHE: cache}
      const r = spawnSync(process.execPath, [runJs, ...args, '--codex-bin', codex], {cwd: machine.home, env, encoding: 'utf8', timeout: 60_000})
      // a check may fail (the stand-in is no Codex); a crash or a usage error is a broken training
      if (r.status !== 0 && r.status !== 1) return {ok: false, reason: `codex-doctor ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n')[0]}`}
    }
    return existsSync(dir) ? {ok: true, dir} : {ok: false, reason: 'the training run wrote no cache'}
  } finally {
    rmSync(machine.root, {recursive: true, force: true})
  }
}
