/** Lists and paths in a user's words: short lists for one-line summaries, paths a shell can take. */
import path from 'node:path'

/** `~/…` for paths in the home folder, as the human report shows them. */
export function tildify(p: string, home: string): string {
  if (!home || home === '/') return p
  if (p === home) return '~'
  return p.startsWith(home + path.sep) ? '~' + p.slice(home.length) : p
}

/** Quotes a path for a shell command when it needs it. */
export function shellQuote(p: string): string {
  return /^[\w@%+=:,./~-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`
}

/** `a, b, c and 2 more`: a list short enough for a one-line summary. */
export function listSome(items: readonly string[], max = 3): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

/** `a, b and c` */
export function listWords(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`
}

/** Code-point order: a sort key compared this way costs a comparison, where localeCompare builds a collator each call. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
