/**
 * codex-doctor's semver answers must be the `semver` package's (non-loose), which it replaced on
 * the hot path: the same questions put to both, on hand-picked edge cases and on a generated
 * corpus (a fixed seed: the same cases every run).
 */
import semver from 'semver'
import {describe, expect, it} from 'vitest'

import {gte, lt, lte, valid} from '../../src/semver.js'

const EDGE = [
  '0.89.0',
  'v0.89.0',
  ' 0.89.0 ',
  '=0.89.0',
  '0.88.0',
  '0.117.0-alpha.3',
  '0.117.0-alpha.10',
  '0.117.0-alpha',
  '0.117.0-alpha.beta',
  '0.117.0-beta',
  '0.117.0-0',
  '0.117.0-1',
  '0.117.0-01',
  '0.117.0-a01',
  '0.117.0-1a',
  '0.117.0-rc.1+build.5',
  '0.117.0+build',
  '0.117.0+',
  '0.117.0-',
  '0.117.0-a..b',
  '1.2',
  '1.2.3.4',
  '01.2.3',
  '1.02.3',
  '1.2.03',
  '00.0.0',
  '9007199254740991.0.0',
  '9007199254740992.0.0',
  '1.0.0-9007199254740993',
  '1.0.0-9007199254740990',
  '1.0.0--',
  '1.0.0-x-y-z.--',
  'codex-cli 0.89.0',
  'V1.2.3',
  'vv1.2.3',
  '',
  '1.2.3\n',
  `1.2.3-${'a'.repeat(260)}`,
]

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function corpus(n: number): string[] {
  const next = random(7)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
  const numbers = ['0', '1', '2', '9', '10', '01', '117', '89']
  const ids = ['alpha', 'beta', 'rc', '0', '1', '2', '10', '01', 'a1', '1a', '-', 'x-y', '']
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    let v = `${next() < 0.1 ? 'v' : ''}${pick(numbers)}.${pick(numbers)}.${pick(numbers)}`
    if (next() < 0.6) v += '-' + Array.from({length: 1 + Math.floor(next() * 3)}, () => pick(ids)).join('.')
    if (next() < 0.2) v += '+' + Array.from({length: 1 + Math.floor(next() * 2)}, () => pick(ids)).join('.')
    if (next() < 0.05) v = ` ${v}`
    out.push(v)
  }
  return out
}

const ALL = [...EDGE, ...corpus(1500)]
const VALID = ALL.filter((v) => semver.valid(v) !== null)

describe('semver', () => {
  it('calls the same strings versions, written the same way', () => {
    for (const v of ALL) expect([v, valid(v)]).toEqual([v, semver.valid(v)])
    // the corpus is worth something only when it holds both kinds, prereleases among them
    expect(VALID.length).toBeGreaterThan(300)
    expect(VALID.filter((v) => semver.prerelease(v) !== null).length).toBeGreaterThan(100)
    expect(ALL.length - VALID.length).toBeGreaterThan(300)
  })

  it('orders every pair of versions as semver does', () => {
    const next = random(11)
    const pairs: [string, string][] = VALID.slice(0, 40).flatMap((a) => VALID.slice(0, 40).map((b): [string, string] => [a, b]))
    for (let i = 0; i < 4000; i++) pairs.push([VALID[Math.floor(next() * VALID.length)]!, VALID[Math.floor(next() * VALID.length)]!])
    for (const [a, b] of pairs) {
      expect([a, b, gte(a, b), lt(a, b), lte(a, b)]).toEqual([a, b, semver.gte(a, b), semver.lt(a, b), semver.lte(a, b)])
    }
  })

  it('refuses to order what is not a version, as semver does', () => {
    expect(() => gte('0.89', '0.89.0')).toThrow(TypeError)
    expect(() => semver.gte('0.89', '0.89.0')).toThrow(TypeError)
  })
})
