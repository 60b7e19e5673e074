/**
 * "Is every path still exactly as the run left it?" — the question undo asks before it changes
 * anything. The journal's steps are replayed (pure) into the state each path should be in now;
 * then the disk is compared with it.
 */
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {type Expect, expectOf, describeChange, type Fingerprint, fingerprint} from './fingerprint.js'
import {indexEntries, type Step} from './steps.js'

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

function strictlyInside(child: string, parent: string): boolean {
  return child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep)
}

/** What each path touched by these steps (in the order they happened) must be now. */
export function replay(steps: readonly {step: Step; after?: Fingerprint}[]): Expectations {
  const paths = new Map<string, Expect>()
  const untracked: Expectations['untracked'] = []
  const dropUnder = (dir: string) => {
    for (const key of paths.keys()) if (strictlyInside(key, dir)) paths.delete(key)
  }
  for (const {step, after} of steps) {
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
      case 'copy': {
        paths.set(step.from, MISSING)
        // without the copy's own record (a crash), its time may differ from the source's: compare the rest
        const {mtimeMs: _ignored, ...rest} = expectOf(step.item)
        paths.set(step.to, after ? expectOf(after) : rest)
        break
      }
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
    }
  }
  return {paths, untracked}
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))))
  return out
}

/** Every difference between the disk and the expectations; empty when undo may go ahead. */
export async function verify(expected: Expectations, env: NodeJS.ProcessEnv): Promise<Change[]> {
  const children = new Map<string, Set<string>>()
  // every mapped name is checked on its own; the rest of a complete folder must not exist
  for (const p of expected.paths.keys()) {
    const parent = path.dirname(p)
    if (!children.has(parent)) children.set(parent, new Set())
    children.get(parent)!.add(path.basename(p))
  }
  const perPath = await inBatches([...expected.paths], 64, async ([p, e]): Promise<Change[]> => {
    const why = describeChange(e, await fingerprint(p, {hash: e.sha256 !== undefined}))
    if (why) return [{path: p, change: why}]
    if (e.kind !== 'dir' || !e.complete) return []
    const known = children.get(p) ?? new Set<string>()
    return (await readdir(p)).filter((name) => !known.has(name)).sort().map((name) => ({path: path.join(p, name), change: 'appeared since the run'}))
  })
  const changes = perPath.flat()
  for (const u of expected.untracked) {
    if ((await indexEntries(u.repo, u.path, env)).length > 0) changes.push({path: u.path, change: 'is tracked by git again since the run'})
  }
  return changes.sort((x, y) => x.path.localeCompare(y.path))
}
