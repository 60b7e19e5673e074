import {describe, expect, it} from 'vitest'

import type {Check} from '../../src/checks/types.js'
import type {Context} from '../../src/context/types.js'
import {exitCodeOf, overallStatus, runChecks, worst} from '../../src/engine/run-checks.js'

const ctx = {} as Context
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function check(id: string, run: Check['run'], timeoutMs?: number): Check {
  return {id, title: id, run, timeoutMs}
}

describe('the check engine', () => {
  it('starts every check at once and returns results in the given order', async () => {
    const started: string[] = []
    const slow = check('slow', async () => {
      started.push('slow')
      await sleep(150)
      return {status: 'pass', summary: 'slow'}
    })
    const fast = check('fast', async () => {
      started.push('fast')
      return {status: 'warn', summary: 'fast'}
    })
    const finished: string[] = []
    const results = await runChecks([slow, fast], ctx, {onResult: (r) => finished.push(r.id)})
    expect(results.map((r) => r.id)).toEqual(['slow', 'fast'])
    expect(started).toEqual(['slow', 'fast'])
    // the fast one did not wait for the slow one
    expect(finished).toEqual(['fast', 'slow'])
  })

  it('turns a throw into status error with a one-line reason', async () => {
    const [result] = await runChecks([check('boom', async () => { throw new Error('disk on fire\n    at stack frame') })], ctx)
    expect(result).toMatchObject({id: 'boom', status: 'error', summary: 'could not run: disk on fire'})
  })

  it('turns an overrun of the time limit into status error', async () => {
    const [result] = await runChecks([check('hang', () => new Promise(() => {}), 50)], ctx)
    expect(result).toMatchObject({status: 'error', summary: 'did not finish within 0.05 s'})
  })

  it('fills in remediation defaults and measures the duration', async () => {
    const [result] = await runChecks([check('x', async () => ({status: 'fail', summary: 's', remediation: {text: 'do it'}}))], ctx)
    expect(result!.remediation).toEqual({text: 'do it', commands: [], automatic: false})
    expect(result!.durationMs).toBeGreaterThanOrEqual(0)
  })
})

describe('verdicts', () => {
  const r = (...statuses: Array<'pass' | 'warn' | 'fail' | 'error' | 'skip'>) =>
    statuses.map((status, i) => ({id: String(i), title: '', status, summary: '', details: {}, remediation: null, durationMs: 0}))

  it('orders severities', () => {
    expect(worst(['pass', 'skip'])).toBe('skip')
    expect(worst(['warn', 'fail', 'pass'])).toBe('fail')
    expect(worst(['fail', 'error'])).toBe('error')
  })

  it('exit 0 with warnings, 1 with --strict, 1 on fail or error', () => {
    expect(exitCodeOf(r('pass', 'skip'))).toBe(0)
    expect(exitCodeOf(r('pass', 'warn'))).toBe(0)
    expect(exitCodeOf(r('pass', 'warn'), true)).toBe(1)
    expect(exitCodeOf(r('fail'))).toBe(1)
    expect(exitCodeOf(r('error'))).toBe(1)
    expect(overallStatus(r('warn', 'skip'))).toBe('warn')
    expect(overallStatus(r('error'))).toBe('fail')
  })
})
