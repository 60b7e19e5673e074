/** Small disk primitives the steps are made of; none of them overwrites or deletes anything the user owns. */
import {createHash} from 'node:crypto'
import {open, rename, unlink} from 'node:fs/promises'
import path from 'node:path'

import {errnoCode, lstatOrNull, utimesSeconds} from './fingerprint.js'

/** Raised when a step would overwrite something: the layer never replaces a path it did not plan for. */
export class InTheWay extends Error {
  code = 'EEXIST'
}

/** The hidden temp name next to `p` that a step of run `runId` writes first, so a crash leaves a recognisable leftover. */
export function tempNameFor(p: string, runId: string): string {
  return path.join(path.dirname(p), `.${path.basename(p)}.codex-doctor-${runId}.tmp`)
}

export async function exists(p: string): Promise<boolean> {
  return (await lstatOrNull(p)) !== null
}

/** rename(2) that refuses to replace an existing destination (rename would silently overwrite a file). */
export async function renameNoReplace(from: string, to: string): Promise<void> {
  if (await exists(to)) throw new InTheWay(`${to} already exists`)
  await rename(from, to)
}

/** Makes a rename or a new entry in `dir` durable before the next step relies on it. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (error) {
    // some file systems cannot fsync a folder; the rename is still atomic
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF'].includes(errnoCode(error) ?? '')) throw error
  } finally {
    await handle?.close()
  }
}

/** Removes a leftover of ours (a temp file); a missing one is fine. */
export async function removeTemp(p: string): Promise<void> {
  try {
    await unlink(p)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error
  }
}

/**
 * Copies a regular file to `tmp` (created, never overwritten), keeping its mode and its times to
 * the microsecond (what `utimes` keeps), verified: the bytes written are the bytes hashed, and the
 * source did not change meanwhile. The copy starts at 0600 so a secret is never readable by others.
 */
export async function copyFileVerified(from: string, tmp: string): Promise<{sha256: string; size: number}> {
  const hash = createHash('sha256')
  const source = await open(from, 'r')
  let size = 0
  try {
    const before = await source.stat({bigint: true})
    const target = await open(tmp, 'wx', 0o600)
    try {
      const buffer = Buffer.allocUnsafe(1 << 20)
      for (;;) {
        const {bytesRead} = await source.read(buffer, 0, buffer.length, null)
        if (bytesRead === 0) break
        hash.update(buffer.subarray(0, bytesRead))
        await target.write(buffer, 0, bytesRead)
        size += bytesRead
      }
      await target.utimes(utimesSeconds(before.atimeNs), utimesSeconds(before.mtimeNs))
      await target.chmod(Number(before.mode & 0o7777n))
      await target.datasync()
      if ((await target.stat()).size !== size) throw new Error(`the copy of ${from} does not match it`)
    } finally {
      await target.close()
    }
    const after = await source.stat({bigint: true})
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs || BigInt(size) !== before.size) {
      throw new Error(`${from} changed while it was being copied`)
    }
  } finally {
    await source.close()
  }
  return {sha256: hash.digest('hex'), size}
}
