/**
 * The state folder: `runs/<runId>/journal.jsonl` and `runs/<runId>/backup/<absolute path>`.
 * A run folder is created only when the run's first step is about to change the disk, so a
 * `--fix` with nothing to do records nothing (SPEC rule 2).
 */
import {randomBytes} from 'node:crypto'
import {mkdir, readdir, readFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {VERSION} from '../version.js'
import {fsyncDir} from './disk.js'
import {errnoCode, lstatOrNull} from './fingerprint.js'
import {type JournalLine, JournalWriter, parseJournal, type RunHeader, type RunRecord, summarize} from './journal.js'
import type {Step, StepResult, StepState} from './steps.js'
import type {Action} from './types.js'
import {byCodePoint} from '../words.js'

export const JOURNAL = 'journal.jsonl'

export function runsDir(stateDir: string): string {
  return path.join(stateDir, 'runs')
}

/** `20261123T201500Z-1a2b`: sorts by time; a second run in the same second sorts after the ones `taken`. */
export function newRunId(now = new Date(), taken: readonly string[] = [], suffix = randomBytes(2).toString('hex')): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  const sameSecond = taken.filter((id) => id.startsWith(`${stamp}-`)).map((id) => Number.parseInt(id.slice(-4), 16))
  const last = Math.max(-1, ...sameSecond)
  const n = Number.parseInt(suffix, 16) > last ? Number.parseInt(suffix, 16) : Math.min(last + 1, 0xffff)
  return `${stamp}-${n.toString(16).padStart(4, '0')}`
}

export function isRunId(id: string): boolean {
  return /^\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(id)
}

/** Where `p` goes in a run's backup: the same absolute path under `backup/`, so a user finds their file. */
export function backupPathOf(runDir: string, p: string): string {
  return path.join(runDir, 'backup', path.resolve(p).replace(/^[/\\]+/, '').replace(/^([A-Za-z]):/, '$1'))
}

/** Every recorded run, oldest first (by start time, then id). Reads only: a missing state folder is no runs. */
export async function listRuns(stateDir: string): Promise<RunRecord[]> {
  let names: string[]
  try {
    names = await readdir(runsDir(stateDir))
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return []
    throw error
  }
  const runs: RunRecord[] = []
  for (const name of names.filter(isRunId)) {
    const dir = path.join(runsDir(stateDir), name)
    let text: string
    try {
      text = await readFile(path.join(dir, JOURNAL), 'utf8')
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue
      throw error
    }
    const record = summarize(name, dir, parseJournal(text))
    if (record) runs.push(record)
  }
  return runs.sort((x, y) => byCodePoint(x.header.started, y.header.started) || byCodePoint(x.id, y.id))
}

/** A run killed before it could write its end line, and not undone since. */
export function isUnfinished(run: RunRecord): boolean {
  return run.end === undefined && run.undone === undefined
}

/** Appends to an existing run's journal (to settle or undo it). */
export async function appendToRun(run: RunRecord, lines: JournalLine[]): Promise<void> {
  const writer = await JournalWriter.open(path.join(run.dir, JOURNAL))
  try {
    for (const line of lines) await writer.write(line, {sync: true})
  } finally {
    await writer.close()
  }
}

/** The journal of the run being made; its folder appears with the first step. */
export class RunJournal {
  readonly id: string
  readonly dir: string
  resumes: string[] = []
  private writer: JournalWriter | undefined
  private recorded = false
  private n = 0
  private a = -1
  private actionLine: JournalLine | undefined
  private actionWritten = false
  private readonly backups = new Set<string>()

  constructor(readonly stateDir: string, id: string) {
    this.id = id
    this.dir = path.join(runsDir(stateDir), id)
  }

  /** A journal with an id that sorts after every run recorded (call it under the lock). */
  static async create(stateDir: string, now = new Date()): Promise<RunJournal> {
    let taken: string[] = []
    try {
      taken = await readdir(runsDir(stateDir))
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw error
    }
    return new RunJournal(stateDir, newRunId(now, taken))
  }

  /** True once the run folder exists: the run is recorded and can be undone. */
  get opened(): boolean {
    return this.recorded
  }

  async open(): Promise<void> {
    if (this.recorded) return
    await mkdir(this.dir, {recursive: true, mode: 0o700})
    this.writer = await JournalWriter.open(path.join(this.dir, JOURNAL))
    const header: RunHeader = {t: 'run', v: 1, runId: this.id, started: new Date().toISOString(), pid: process.pid, host: os.hostname(), version: VERSION}
    await this.writer.write(this.resumes.length > 0 ? {...header, resumes: this.resumes} : header, {sync: true})
    await fsyncDir(this.dir)
    this.recorded = true
  }

  /** The next steps belong to this action (written to the journal with its first step). */
  startAction(action: Action): void {
    this.a += 1
    const mode = 'mode' in action && action.mode !== undefined ? action.mode.toString(8) : undefined
    // the action's path and target only: notes, diffs and content stay out of the journal
    this.actionLine = {t: 'action', a: this.a, check: action.check, op: action.op, path: action.path, ...('to' in action ? {to: action.to} : {}), ...(mode ? {mode} : {})}
    this.actionWritten = false
  }

  async endAction(status: 'applied' | 'failed' | 'skipped', error?: string): Promise<void> {
    if (!this.actionWritten || !this.writer) return
    await this.writer.write({t: 'action-end', a: this.a, status, ...(error ? {error} : {})})
  }

  /** Records a step before it happens: on the disk (fsync) when this returns. */
  async begin(step: Step): Promise<number> {
    await this.open()
    if (!this.actionWritten && this.actionLine) {
      await this.writer!.write(this.actionLine)
      this.actionWritten = true
    }
    const n = this.n++
    await this.writer!.write({t: 'begin', n, a: this.a, step}, {sync: true})
    return n
  }

  /** Not synced: the next step's line (or the end line) syncs it, and a lost one is read back from the disk. */
  async done(n: number, result: StepResult = {}): Promise<void> {
    await this.writer!.write({t: 'done', n, ...result})
  }

  async settled(n: number, state: StepState, result: StepResult = {}): Promise<void> {
    await this.writer!.write({t: 'settled', n, state, by: this.id, ...result}, {sync: true})
  }

  /** A fresh place in this run's backup for `p` (the same path twice gets `.~1~`, `.~2~` and so on), its folder made. */
  async backupPathFor(p: string): Promise<string> {
    await this.open()
    const base = backupPathOf(this.dir, p)
    let candidate = base
    for (let i = 1; this.backups.has(candidate) || (await lstatOrNull(candidate)); i++) candidate = `${base}.~${i}~`
    this.backups.add(candidate)
    await mkdir(path.dirname(candidate), {recursive: true, mode: 0o700})
    return candidate
  }

  async close(status: 'complete' | 'interrupted' = 'complete'): Promise<void> {
    if (!this.writer) return
    await this.writer.write({t: 'end', at: new Date().toISOString(), status}, {sync: true})
    await this.writer.close()
    this.writer = undefined
  }
}
