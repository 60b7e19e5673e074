/**
 * "Is every path still exactly as the run left it?" — the question undo asks before it changes
 * anything. The journal's steps are replayed (pure) into the state each path should be in now;
 * then the disk is compared with it.
 */
import {readdirSync} from 'node:fs'
import path from 'node:path'

import {type Expect, expectOf, describeChange, fingerprintSync} from './fingerprint.js'
import {endsOf, type ItemResult} from './moves.js'
import {indexEntries, type Step, unknownStep} from './steps.js'
import {byCodePoint} from '../words.js'

export interface Change {
  path: string
  change: string
}

export interface Expectations {
  paths: Map<string, Expect>
  /** Paths a run removed from a repository's index: tracked again means changed. */
  untracked: {repo: string; path: string}[]
}

const MISSING: Expect = {kind: 'missing'}

/**
 * What each path touched by these steps (in the order they happened) must be now. A folder
 * moved or removed takes along what was expected inside it before (kept lazily: a path is
 * dropped at the end when a folder around it went after it was set).
 */
export function replay(steps: readonly {step: Step; items?: readonly ItemResult[]}[]): Expectations {
  const expected = new Map<string, Expect>()
  const setAt = new Map<string, number>()
  const goneAt = new Map<string, number>()
  const untracked: Expectations['untracked'] = []
  let now = 0
  const paths = {
    set(p: string, e: Expect) {
      expected.set(p, e)
      setAt.set(p, now)
    },
    get: (p: string) => expected.get(p),
  }
  const dropUnder = (dir: string) => goneAt.set(dir, now)
  for (const {step, items} of steps) {
    now += 1
    switch (step.op) {
      case 'rename':
        if (step.item.kind === 'dir') {
          dropUnder(step.from)
          dropUnder(step.to)
        }
        paths.set(step.from, MISSING)
        paths.set(step.to, step.tree ? {...expectOf(step.item), complete: true} : expectOf(step.item))
        for (const [rel, fp] of Object.entries(step.tree ?? {})) paths.set(path.join(step.to, ...rel.split('/')), fp.kind === 'dir' ? {...expectOf(fp), complete: true} : expectOf(fp))
        break
      case 'moves':
        step.items.forEach((item, i) => {
          const r = items?.[i]
          if (!r?.moved) return
          const ends = endsOf(step, item)
          paths.set(ends.from, MISSING)
          // what the destination really holds: a copy's times are its source's cut to the microsecond
          paths.set(ends.to, expectOf(r.after))
        })
        break
      case 'mkdir':
        paths.set(step.path, {kind: 'dir', mode: step.mode, complete: true})
        break
      case 'rmdir':
        dropUnder(step.path)
        paths.set(step.path, MISSING)
        break
      case 'symlink':
        paths.set(step.path, {kind: 'link', target: step.target})
        break
      case 'chmod': {
        const before = paths.get(step.path)
        paths.set(step.path, before && before.kind !== 'missing' ? {...before, mode: step.to} : {kind: step.kind, mode: step.to})
        break
      }
      case 'write':
        paths.set(step.path, {kind: 'file', sha256: step.sha256, size: step.size, mode: step.mode})
        if (step.backup) paths.set(step.backup, expectOf(step.old))
        break
      case 'untrack':
        untracked.push({repo: step.repo, path: step.path})
        break
      default:
        throw unknownStep(step)
    }
  }
  if (goneAt.size > 0) {
    for (const [p, at] of setAt) {
      // each folder around `p`, innermost first
      for (let cut = p.lastIndexOf(path.sep); cut > 0; cut = p.lastIndexOf(path.sep, cut - 1)) {
        if ((goneAt.get(p.slice(0, cut)) ?? 0) > at) {
          expected.delete(p)
          break
        }
      }
    }
  }
  return {paths: expected, untracked}
}

/**
 * Every difference between the disk and the expectations; empty when undo may go ahead. One
 * synchronous lstat a path: a migration's 20,000 session files are checked in a blink.
 */
export async function verify(expected: Expectations, env: NodeJS.ProcessEnv): Promise<Change[]> {
  const children = new Map<string, Set<string>>()
  // every mapped name is checked on its own; the rest of a complete folder must not exist
  for (const p of expected.paths.keys()) {
    const parent = path.dirname(p)
    if (!children.has(parent)) children.set(parent, new Set())
    children.get(parent)!.add(path.basename(p))
  }
  const changes: Change[] = []
  for (const [p, e] of expected.paths) {
    const why = describeChange(e, fingerprintSync(p, {hash: e.sha256 !== undefined}))
    if (why) {
      changes.push({path: p, change: why})
      continue
    }
    if (e.kind !== 'dir' || !e.complete) continue
    const known = children.get(p) ?? new Set<string>()
    for (const name of readdirSync(p).filter((n) => !known.has(n)).sort()) changes.push({path: path.join(p, name), change: 'appeared since the run'})
  }
  for (const u of expected.untracked) {
    if ((await indexEntries(u.repo, u.path, env)).length > 0) changes.push({path: u.path, change: 'is tracked by git again since the run'})
  }
  return changes.sort((x, y) => byCodePoint(x.path, y.path))
}
