/** After a crash inside a step, the disk tells whether it happened; our leftovers go, the user's bytes never do. */
import {existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {tempNameFor} from '../../src/actions/disk.js'
import type {Fingerprint} from '../../src/actions/fingerprint.js'
import {type ItemResult, type MovesStep, settleMoves} from '../../src/actions/moves.js'
import {classifyStep, settleBatch, type Step, type StepIO} from '../../src/actions/steps.js'

let roots: string[] = []
afterEach(() => {
  for (const r of roots) rmSync(r, {recursive: true, force: true})
  roots = []
})
const dir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-steps-'))
  roots.push(d)
  return d
}
const io: StepIO = {env: process.env, checkpoint() {}}

describe('a batch of moves, interrupted (each item read from the disk)', () => {
  const file = (size: number): Fingerprint => ({kind: 'file', mode: 0o644, size, mtimeMs: 0})
  /** A batch moving `a`, `b`, `c` from `src/` to `dst/` (another file system, as far as the batch knows). */
  const batch = (d: string): MovesStep => {
    mkdirSync(path.join(d, 'src'))
    mkdirSync(path.join(d, 'dst'))
    return {op: 'moves', from: path.join(d, 'src'), to: path.join(d, 'dst'), tag: 'R', copy: true, items: ['a', 'b', 'c'].map((name) => ({path: name, item: file(3)}))}
  }
  const at = (step: MovesStep, end: 'from' | 'to', name: string) => path.join(end === 'from' ? step.from : step.to, name)

  it('while copying: the partial copy goes, the source stays: not moved', () => {
    const step = batch(dir())
    writeFileSync(at(step, 'from', 'a'), 'abc')
    writeFileSync(tempNameFor(at(step, 'to', 'a'), 'R'), 'a')
    const [a] = settleMoves({...step, items: step.items.slice(0, 1)})
    expect(a).toMatchObject({moved: false})
    expect(existsSync(tempNameFor(at(step, 'to', 'a'), 'R'))).toBe(false)
    expect(readFileSync(at(step, 'from', 'a'), 'utf8')).toBe('abc')
  })

  it('a kill in the middle: moved, placed but not yet removed (finished), not started', () => {
    const step = batch(dir())
    writeFileSync(at(step, 'to', 'a'), 'abc')
    writeFileSync(at(step, 'from', 'b'), 'abc')
    writeFileSync(at(step, 'to', 'b'), 'abc')
    writeFileSync(at(step, 'from', 'c'), 'abc')
    const results = settleMoves(step)
    expect(results.map((r) => r.moved)).toEqual([true, true, false])
    expect(results[0]).toMatchObject({after: {kind: 'file', size: 3, mode: 0o644}})
    expect([existsSync(at(step, 'from', 'b')), readFileSync(at(step, 'to', 'b'), 'utf8')]).toEqual([false, 'abc'])
    expect(readFileSync(at(step, 'from', 'c'), 'utf8')).toBe('abc')
  })

  it('undo killed half-way: the items already back are back, the others still moved', () => {
    const step = batch(dir())
    const moved: ItemResult = {moved: true, after: {kind: 'file', mode: 0o644, size: 3, mtimeMs: 0}}
    writeFileSync(at(step, 'from', 'a'), 'abc')
    writeFileSync(at(step, 'to', 'b'), 'abc')
    writeFileSync(at(step, 'from', 'c'), 'abc')
    writeFileSync(at(step, 'to', 'c'), 'abc')
    const items = settleBatch(step, 'reverse', [moved, moved, moved])
    expect(items.map((r) => r.moved)).toEqual([false, true, false])
    expect(existsSync(at(step, 'to', 'c'))).toBe(false)
  })

  it('our placed copy, whose source then changed: the copy goes, the source is the truth', () => {
    const step = batch(dir())
    writeFileSync(at(step, 'to', 'a'), 'abc')
    utimesSync(at(step, 'to', 'a'), 0, 0)
    writeFileSync(at(step, 'from', 'a'), 'abc + a line written meanwhile')
    const [a] = settleMoves({...step, items: step.items.slice(0, 1)})
    expect(a).toMatchObject({moved: false, why: expect.stringContaining('changed while it was being copied')})
    expect(existsSync(at(step, 'to', 'a'))).toBe(false)
    expect(readFileSync(at(step, 'from', 'a'), 'utf8')).toBe('abc + a line written meanwhile')
  })

  it('both ends holding different bytes, neither our copy: it will not guess', () => {
    const step = batch(dir())
    writeFileSync(at(step, 'from', 'a'), 'abc')
    writeFileSync(at(step, 'to', 'a'), 'abd!')
    expect(() => settleMoves({...step, items: step.items.slice(0, 1)})).toThrow(/both exist and differ/)
    expect([readFileSync(at(step, 'from', 'a'), 'utf8'), readFileSync(at(step, 'to', 'a'), 'utf8')]).toEqual(['abc', 'abd!'])
  })
})

describe('an edit, interrupted', () => {
  it('after the backup link, before the new text took its place: not done, the extra link goes, the file stays', async () => {
    const d = dir()
    const p = path.join(d, '.gitignore')
    const backup = path.join(d, 'backup.gitignore')
    writeFileSync(p, 'old\n')
    linkSync(p, backup)
    const step: Step = {op: 'write', path: p, tmp: tempNameFor(p, 'R'), backTmp: tempNameFor(p, 'R-undo'), backup, old: {kind: 'missing'}, sha256: 'new', size: 4, mode: 0o644}
    writeFileSync(step.tmp, 'new\n')
    await expect(classifyStep(step, 'forward', io)).resolves.toBe('before')
    expect([readFileSync(p, 'utf8'), existsSync(backup), existsSync(step.tmp)]).toEqual(['old\n', false, false])
  })
})

it('a rename with neither end on the disk is stuck, not guessed', async () => {
  const d = dir()
  await expect(classifyStep({op: 'rename', from: path.join(d, 'a'), to: path.join(d, 'b'), item: {kind: 'missing'}}, 'forward', io)).rejects.toThrow(/neither/)
})
