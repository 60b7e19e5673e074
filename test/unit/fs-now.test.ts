/**
 * src/fs-now.ts: fs/promises' reads done at once. Each answers what fs/promises answers (the same
 * value, or an error with the same code), and a FIFO is never opened on the main thread.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {constants, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import * as later from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'

import * as now from '../../src/fs-now.js'

const root = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-fs-now-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))
const at = (...p: string[]) => path.join(root, ...p)
mkdirSync(at('dir', 'sub'), {recursive: true})
writeFileSync(at('dir', 'file.txt'), 'héllo\n')
symlinkSync('dir/file.txt', at('link'))
symlinkSync('link', at('link2'))
symlinkSync('missing', at('dangling'))
writeFileSync(at('locked'), 'x', {mode: 0o000})

/** What a call gives: its value, or the code of its error. */
const outcome = async (p: Promise<unknown>) => p.then((value) => ({value}), (error: NodeJS.ErrnoException) => ({code: error.code}))

describe('fs-now', () => {
  it('answers as fs/promises does: values and error codes, through links, for what is missing or of the wrong kind', async () => {
    const paths = ['dir', 'dir/file.txt', 'dir/sub', 'link', 'link2', 'dangling', 'missing', 'dir/file.txt/below', 'locked'].map((p) => at(p))
    for (const p of paths) {
      expect(await outcome(now.readFile(p, 'utf8')), `readFile ${p}`).toEqual(await outcome(later.readFile(p, 'utf8')))
      expect(await outcome(now.readFile(p)), `readFile ${p} (bytes)`).toEqual(await outcome(later.readFile(p)))
      expect(await outcome(now.readdir(p)), `readdir ${p}`).toEqual(await outcome(later.readdir(p)))
      expect(await outcome(now.realpath(p)), `realpath ${p}`).toEqual(await outcome(later.realpath(p)))
      expect(await outcome(now.readlink(p)), `readlink ${p}`).toEqual(await outcome(later.readlink(p)))
      expect(await outcome(now.access(p, constants.W_OK)), `access ${p}`).toEqual(await outcome(later.access(p, constants.W_OK)))
      for (const call of ['lstat', 'stat'] as const) {
        const [a, b] = [await outcome(now[call](p)), await outcome(later[call](p))]
        expect('code' in a ? a : (a.value as {ino: number}).ino, `${call} ${p}`).toEqual('code' in b ? b : (b.value as {ino: number}).ino)
      }
    }
    const kinds = (entries: {name: string; isDirectory(): boolean; isSymbolicLink(): boolean}[]) => entries.map((e) => [e.name, e.isDirectory(), e.isSymbolicLink()]).sort()
    expect(kinds(await now.readdir(root, {withFileTypes: true}))).toEqual(kinds(await later.readdir(root, {withFileTypes: true})))
  })

  it('leaves a FIFO to the thread pool: the main thread goes on, and the read ends when a writer comes', () => {
    const fifo = at('fifo')
    execFileSync('mkfifo', [fifo])
    // in a process of its own (the build's dist/fs-now.js): an open of the FIFO on the main thread
    // would block it for good, and only a timeout from outside ends that
    const script = `
      const {openSync, writeSync, closeSync} = require('node:fs')
      import(${JSON.stringify(pathToFileURL(path.join(import.meta.dirname, '..', '..', 'dist', 'fs-now.js')).href)}).then(async ({readFile}) => {
        const read = readFile(${JSON.stringify(fifo)}, 'utf8')
        console.log(await Promise.race([read.then(() => 'read'), new Promise((resolve) => setTimeout(() => resolve('timer'), 50))]))
        const writer = openSync(${JSON.stringify(fifo)}, 'w')
        writeSync(writer, 'through the pipe')
        closeSync(writer)
        console.log(await read)
      })`
    const r = spawnSync(process.execPath, ['-e', script], {encoding: 'utf8', timeout: 10_000})
    expect([r.signal, r.stderr]).toEqual([null, ''])
    expect(r.stdout).toBe('timer\nthrough the pipe\n')
  })
})
