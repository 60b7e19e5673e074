/**
 * The journal of a run: one JSON object a line, appended, each step's line made durable
 * (fsync) before the step touches the disk. It holds paths, modes, link targets and hashes:
 * never a file's content (an edit's old text is a backup FILE; its new text only a hash).
 */
import {open} from 'node:fs/promises'
import type {FileHandle} from 'node:fs/promises'

import type {ActionOp} from './types.js'
import type {Fingerprint} from './fingerprint.js'
import type {ItemResult} from './moves.js'
import type {Step, StepState} from './steps.js'

export interface RunHeader {
  t: 'run'
  v: 1
  runId: string
  started: string
  pid: number
  host: string
  version: string
  /** Interrupted runs this run closed before doing its own work. */
  resumes?: string[]
}

export type JournalLine =
  | RunHeader
  | {t: 'action'; a: number; check: string; op: ActionOp; path: string; to?: string; mode?: string}
  | {t: 'begin'; n: number; a: number; step: Step}
  | {t: 'done'; n: number; after?: Fingerprint; items?: ItemResult[]}
  /** A step found begun but not done, read from the disk after a crash. */
  | {t: 'settled'; n: number; state: StepState; after?: Fingerprint; items?: ItemResult[]; by: string}
  /** Where a batch's items are now, when an interrupted undo moved some of them back. */
  | {t: 'items'; n: number; items: ItemResult[]}
  | {t: 'action-end'; a: number; status: 'applied' | 'failed' | 'skipped' | 'interrupted'; error?: string}
  | {t: 'end'; at: string; status: 'complete' | 'interrupted'; resumedBy?: string}
  | {t: 'undo-begin'; n: number}
  | {t: 'undo-done'; n: number}
  | {t: 'undone'; at: string; by?: string}

export interface StepRecord {
  n: number
  a: number
  step: Step
  /** begun: started, never marked done (a crash): only the disk can tell. */
  state: 'begun' | 'done' | 'not-done'
  after?: Fingerprint
  /** A batch of moves: where each item is. */
  items?: ItemResult[]
  undo: 'no' | 'begun' | 'done'
}

export interface ActionRecord {
  a: number
  check: string
  op: ActionOp
  path: string
  to?: string
  mode?: string
  status?: string
  error?: string
}

export interface RunRecord {
  id: string
  dir: string
  header: RunHeader
  actions: ActionRecord[]
  steps: StepRecord[]
  end?: {status: 'complete' | 'interrupted'; resumedBy?: string}
  undone?: string
}

/** Lines of a journal; a last line cut short by a crash is dropped (its step never started). */
export function parseJournal(text: string): JournalLine[] {
  const lines = text.split('\n')
  const out: JournalLine[] = []
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    try {
      out.push(JSON.parse(line) as JournalLine)
    } catch (error) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) throw new Error(`journal line ${i + 1} is not JSON`)
    }
  })
  return out
}

/** What a journal says happened: the pure reading of it. */
export function summarize(id: string, dir: string, lines: readonly JournalLine[]): RunRecord | null {
  const header = lines[0]
  if (header?.t !== 'run') return null
  const record: RunRecord = {id, dir, header, actions: [], steps: []}
  const steps = new Map<number, StepRecord>()
  const actions = new Map<number, ActionRecord>()
  for (const line of lines) {
    switch (line.t) {
      case 'action':
        actions.set(line.a, {a: line.a, check: line.check, op: line.op, path: line.path, to: line.to, mode: line.mode})
        break
      case 'begin':
        steps.set(line.n, {n: line.n, a: line.a, step: line.step, state: 'begun', undo: 'no'})
        break
      case 'done':
      case 'settled': {
        const step = steps.get(line.n)
        if (!step) break
        step.state = line.t === 'done' || line.state === 'after' ? 'done' : 'not-done'
        if (line.after) step.after = line.after
        if (line.items) step.items = line.items
        break
      }
      case 'items': {
        const step = steps.get(line.n)
        if (step) step.items = line.items
        break
      }
      case 'action-end': {
        const action = actions.get(line.a)
        if (action) Object.assign(action, {status: line.status, error: line.error})
        break
      }
      case 'end':
        record.end = {status: line.status, resumedBy: line.resumedBy}
        break
      case 'undo-begin':
      case 'undo-done': {
        const step = steps.get(line.n)
        if (step) step.undo = line.t === 'undo-begin' ? 'begun' : 'done'
        break
      }
      case 'undone':
        record.undone = line.at
        break
    }
  }
  record.steps = [...steps.values()].sort((x, y) => x.n - y.n)
  record.actions = [...actions.values()].sort((x, y) => x.a - y.a)
  return record
}

/** An open journal file; `sync` lines reach the disk before the call returns. */
export class JournalWriter {
  private constructor(private readonly handle: FileHandle) {}

  /**
   * Opens a journal to append to. A last line cut short by a kill (a long line is written in
   * more than one piece) is cut off first: the readers already ignore it as the last line, and a
   * line appended after it would make it a damaged line in the middle.
   */
  static async open(file: string): Promise<JournalWriter> {
    const handle = await open(file, 'a+', 0o600)
    try {
      await dropTornTail(handle)
    } catch (error) {
      await handle.close()
      throw error
    }
    return new JournalWriter(handle)
  }

  async write(line: JournalLine, options: {sync?: boolean} = {}): Promise<void> {
    await this.handle.write(JSON.stringify(line) + '\n')
    if (options.sync) await this.handle.datasync()
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

/** Truncates the file after its last newline when it does not end with one. */
async function dropTornTail(handle: FileHandle): Promise<void> {
  const {size} = await handle.stat()
  if (size === 0) return
  const chunk = Buffer.alloc(64 * 1024)
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length)
    const {bytesRead} = await handle.read(chunk, 0, end - start, start)
    const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a)
    if (end === size && newline === bytesRead - 1) return
    if (newline !== -1) return truncated(handle, start + newline + 1)
    end = start
  }
  return truncated(handle, 0)
}

async function truncated(handle: FileHandle, length: number): Promise<void> {
  await handle.truncate(length)
  await handle.datasync()
}
