/** After a crash inside a step, the disk tells whether it happened; our leftovers go, the user's bytes never do. */
import {existsSync, linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {tempNameFor} from '../../src/actions/disk.js'
import {classifyStep, type Step, type StepIO, StuckStep} from '../../src/actions/steps.js'

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

describe('a copy across file systems, interrupted', () => {
  const copyStep = (d: string): Extract<Step, {op: 'copy'}> => ({
    op: 'copy',
    from: path.join(d, 'from'),
    to: path.join(d, 'to'),
    tmp: tempNameFor(path.join(d, 'to'), 'R'),
    backTmp: tempNameFor(path.join(d, 'from'), 'R-undo'),
    item: {kind: 'file', mode: 0o644, size: 3, mtimeMs: 0},
  })

  it('while copying: the partial copy goes, the source stays: not done', async () => {
    const d = dir()
    const step = copyStep(d)
    writeFileSync(step.from, 'abc')
    writeFileSync(step.tmp, 'a')
    await expect(classifyStep(step, 'forward', io)).resolves.toBe('before')
    expect(existsSync(step.tmp)).toBe(false)
    expect(readFileSync(step.from, 'utf8')).toBe('abc')
  })

  it('placed but the source not yet removed: finished the way it was going', async () => {
    const d = dir()
    const step = copyStep(d)
    writeFileSync(step.from, 'abc')
    writeFileSync(step.to, 'abc')
    await expect(classifyStep(step, 'forward', io)).resolves.toBe('after')
    expect([existsSync(step.from), readFileSync(step.to, 'utf8')]).toEqual([false, 'abc'])
    writeFileSync(step.from, 'abc')
    await expect(classifyStep(step, 'reverse', io)).resolves.toBe('before')
    expect([readFileSync(step.from, 'utf8'), existsSync(step.to)]).toEqual(['abc', false])
  })

  it('both ends holding different bytes: it will not guess', async () => {
    const d = dir()
    const step = copyStep(d)
    writeFileSync(step.from, 'abc')
    writeFileSync(step.to, 'abd')
    await expect(classifyStep(step, 'forward', io)).rejects.toBeInstanceOf(StuckStep)
    expect([readFileSync(step.from, 'utf8'), readFileSync(step.to, 'utf8')]).toEqual(['abc', 'abd'])
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
