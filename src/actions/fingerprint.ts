import {createHash} from 'node:crypto'
import {lstat, open, readdir, readlink} from 'node:fs/promises'
import path from 'node:path'

export type Kind = 'missing' | 'file' | 'dir' | 'link' | 'other'

/** What a path is, never following a link: enough to restore it and to notice it changed. No content, only a hash. */
export type Fingerprint =
  | {kind: 'missing'}
  | {kind: 'file'; mode: number; size: number; mtimeMs: number; sha256?: string}
  | {kind: 'dir'; mode: number}
  | {kind: 'link'; target: string}
  | {kind: 'other'; mode: number}

/** Every path under a folder (relative, `/`-separated) with its fingerprint: a moved folder's contents, for undo to check. */
export type Tree = Record<string, Fingerprint>

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

export async function lstatOrNull(p: string) {
  try {
    return await lstat(p)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return null
    throw error
  }
}

export async function sha256File(p: string): Promise<string> {
  const hash = createHash('sha256')
  const handle = await open(p, 'r')
  try {
    const buffer = Buffer.allocUnsafe(1 << 20)
    for (;;) {
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

export async function fingerprint(p: string, options: {hash?: boolean} = {}): Promise<Fingerprint> {
  const st = await lstatOrNull(p)
  if (!st) return {kind: 'missing'}
  const mode = st.mode & 0o7777
  if (st.isSymbolicLink()) return {kind: 'link', target: await readlink(p)}
  if (st.isDirectory()) return {kind: 'dir', mode}
  if (!st.isFile()) return {kind: 'other', mode}
  const file: Fingerprint = {kind: 'file', mode, size: st.size, mtimeMs: st.mtimeMs}
  return options.hash ? {...file, sha256: await sha256File(p)} : file
}

/** Lists a folder's whole contents without following links (size and time stand in for content: cheap for 20,000 sessions). */
export async function listTree(dir: string): Promise<Tree> {
  const tree: Tree = {}
  const walk = async (d: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const rel = prefix ? `${prefix}/${name}` : name
      const full = path.join(d, name)
      const fp = await fingerprint(full)
      tree[rel] = fp
      if (fp.kind === 'dir') await walk(full, rel)
    }
  }
  await walk(dir, '')
  return tree
}

/** What a user should check or restore: the expected state of a path, field by field (absent fields are not compared). */
export interface Expect {
  kind: Kind
  mode?: number
  size?: number
  mtimeMs?: number
  sha256?: string
  target?: string
  /** A folder whose every entry we know: anything else in it appeared after the run. */
  complete?: boolean
}

export function expectOf(fp: Fingerprint): Expect {
  return {...fp}
}

const octal = (mode: number) => mode.toString(8).padStart(3, '0')
const article = (kind: Kind) => ({missing: 'nothing', file: 'a file', dir: 'a folder', link: 'a link', other: 'a special file'})[kind]

/** Why `actual` is not what the run left (`expected`), in a user's words; null when it is. */
export function describeChange(expected: Expect, actual: Fingerprint): string | null {
  if (expected.kind !== actual.kind) {
    if (expected.kind === 'missing') return `${article(actual.kind)} is there now; the run left this place free`
    if (actual.kind === 'missing') return `is gone; the run left ${article(expected.kind)} here`
    return `is ${article(actual.kind)} now; the run left ${article(expected.kind)} here`
  }
  if (actual.kind === 'link' && expected.target !== undefined && actual.target !== expected.target) {
    return `points to ${actual.target} now; the run left it pointing to ${expected.target}`
  }
  if ('mode' in actual && expected.mode !== undefined && actual.mode !== expected.mode) {
    return `mode is ${octal(actual.mode)} now; the run left ${octal(expected.mode)}`
  }
  if (actual.kind === 'file') {
    if (expected.size !== undefined && actual.size !== expected.size) return `content changed since the run (size ${expected.size} → ${actual.size} bytes)`
    if (expected.sha256 !== undefined && actual.sha256 !== undefined && actual.sha256 !== expected.sha256) return 'content changed since the run'
    if (expected.mtimeMs !== undefined && actual.mtimeMs !== expected.mtimeMs) return 'modified since the run (its time changed)'
  }
  return null
}
