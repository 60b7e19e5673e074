/** Small disk primitives the steps are made of; none of them overwrites or deletes anything the user owns. */
import {createHash} from 'node:crypto'
import {chmod, lstat, open, readlink, rename, stat, symlink, unlink, utimes} from 'node:fs/promises'
import path from 'node:path'

import {run} from '../process.js'
import {errnoCode, lstatOrNull, sha256File} from './fingerprint.js'

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

/** Gives `to` the exact times of `from`: utimes keeps microseconds, `touch -r` the nanoseconds when they matter. */
async function copyTimes(from: string, to: string, env: NodeJS.ProcessEnv): Promise<void> {
  const source = await stat(from)
  await utimes(to, source.atimeMs / 1000, source.mtimeMs / 1000)
  const [a, b] = await Promise.all([stat(from, {bigint: true}), stat(to, {bigint: true})])
  if (a.mtimeNs !== b.mtimeNs) await run('touch', ['-r', from, to], {env, timeoutMs: 10_000})
}

/**
 * Copies a regular file to `tmp` (created, never overwritten), keeping mode and times, and
 * verifies it: same size and sha256 as the source, and the source did not change meanwhile.
 * The copy starts at 0600 so a secret is never readable by others, even for an instant.
 */
export async function copyFileVerified(from: string, tmp: string, env: NodeJS.ProcessEnv): Promise<{sha256: string; size: number}> {
  const before = await lstat(from)
  const hash = createHash('sha256')
  const source = await open(from, 'r')
  const target = await open(tmp, 'wx', 0o600)
  let size = 0
  try {
    const buffer = Buffer.allocUnsafe(1 << 20)
    for (;;) {
      const {bytesRead} = await source.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      await target.write(buffer, 0, bytesRead)
      size += bytesRead
    }
    await target.sync()
  } finally {
    await source.close()
    await target.close()
  }
  const sha256 = hash.digest('hex')
  await chmod(tmp, before.mode & 0o7777)
  await copyTimes(from, tmp, env)
  const after = await lstat(from)
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new Error(`${from} changed while it was being copied`)
  if (size !== before.size || (await sha256File(tmp)) !== sha256) throw new Error(`the copy of ${from} does not match it`)
  return {sha256, size}
}

/** Recreates a link (the link itself, never what it points to) at `tmp`. */
export async function copyLink(from: string, tmp: string): Promise<string> {
  const target = await readlink(from)
  await symlink(target, tmp)
  if ((await readlink(tmp)) !== target) throw new Error(`the copy of the link ${from} does not match it`)
  return target
}
