/**
 * The four semver questions codex-doctor asks (is this a version, and ≥, <, ≤), answered as the
 * `semver` package answers them without `loose` (test/unit/semver.test.ts holds the two side by
 * side). Its own module graph builds some forty regular expressions as it loads: a few ms of every run.
 */

interface Version {
  main: [number, number, number]
  /** Numeric identifiers as numbers, as semver keeps them. */
  pre: (number | string)[]
  text: string
}

const MAX_LENGTH = 256
// semver.org's grammar: numbers without leading zeros, a prerelease of dot-separated identifiers
// (numeric, or holding a letter or dash), build metadata that never counts
const FULL =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:\d*[a-zA-Z-][a-zA-Z0-9-]*|0|[1-9]\d*)(?:\.(?:\d*[a-zA-Z-][a-zA-Z0-9-]*|0|[1-9]\d*))*))?(?:\+[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*)?$/

function parse(text: string): Version | null {
  if (text.length > MAX_LENGTH) return null
  const m = FULL.exec(text.trim())
  if (!m) return null
  const main = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number]
  if (main.some((n) => n > Number.MAX_SAFE_INTEGER)) return null
  const pre = m[4] === undefined ? [] : m[4].split('.').map((id) => (/^[0-9]+$/.test(id) && Number(id) < Number.MAX_SAFE_INTEGER ? Number(id) : id))
  return {main, pre, text: `${main.join('.')}${pre.length > 0 ? `-${pre.join('.')}` : ''}`}
}

function version(text: string): Version {
  const v = parse(text)
  if (!v) throw new TypeError(`Invalid Version: ${text}`)
  return v
}

/** semver's order of two prerelease identifiers: numbers below words, numbers by value, words by code unit. */
function compareIdentifiers(a: number | string, b: number | string): number {
  const aNum = /^[0-9]+$/.test(String(a))
  const bNum = /^[0-9]+$/.test(String(b))
  const x = aNum && bNum ? Number(a) : a
  const y = aNum && bNum ? Number(b) : b
  if (x === y) return 0
  if (aNum && !bNum) return -1
  if (bNum && !aNum) return 1
  return x < y ? -1 : 1
}

function compare(left: string, right: string): number {
  const a = version(left)
  const b = version(right)
  for (let i = 0; i < 3; i++) if (a.main[i] !== b.main[i]) return a.main[i]! < b.main[i]! ? -1 : 1
  // a release is above its prereleases
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1
  for (let i = 0; ; i++) {
    const x = a.pre[i]
    const y = b.pre[i]
    if (x === undefined && y === undefined) return 0
    if (y === undefined) return 1
    if (x === undefined) return -1
    if (x !== y) return compareIdentifiers(x, y)
  }
}

/** The version as semver writes it (no `v`, no build metadata), or null when it is not one. */
export function valid(text: string): string | null {
  return parse(text)?.text ?? null
}

export const gte = (a: string, b: string): boolean => compare(a, b) >= 0
export const lt = (a: string, b: string): boolean => compare(a, b) < 0
export const lte = (a: string, b: string): boolean => compare(a, b) <= 0
