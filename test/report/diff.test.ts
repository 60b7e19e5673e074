import {describe, expect, it} from 'vitest'

import {diffLines, unifiedDiff} from '../../src/report/diff.js'

describe('unifiedDiff', () => {
  it('shows a change with three lines of context, as diff -u does', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n'
    const b = 'a\nb\nX\nd\ne\nf\ng\nh\ni\nj\nk\nl\n'
    expect(unifiedDiff(a, b, 'a/x', 'b/x')).toBe(['--- a/x', '+++ b/x', '@@ -1,6 +1,6 @@', ' a', ' b', '-c', '+X', ' d', ' e', ' f', '@@ -9,3 +9,4 @@', ' i', ' j', ' k', '+l'].join('\n'))
  })

  it('a created and an emptied file; equal texts give nothing', () => {
    expect(unifiedDiff('', 'new\n', 'a', 'b')).toBe('--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new')
    expect(unifiedDiff('old\n', '', 'a', 'b')).toBe('--- a\n+++ b\n@@ -1,1 +0,0 @@\n-old')
    expect(unifiedDiff('same\n', 'same\n', 'a', 'b')).toBe('')
  })

  it('the edit script always rebuilds both sides, and is minimal on small cases', () => {
    let seed = 7
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let t = 0; t < 3000; t++) {
      const list = () => Array.from({length: Math.floor(rand() * 9)}, () => 'abc'[Math.floor(rand() * 3)]!)
      const [a, b] = [list(), list()]
      const ops = diffLines(a, b)
      expect(ops.filter((o) => o.kind !== '+').map((o) => o.line)).toEqual(a)
      expect(ops.filter((o) => o.kind !== '-').map((o) => o.line)).toEqual(b)
      // no shorter script exists than |a| + |b| - 2·LCS
      const lcs = (() => {
        const dp = Array.from({length: a.length + 1}, () => new Array<number>(b.length + 1).fill(0))
        for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!)
        return dp[a.length]![b.length]!
      })()
      expect(ops.filter((o) => o.kind !== ' ').length).toBe(a.length + b.length - 2 * lcs)
    }
  })
})
