/** The write probe's verdicts, cached per binary in `<cacheDir>/write-probe.json`: the one file a check run writes. */
import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

/** What identifies one build of Codex on disk: a reinstall changes the size or the mtime. */
export interface BinaryKey {
  realPath: string
  size: number
  mtimeMs: number
  version: string
}

export interface CachedVerdict {
  size: number
  mtimeMs: number
  version: string
  status: 'pass' | 'fail'
  summary: string
  probedAt: string
}

export interface ProbeCache {
  schemaVersion: 1
  /** Keyed by the binary's real path. */
  binaries: Record<string, CachedVerdict>
}

export const CACHE_FILE = 'write-probe.json'

export const emptyCache = (): ProbeCache => ({schemaVersion: 1, binaries: {}})

/** The cached verdict for exactly this binary, or null when it was never probed or has changed since. */
export function lookup(cache: ProbeCache, key: BinaryKey): CachedVerdict | null {
  const entry = cache.binaries[key.realPath]
  if (!entry) return null
  return entry.size === key.size && entry.mtimeMs === key.mtimeMs && entry.version === key.version ? entry : null
}

export function remember(cache: ProbeCache, key: BinaryKey, verdict: Pick<CachedVerdict, 'status' | 'summary' | 'probedAt'>): ProbeCache {
  const {realPath, ...identity} = key
  return {...cache, binaries: {...cache.binaries, [realPath]: {...identity, ...verdict}}}
}

function isVerdict(value: unknown): value is CachedVerdict {
  const v = value as Partial<CachedVerdict> | null
  return (
    typeof v === 'object' && v !== null && typeof v.size === 'number' && typeof v.mtimeMs === 'number' && typeof v.version === 'string'
    && (v.status === 'pass' || v.status === 'fail') && typeof v.summary === 'string' && typeof v.probedAt === 'string'
  )
}

/** Reads the cache; anything unreadable or malformed counts as empty (the probe just runs again). */
export function parseCache(text: string): ProbeCache {
  try {
    const data = JSON.parse(text) as {schemaVersion?: unknown; binaries?: unknown}
    if (data.schemaVersion !== 1 || typeof data.binaries !== 'object' || data.binaries === null) return emptyCache()
    const binaries: Record<string, CachedVerdict> = {}
    for (const [realPath, entry] of Object.entries(data.binaries)) if (isVerdict(entry)) binaries[realPath] = entry
    return {schemaVersion: 1, binaries}
  } catch {
    return emptyCache()
  }
}

export async function readCache(cacheDir: string): Promise<ProbeCache> {
  try {
    return parseCache(await readFile(path.join(cacheDir, CACHE_FILE), 'utf8'))
  } catch {
    return emptyCache()
  }
}

/** Writes the cache by atomic rename (two runs at once never leave half a file); returns the error instead of throwing. */
export async function writeCache(cacheDir: string, cache: ProbeCache): Promise<string | null> {
  const file = path.join(cacheDir, CACHE_FILE)
  const temp = `${file}.${process.pid}.tmp`
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
