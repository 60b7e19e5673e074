/**
 * fs/promises' reads, done at once on the main thread. What a check reads is a few dozen lstat,
 * readlink, realpath, readdir and small files; through libuv's thread pool each costs a thread's
 * wake-up and a trip back, far more than the call itself (a healthy run spent 2.5 to 5 ms of its
 * 60 on them). These keep fs/promises' shape, a promise that rejects with the same error, so a
 * check reads as it did; the call is simply over when the promise is made.
 *
 * The price is the one locate's synchronous calls pay (DEVELOPERS.md): a call that hangs (a dead
 * network mount) hangs the run, where a check's time limit used to report it. Writes, and what
 * only --fix or the probe does, stay asynchronous.
 */
import {accessSync, closeSync, constants, type Dirent, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, type Stats, statSync} from 'node:fs'

export function readFile(file: string): Promise<Buffer>
export function readFile(file: string, encoding: 'utf8'): Promise<string>
export async function readFile(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  // only a regular file is read at once: opening a FIFO can block for good, reading a device too.
  // Anything else that exists goes through the thread pool, where the check's time limit still
  // reports a hang. The stat keeps a FIFO from being opened here at all; the non-blocking open and
  // its fstat catch a file that became one in between. A missing file: the open's ENOENT
  const later = async () => {
    const {readFile: readFileLater} = await import('node:fs/promises')
    return encoding ? readFileLater(file, encoding) : readFileLater(file)
  }
  const st = statSync(file, {throwIfNoEntry: false})
  if (st && !st.isFile()) return later()
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  try {
    if (!fstatSync(fd).isFile()) return later()
    return encoding ? readFileSync(fd, encoding) : readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function readdir(dir: string): Promise<string[]>
export function readdir(dir: string, options: {withFileTypes: true}): Promise<Dirent[]>
export async function readdir(dir: string, options?: {withFileTypes: true}): Promise<string[] | Dirent[]> {
  return options ? readdirSync(dir, options) : readdirSync(dir)
}

/** realpath(3), as fs/promises' realpath is. */
export async function realpath(p: string): Promise<string> {
  return realpathSync.native(p)
}

export async function lstat(p: string): Promise<Stats> {
  return lstatSync(p)
}

export async function stat(p: string): Promise<Stats> {
  return statSync(p)
}

export async function readlink(p: string): Promise<string> {
  return readlinkSync(p)
}

export async function access(p: string, mode?: number): Promise<void> {
  accessSync(p, mode)
}
