/**
 * What cannot change while a binary stays the same, remembered per binary identity in
 * `<cacheDir>/codex.json`: its `--version` answer and the write probe's verdict. A reinstall
 * changes the identity (path, size, mtime, inode of the file we run and, for npm's node
 * launcher, of the platform binary it starts): a changed binary is a miss, never a stale answer.
 */
import {readFileSync, realpathSync, statSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import path from 'node:path'

import {tryOr} from './chain.js'

export interface FileIdentity {
  path: string
  size: number
  mtimeMs: number
  ino: number
}

export interface BinaryIdentity {
  /** The file we run (links resolved). */
  bin: FileIdentity
  /** npm's launcher starts a native binary: that one's identity too. */
  platform: FileIdentity | null
}

export interface ProbeVerdict {
  status: 'pass' | 'fail'
  summary: string
  probedAt: string
}

export interface BinaryRecord {
  identity: BinaryIdentity
  version?: {version: string; rawVersion: string}
  probe?: ProbeVerdict
}

export interface BinaryCache {
  schemaVersion: 2
  /** Keyed by the real path of the file we run. */
  binaries: Record<string, BinaryRecord>
}

export const CACHE_FILE = 'codex.json'
export const emptyCache = (): BinaryCache => ({schemaVersion: 2, binaries: {}})

// identity and cache are read synchronously, as codex.ts finds Codex: a few microseconds each, where
// a trip through the thread pool waits for a main thread busy with the other checks
async function identityOf(file: string): Promise<FileIdentity | null> {
  try {
    const st = statSync(file)
    return st.isFile() ? {path: file, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino} : null
  } catch {
    return null
  }
}

const TRIPLES: Record<string, string> = {
  'linux-x64': 'x86_64-unknown-linux-musl',
  'linux-arm64': 'aarch64-unknown-linux-musl',
  'android-arm64': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64': 'x86_64-pc-windows-msvc',
  'win32-arm64': 'aarch64-pc-windows-msvc',
}

/** Where npm's codex.js finds its native binary: the package's own vendor/ (≤ 0.116) or its platform package's. */
export function platformBinaryCandidates(launcher: string, platform = process.platform, arch = process.arch): string[] {
  const triple = TRIPLES[`${platform}-${arch}`]
  if (!triple) return []
  const exe = platform === 'win32' ? 'codex.exe' : 'codex'
  // its own vendor/ first: releases that have one (≤ 0.89) know no platform package, and a hoisted
  // one may belong to another release; newer releases ship none and resolve their platform package
  const roots = [path.join(path.dirname(path.dirname(launcher)), 'vendor')]
  // none for an older release: everything is in its own vendor/
  const pkg = resolvePackageJson(launcher, `@openai/codex-${platform === 'android' ? 'linux' : platform}-${arch}`)
  if (pkg) roots.push(path.join(path.dirname(pkg), 'vendor'))
  return roots.flatMap((root) => [path.join(root, triple, 'bin', exe), path.join(root, triple, 'codex', exe)])
}

/**
 * Where codex.js's `require.resolve(`${name}/package.json`)` lands: the first node_modules folder
 * up from the launcher that holds the package, else Node's global folders (NODE_PATH included),
 * links resolved. Node's own resolver costs a process 1.4 ms the first time it runs, most of what
 * a cached run spends on the binary; a package with "exports", whose rules decide, is still left
 * to it. test/unit/codex.test.ts holds the two side by side.
 */
export function resolvePackageJson(launcher: string, name: string): string | null {
  const nodeResolve = () => tryOr(() => createRequire(launcher).resolve(`${name}/package.json`), null)
  const loader = Module as unknown as {_nodeModulePaths?: (from: string) => string[]; globalPaths?: string[]}
  if (typeof loader._nodeModulePaths !== 'function') return nodeResolve()
  for (const dir of [...loader._nodeModulePaths(path.dirname(launcher)), ...(loader.globalPaths ?? [])]) {
    const file = path.join(dir, name, 'package.json')
    if (!tryOr(() => statSync(file, {throwIfNoEntry: false})?.isFile(), false)) continue
    if (/"exports"\s*:/.test(tryOr(() => readFileSync(file, 'utf8'), '"exports":'))) return nodeResolve()
    return tryOr(() => realpathSync(file), null)
  }
  return null
}

/** The identity of the binary at `realPath`; null when it cannot be read (nothing is then cached). */
export async function binaryIdentity(realPath: string): Promise<BinaryIdentity | null> {
  const bin = await identityOf(realPath)
  if (!bin) return null
  let platform: FileIdentity | null = null
  if (/\.[cm]?js$/.test(realPath)) {
    for (const candidate of platformBinaryCandidates(realPath)) if ((platform = await identityOf(candidate))) break
  }
  return {bin, platform}
}

export function sameIdentity(a: BinaryIdentity, b: BinaryIdentity): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The record for exactly this binary, or null when it was never seen or has changed since. */
export function lookup(cache: BinaryCache, identity: BinaryIdentity): BinaryRecord | null {
  const record = cache.binaries[identity.bin.path]
  return record && sameIdentity(record.identity, identity) ? record : null
}

/** The cache with `patch` merged into this binary's record (a changed binary starts a fresh record). */
export function remember(cache: BinaryCache, identity: BinaryIdentity, patch: Partial<Omit<BinaryRecord, 'identity'>>): BinaryCache {
  const old = lookup(cache, identity)
  return {...cache, binaries: {...cache.binaries, [identity.bin.path]: {...(old ?? {}), ...patch, identity}}}
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isFile = (v: unknown): v is FileIdentity => isObject(v) && typeof v.path === 'string' && typeof v.size === 'number' && typeof v.mtimeMs === 'number' && typeof v.ino === 'number'

function isRecord(v: unknown): v is BinaryRecord {
  if (!isObject(v) || !isObject(v.identity) || !isFile(v.identity.bin) || !(v.identity.platform === null || isFile(v.identity.platform))) return false
  const version = v.version
  if (version !== undefined && !(isObject(version) && typeof version.version === 'string' && typeof version.rawVersion === 'string')) return false
  const probe = v.probe
  return probe === undefined || (isObject(probe) && (probe.status === 'pass' || probe.status === 'fail') && typeof probe.summary === 'string' && typeof probe.probedAt === 'string')
}

/** Reads the cache; anything unreadable or malformed counts as empty (the answers are just asked again). */
export function parseCache(text: string): BinaryCache {
  try {
    const data = JSON.parse(text) as {schemaVersion?: unknown; binaries?: unknown}
    if (data.schemaVersion !== 2 || !isObject(data.binaries)) return emptyCache()
    const binaries: Record<string, BinaryRecord> = {}
    for (const [key, record] of Object.entries(data.binaries)) if (isRecord(record) && record.identity.bin.path === key) binaries[key] = record
    return {schemaVersion: 2, binaries}
  } catch {
    return emptyCache()
  }
}

export async function readCache(cacheDir: string): Promise<BinaryCache> {
  try {
    return parseCache(readFileSync(path.join(cacheDir, CACHE_FILE), 'utf8'))
  } catch {
    return emptyCache()
  }
}

/** Writes the cache by atomic rename (two runs at once never leave half a file); returns the error instead of throwing. */
export async function writeCache(cacheDir: string, cache: BinaryCache): Promise<string | null> {
  const file = path.join(cacheDir, CACHE_FILE)
  const temp = `${file}.${process.pid}.tmp`
  // fs/promises only for a write: a cached run loads none of it
  const {mkdir, rename, rm, writeFile} = await import('node:fs/promises')
  try {
    await mkdir(cacheDir, {recursive: true})
    await writeFile(temp, JSON.stringify(cache, null, 2) + '\n')
    await rename(temp, file)
    return null
  } catch (error) {
    await rm(temp, {force: true}).catch(() => {})
    return (error as NodeJS.ErrnoException).code ?? String(error)
  }
}

/** The cache's read-modify-writes, one at a time in this process: the version and the probe verdict may land together. */
let writing: Promise<unknown> = Promise.resolve()

/** Re-reads the cache and merges `patch` in just before writing: another run may have remembered another binary meanwhile. */
export function rememberOnDisk(cacheDir: string, identity: BinaryIdentity, patch: Partial<Omit<BinaryRecord, 'identity'>>): Promise<string | null> {
  const done = writing.then(async () => writeCache(cacheDir, remember(await readCache(cacheDir), identity, patch)))
  writing = done.catch(() => undefined)
  return done
}
