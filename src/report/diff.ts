/** A unified diff of two texts (Myers' algorithm, three lines of context), for edits shown before they are made. */

type Op = {kind: ' ' | '-' | '+'; line: string}

/** The shortest edit script between two line lists. */
export function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length
  const m = b.length
  const max = n + m
  const offset = max + 1
  const v = new Int32Array(2 * max + 3)
  const trace: Int32Array[] = []
  let done = false
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice())
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1
      let y = x - k
      while (x < n && y < m && a[x] === b[y]) {
        x++
        y++
      }
      v[offset + k] = x
      if (x >= n && y >= m) {
        done = true
        break
      }
    }
  }
  // walk the trace back from the end (trace[d] is v as round d found it)
  const ops: Op[] = []
  let x = n
  let y = m
  for (let d = trace.length - 1; d >= 0; d--) {
    const prev = trace[d]!
    const k = x - y
    const prevK = k === -d || (k !== d && prev[offset + k - 1]! < prev[offset + k + 1]!) ? k + 1 : k - 1
    const prevX = d === 0 ? 0 : prev[offset + prevK]!
    const prevY = d === 0 ? 0 : prevX - prevK
    while (x > prevX && y > prevY) {
      x--
      y--
      ops.push({kind: ' ', line: a[x]!})
    }
    if (d === 0) break
    if (x === prevX) ops.push({kind: '+', line: b[--y]!})
    else ops.push({kind: '-', line: a[--x]!})
  }
  return ops.reverse()
}

/** `--- a`/`+++ b` and hunks; '' when the texts are equal. */
export function unifiedDiff(before: string, after: string, nameA: string, nameB: string, context = 3): string {
  if (before === after) return ''
  const split = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'))
  const ops = diffLines(split(before), split(after))
  const out = [`--- ${nameA}`, `+++ ${nameB}`]
  // line numbers (1-based) in a and b where each op stands
  const atA: number[] = []
  const atB: number[] = []
  let lineA = 1
  let lineB = 1
  for (const o of ops) {
    atA.push(lineA)
    atB.push(lineB)
    if (o.kind !== '+') lineA++
    if (o.kind !== '-') lineB++
  }
  const changed = ops.flatMap((o, i) => (o.kind === ' ' ? [] : [i]))
  let h = 0
  while (h < changed.length) {
    // one hunk: changes closer than 2·context unchanged lines apart belong together
    let last = h
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! - 1 <= 2 * context) last++
    const start = Math.max(0, changed[h]! - context)
    const end = Math.min(ops.length, changed[last]! + context + 1)
    const hunk = ops.slice(start, end)
    const countA = hunk.filter((o) => o.kind !== '+').length
    const countB = hunk.filter((o) => o.kind !== '-').length
    // an empty side is numbered from the line before it, as diff -u does
    out.push(`@@ -${countA === 0 ? atA[start]! - 1 : atA[start]!},${countA} +${countB === 0 ? atB[start]! - 1 : atB[start]!},${countB} @@`)
    for (const o of hunk) out.push(`${o.kind}${o.line}`)
    h = last + 1
  }
  return out.join('\n')
}
