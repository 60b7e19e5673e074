/** Applies plans through the real actions layer in a sandbox, and fingerprints a whole tree for "nothing lost". */
import {createHash} from 'node:crypto'
import {lstatSync, readdirSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import path from 'node:path'

import {JournaledSystem, type RealSystemOptions} from '../../src/actions/real-system.js'
import {RunJournal} from '../../src/actions/runs.js'
import {applyPlan} from '../../src/actions/system.js'
import type {Action} from '../../src/actions/types.js'
import {undoRun} from '../../src/actions/undo.js'
import {REPO_ROOT} from '../codex-bins.js'
import {type Sandbox, snapshot} from '../sandbox.js'

export const stateDirOf = (s: Sandbox) => path.join(s.env.XDG_STATE_HOME!, 'codex-doctor')

/** Tests that spawn the built code (dist/) check first that it was built from these sources. */
export function expectBuiltFromSources(): void {
  const newest = (dir: string) => Math.max(...readdirSync(dir).map((f) => statSync(path.join(dir, f)).mtimeMs))
  const built = Math.min(newest(path.join(REPO_ROOT, 'dist', 'actions')), statSync(path.join(REPO_ROOT, 'dist', 'engine', 'fix.js')).mtimeMs)
  const sources = Math.max(newest(path.join(REPO_ROOT, 'src', 'actions')), statSync(path.join(REPO_ROOT, 'src', 'engine', 'fix.ts')).mtimeMs)
  if (built < sources) throw new Error('dist/ is older than src/actions: run `npx tsc -p .` (npm test does) before these tests')
}

/** One run of `actions`, as --fix applies them (without the lock and the checks). `close: false` leaves it as a crash would. */
export async function apply(s: Sandbox, actions: Action[], options: Partial<RealSystemOptions> & {close?: boolean} = {}) {
  const journal = await RunJournal.create(stateDirOf(s))
  const reports = await applyPlan(new JournaledSystem(journal, {env: s.env, ...options}), actions)
  if (options.close !== false) await journal.close()
  return {runId: journal.opened ? journal.id : null, reports, runDir: journal.dir}
}

export const undo = (s: Sandbox, runId?: string) => undoRun(stateDirOf(s), {runId, env: s.env})

/** `snapshot` with file times cut to the microsecond: what a copy across file systems keeps. */
export const snapshotMicros = (dir: string): Record<string, string> => snapshot(dir, 'micros')

/** A sandbox's user-visible world: HOME without the repository's .git (its index is compared through git). */
export function world(s: Sandbox, snapshot: (dir: string) => Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot(s.home)).filter(([p]) => !p.split(path.sep).includes('.git')))
}

/**
 * sha256 of every regular file under `dir`, counted once per inode (a hard link is one file),
 * except codex-doctor's own journals: the multiset that "every byte is somewhere" compares.
 */
export function contentMultiset(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name)
      if (skip(full)) continue
      const st = lstatSync(full)
      if (st.isDirectory()) walk(full)
      else if (st.isSymbolicLink()) out.push(`link:${readlinkSync(full)}`)
      else if (st.isFile()) {
        const id = `${st.dev}:${st.ino}`
        if (seen.has(id)) continue
        seen.add(id)
        if (name !== 'journal.jsonl' && name !== 'lock') out.push(createHash('sha256').update(readFileSync(full)).digest('hex'))
      }
    }
  }
  walk(dir)
  return out.sort()
}

/** The old layout's migration as the codex-home check plans it: a real folder, the state moved in, the entries linked. */
export function migrationPlan(s: Sandbox): Action[] {
  const state = ['auth.json', 'history.jsonl', 'sessions', 'log', 'version.json']
  return [
    {check: 'codex-home', op: 'mkdir', path: s.codexHome},
    ...state.map((item): Action => ({check: 'codex-home', op: 'move', path: path.join(s.codexDir, item), to: path.join(s.codexHome, item)})),
    ...['config.toml', 'prompts'].map((entry): Action => ({check: 'codex-home', op: 'link', path: path.join(s.codexHome, entry), to: path.join(s.codexDir, entry)})),
  ]
}
