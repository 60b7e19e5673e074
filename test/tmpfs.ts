/** A second, real file system for the tests that cross one: a tmpfs, which root can mount. */
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Mounts a tmpfs at `dir` (made if missing); null, or why it cannot (not root, no mount in this container). */
export function mountTmpfs(dir: string, size = '64m'): string | null {
  mkdirSync(dir, {recursive: true})
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], {stdio: 'pipe'})
    return null
  } catch (error) {
    rmdirSync(dir)
    return (error as {stderr?: Buffer}).stderr?.toString().trim() || String(error)
  }
}

let known: {why: string | null} | undefined

/** Why no tmpfs can be mounted here, or null when one can: tried once per test file, on a throwaway folder. */
export function whyNoTmpfs(): string | null {
  if (!known) {
    const probe = path.join(process.env.TMPDIR ?? os.tmpdir(), `codex-doctor-tmpfs-probe-${process.pid}`)
    const why = mountTmpfs(probe, '1m')
    if (why === null) {
      execFileSync('umount', [probe])
      rmdirSync(probe)
    }
    known = {why}
  }
  return known.why
}
