/**
 * fixRun with synthetic checks: plans in the order of the checks, drops duplicates, writes
 * nothing on a dry run or a healthy setup, applies under the lock as one run, and finishes an
 * interrupted run before its own work (recording that it resumed it).
 */
import {appendFileSync, existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {listRuns} from '../../src/actions/runs.js'
import type {Action} from '../../src/actions/types.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import type {Check, CheckResult, Status} from '../../src/checks/types.js'
import {resolveContext} from '../../src/context/resolve.js'
import type {Context} from '../../src/context/types.js'
import {dedupe, fixRun, planFixes} from '../../src/engine/fix.js'
import {runChecks} from '../../src/engine/run-checks.js'
import {UsageError} from '../../src/errors.js'
import {apply, migrationPlan, stateDirOf, undo, world} from '../actions/helpers.js'
import {CODEX} from '../codex-bins.js'
import {snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const makeSandbox = sandboxesPerTest()
const sandbox = (layout: 'new' | 'old' = 'old') => makeSandbox({layout})
const contextOf = (s: Sandbox) => resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})

/** A check that fails (or has the given status) and plans `actions`, re-read from the disk each time. */
function synthetic(id: string, actions: () => Action[], status: Status = 'fail'): Check {
  return {id, title: id, run: async () => ({status, summary: `${id} says ${status}`}), plan: () => actions()}
}

async function fix(s: Sandbox, checks: Check[], options: {dryRun?: boolean} = {}) {
  const ctx = await contextOf(s)
  return fixRun(ctx, checks, await runChecks(checks, ctx), {dryRun: options.dryRun ?? false})
}

describe('planning', () => {
  it('in the order of the checks, only for checks that did not pass, each change once', async () => {
    const s = sandbox()
    const ctx: Context = await contextOf(s)
    const mk = (check: string, p: string): Action => ({check, op: 'mkdir', path: p})
    const checks = [
      synthetic('codex-home', () => [mk('codex-home', '/a')]),
      synthetic('links', () => [mk('links', '/b'), {...mk('links', '/a'), note: 'the same change, another word'}]),
      synthetic('healthy', () => [mk('healthy', '/never')], 'pass'),
      synthetic('skipped', () => [mk('skipped', '/never')], 'skip'),
      synthetic('stray-state', () => [mk('stray-state', '/c')], 'warn'),
    ]
    const results = (await runChecks(checks, ctx)).reverse() as CheckResult[]
    const planned = await planFixes(ctx, checks, results)
    expect(planned.map((a) => `${a.check} ${a.path}`)).toEqual(['codex-home /a', 'links /b', 'stray-state /c'])
  })

  it('dedupe keeps the first of identical changes, and different ones', () => {
    const a: Action = {check: 'x', op: 'chmod', path: '/p', mode: 0o600}
    expect(dedupe([a, {...a, check: 'y'}, {...a, mode: 0o640}])).toEqual([a, {...a, mode: 0o640}])
  })

  it('a planner that throws names its check', async () => {
    const s = sandbox()
    const broken: Check = {id: 'broken', title: 'b', run: async () => ({status: 'fail', summary: 'x'}), plan: () => {
      throw new Error('boom')
    }}
    await expect(fix(s, [broken])).rejects.toThrow('broken: could not plan its fix: boom')
  })
})

describe('applying', () => {
  it('--dry-run reports every action as planned and writes nothing at all, the state folder included', async () => {
    const s = sandbox()
    const before = snapshot(s.root)
    const report = await fix(s, [synthetic('codex-home', () => migrationPlan(s))], {dryRun: true})
    expect(report.dryRun).toBe(true)
    expect(report.runId).toBeNull()
    expect(report.actions.length).toBe(migrationPlan(s).length)
    for (const a of report.actions) expect(a.status).toBe('planned')
    expect(snapshot(s.root)).toEqual(before)
  })

  it('a healthy setup: nothing to do, no run recorded, no state folder created', async () => {
    const s = sandbox('new')
    const before = snapshot(s.root)
    const report = await fix(s, [synthetic('links', () => [], 'pass'), synthetic('codex-home', () => [])])
    expect(report).toEqual({runId: null, dryRun: false, actions: []})
    expect(snapshot(s.root)).toEqual(before)
  })

  it('actions that all find nothing to do record no run either', async () => {
    const s = sandbox('new')
    const before = snapshot(s.root)
    const report = await fix(s, [synthetic('links', () => [{check: 'links', op: 'link', path: path.join(s.codexHome, 'prompts'), to: path.join(s.codexDir, 'prompts')}])])
    expect(report.runId).toBeNull()
    expect(report.actions[0]!.status).toBe('skipped')
    expect(snapshot(s.root)).toEqual(before)
  })

  it('one run, applied in order; a failure does not stop independent actions', async () => {
    const s = sandbox()
    const before = world(s, snapshot)
    const report = await fix(s, [
      synthetic('codex-home', () => migrationPlan(s)),
      synthetic('secrets', () => [{check: 'secrets', op: 'chmod', path: s.p('no-such-file'), mode: 0o600}]),
    ])
    expect(report.runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/)
    expect(report.actions.map((a) => a.status)).toEqual([...migrationPlan(s).map(() => 'applied'), 'failed'])
    expect((await listRuns(stateDirOf(s))).map((r) => r.id)).toEqual([report.runId])
    await undo(s)
    expect(world(s, snapshot)).toEqual(before)
  })

  it('two fixers at once: one does the work, the other is a usage error; nothing lost', async () => {
    const s = sandbox()
    const before = world(s, snapshot)
    const check = synthetic('codex-home', () => migrationPlan(s))
    const [a, b] = await Promise.allSettled([fix(s, [check]), fix(s, [check])])
    const outcomes = [a, b].map((r) => r.status)
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected'])
    const rejected = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toBeInstanceOf(UsageError)
    expect(String(rejected.reason.message)).toContain(`pid ${process.pid}`)
    expect(await listRuns(stateDirOf(s))).toHaveLength(1)
    await undo(s)
    expect(world(s, snapshot)).toEqual(before)
  })
})

describe('an interrupted run', () => {
  it('is settled from the disk, closed as resumed, and finished by the next --fix; undo reverses both', async () => {
    const s = sandbox()
    const before = world(s, snapshot)
    const plan = migrationPlan(s)
    // a run killed after three actions, in the middle of a fourth step it had journaled but not begun
    const crashed = await apply(s, plan.slice(0, 3), {close: false})
    const sessions = path.join(s.codexDir, 'sessions')
    appendFileSync(
      path.join(crashed.runDir, 'journal.jsonl'),
      JSON.stringify({t: 'action', a: 3, check: 'codex-home', op: 'move', path: sessions, to: path.join(s.codexHome, 'sessions')}) + '\n' +
        JSON.stringify({t: 'begin', n: 99, a: 3, step: {op: 'rename', from: sessions, to: path.join(s.codexHome, 'sessions'), item: {kind: 'dir', mode: 0o755}}}) + '\n',
    )
    const report = await fix(s, [synthetic('codex-home', () => migrationPlan(s))])
    expect(report.resumed).toEqual([crashed.runId])
    expect(report.runId).not.toBe(crashed.runId)
    expect(report.actions.map((a) => a.status)).toEqual(['skipped', 'skipped', 'skipped', 'applied', 'applied', 'applied', 'applied', 'applied'])
    expect(readFileSync(path.join(s.codexHome, 'sessions', '2026', '01', '02', 'rollout-1.jsonl'), 'utf8')).toBe('{"id":1}\n')

    const runs = await listRuns(stateDirOf(s))
    const old = runs.find((r) => r.id === crashed.runId)!
    expect(old.end).toEqual({status: 'interrupted', resumedBy: report.runId})
    expect(old.steps.find((st) => st.n === 99)!.state).toBe('not-done')
    expect(runs.find((r) => r.id === report.runId)!.header.resumes).toEqual([crashed.runId])

    const undone = await undo(s)
    expect(undone).toMatchObject({status: 'undone', runId: report.runId, runs: [report.runId, crashed.runId]})
    expect(world(s, snapshot)).toEqual(before)
  })

  it('with nothing left to do is still closed, and the run that closed it is recorded', async () => {
    const s = sandbox()
    const crashed = await apply(s, migrationPlan(s), {close: false})
    const report = await fix(s, [synthetic('codex-home', () => [], 'pass')])
    expect(report).toMatchObject({resumed: [crashed.runId], actions: []})
    expect(report.runId).not.toBeNull()
    expect((await listRuns(stateDirOf(s))).every((r) => r.end !== undefined)).toBe(true)
    expect(existsSync(path.join(stateDirOf(s), 'lock'))).toBe(false)
  })
})
