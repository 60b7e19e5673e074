/**
 * How the repository's Nix (home-manager) files link ~/.codex: the whole folder (the old way,
 * plan step 2 "Before") or entry by entry with mkOutOfStoreSymlink ("After"). Read as text:
 * comments blanked, strings and `${…}` skipped, so no Nix evaluator is needed.
 */
import type {Context} from '../context/types.js'
import {filesMentioningCodex, indentAt, judgeProvisioning, type EntryLink, type FolderLink, type ProvisioningScan} from './provisioning.js'
import {lineAt} from './repo-files.js'
import {noDotfiles} from './shared.js'
import type {Check} from './types.js'

/** Index just past the `${…}` whose body starts at `i`. */
function skipInterpolation(text: string, i: number): number {
  let depth = 1
  while (i < text.length) {
    const ch = text[i]
    if (ch === '"' || text.startsWith("''", i)) {
      i = skipString(text, i)
      continue
    }
    if (ch === '{') depth++
    else if (ch === '}' && --depth === 0) return i + 1
    i++
  }
  return i
}

/** Index just past the string literal (`"…"` or `''…''`) that starts at `i`. */
export function skipString(text: string, i: number): number {
  if (text[i] === '"') {
    let j = i + 1
    while (j < text.length) {
      if (text[j] === '\\') j += 2
      else if (text[j] === '"') return j + 1
      else if (text.startsWith('${', j)) j = skipInterpolation(text, j + 2)
      else j++
    }
    return j
  }
  let j = i + 2
  while (j < text.length) {
    if (text.startsWith("'''", j) || text.startsWith("''$", j) || text.startsWith("''\\", j)) j += 3
    else if (text.startsWith("''", j)) return j + 2
    else if (text.startsWith('${', j)) j = skipInterpolation(text, j + 2)
    else j++
  }
  return j
}

const isStringStart = (text: string, i: number) => text[i] === '"' || text.startsWith("''", i)

/** `#` and `/* *\/` comments become spaces (newlines kept, so offsets and line numbers stay). */
export function blankComments(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    if (isStringStart(text, i)) {
      const end = skipString(text, i)
      out += text.slice(i, end)
      i = end
    } else if (text[i] === '#') {
      const end = text.indexOf('\n', i)
      const stop = end === -1 ? text.length : end
      out += ' '.repeat(stop - i)
      i = stop
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2)
      const stop = end === -1 ? text.length : end + 2
      out += text.slice(i, stop).replaceAll(/[^\n]/g, ' ')
      i = stop
    } else out += text[i++]
  }
  return out
}

/** Offset of the bracket that closes around `start` or, with `atSemicolon`, of the first `;` outside brackets. */
function scanEnd(text: string, start: number, atSemicolon: boolean): number {
  let depth = 0
  let i = start
  while (i < text.length) {
    if (isStringStart(text, i)) {
      i = skipString(text, i)
      continue
    }
    const ch = text[i]!
    if ('([{'.includes(ch)) depth++
    else if (')]}'.includes(ch)) {
      if (depth === 0) return i
      depth--
    } else if (atSemicolon && ch === ';' && depth === 0) return i
    i++
  }
  return text.length
}

/** Offset of the `;` that ends the expression starting at `start` (or of the bracket that closes around it). */
const endOfExpression = (text: string, start: number) => scanEnd(text, start, true)
/** Offset of the bracket that closes the one opened just before `start`. */
const closingBracket = (text: string, start: number) => scanEnd(text, start, false)

/** Every string literal: where it starts and ends, and what is between its quotes. */
function stringLiterals(text: string): {start: number; end: number; body: string}[] {
  const out: {start: number; end: number; body: string}[] = []
  let i = 0
  while (i < text.length) {
    if (isStringStart(text, i)) {
      const end = skipString(text, i)
      const q = text[i] === '"' ? 1 : 2
      out.push({start: i, end, body: text.slice(i + q, end - q)})
      i = end
    } else i++
  }
  return out
}

/** Names bound to mkOutOfStoreSymlink (`link = config.lib.file.mkOutOfStoreSymlink;`). */
function outOfStoreNames(text: string): string[] {
  return ['mkOutOfStoreSymlink', ...[...text.matchAll(/([A-Za-z_][\w'-]*)\s*=\s*[\w.]*\bmkOutOfStoreSymlink\s*;/g)].map((m) => m[1]!)]
}

interface CodexKey {
  /** What stands in the key before `.codex` (`''`, or `${config.home.homeDirectory}/`). */
  keyPrefix: string
  /** '' for the folder itself. */
  entry: string
  /** Where the statement starts (`home.file.` included) and where its `;` stands. */
  start: number
  end: number
  /** The value of `source` (or `text`) and its attribute name. */
  expr: string
  attr: 'source' | 'text'
  /** `home.file.".codex".source = …` rather than an entry inside `home.file = { … }`. */
  standalone: boolean
}

/** The `.codex` keys of home.file: `".codex/x".source = …;`, `".codex/x" = { source = …; };` */
export function codexKeys(text: string): CodexKey[] {
  const keys: CodexKey[] = []
  for (const lit of stringLiterals(text)) {
    const m = /^((?:.*\/)?)\.codex(?:\/(.*?))?\/?$/.exec(lit.body)
    if (!m) continue
    const after = text.slice(lit.end)
    const before = text.slice(0, lit.start)
    const home = /home\.file\.\s*$/.exec(before)
    const start = home ? lit.start - home[0].length : lit.start
    const base = {keyPrefix: m[1]!, entry: m[2] ?? '', start, standalone: home !== null}
    const direct = /^\s*\.\s*(source|text)\s*=/.exec(after)
    if (direct) {
      const exprStart = lit.end + direct[0].length
      const end = endOfExpression(text, exprStart)
      keys.push({...base, end, expr: text.slice(exprStart, end).trim(), attr: direct[1] as 'source' | 'text'})
      continue
    }
    const block = /^\s*=\s*\{/.exec(after)
    if (block) {
      const open = lit.end + block[0].length
      const close = closingBracket(text, open)
      const inner = text.slice(open, close)
      const value = /(?:^|[\s;{])(source|text)\s*=/.exec(inner)
      if (!value) continue
      const exprStart = open + value.index + value[0].length
      const end = endOfExpression(text, close + 1)
      keys.push({...base, end, expr: text.slice(exprStart, endOfExpression(text, exprStart)).trim(), attr: value[1] as 'source' | 'text'})
    }
  }
  return keys
}

const DEFAULT_LINKER = 'config.lib.file.mkOutOfStoreSymlink'

/** Plan step 2 "After" for a whole-folder key: one mkOutOfStoreSymlink line pair per entry, indented as the original. */
export function nixReplacement(key: CodexKey, indent: string, entries: readonly string[], codexDir: string, linkers: readonly string[]): string {
  const literal = stringLiterals(key.expr)[0]
  const head = literal ? key.expr.slice(0, literal.start).trim() : ''
  const linker = linkers.some((n) => new RegExp(`(^|[\\s.])${n}$`).test(head)) ? head : DEFAULT_LINKER
  const source = literal && key.expr[literal.start] === '"' ? literal.body.replace(/\/$/, '') : `\${dotfiles}/${codexDir}`
  const inner = key.standalone ? indent + '  ' : indent
  const lines = entries.flatMap((e) => [`${inner}"${key.keyPrefix}.codex/${e}".source =`, `${inner}  ${linker} "${source}/${e}";`])
  return (key.standalone ? [`${indent}home.file = {`, ...lines, `${indent}};`] : lines).join('\n')
}

export function scanNix(files: readonly {file: string; text: string}[], entries: readonly string[], codexDir: string): ProvisioningScan {
  const scan: ProvisioningScan = {folderLinks: [], entryLinks: []}
  for (const {file, text: raw} of files) {
    const text = blankComments(raw)
    const linkers = outOfStoreNames(text)
    for (const key of codexKeys(text)) {
      const line = lineAt(text, key.start)
      if (key.entry === '') {
        const endLine = lineAt(text, key.end)
        const lines = raw.split('\n').slice(line - 1, endLine)
        const folder: FolderLink = {file, line, endLine, text: lines.join('\n'), replacement: nixReplacement(key, indentAt(text, key.start), entries, codexDir, linkers)}
        scan.folderLinks.push(folder)
        continue
      }
      const outOfStore = key.attr === 'source' && linkers.some((n) => new RegExp(`(^|[^\\w'-])${n}([^\\w'-]|$)`).test(key.expr))
      const link: EntryLink = {file, line, entry: key.entry}
      if (!outOfStore) {
        link.problem =
          key.entry === 'config.toml'
            ? {severity: 'fail', text: 'makes ~/.codex/config.toml a read-only copy in the Nix store: Codex cannot write its settings'}
            : {severity: 'warn', text: `makes ~/.codex/${key.entry} a read-only copy in the Nix store: repository edits wait for the next switch`}
      }
      scan.entryLinks.push(link)
    }
  }
  return scan
}

export const nix: Check = {
  id: 'nix',
  title: 'Nix links ~/.codex entry by entry',
  async run(ctx: Context) {
    if (!ctx.dotfiles) return noDotfiles(ctx)
    const files = await filesMentioningCodex(ctx.dotfiles, ['.nix'], ctx.env)
    const scan = scanNix(files, ctx.config.links, ctx.config.codex_dir)
    return judgeProvisioning('Nix', ctx.dotfiles, scan, {
      step: 'Plan step 2: link each managed entry with mkOutOfStoreSymlink instead of the folder, then switch (home-manager switch).',
      entryFix:
        'Use config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/<entry>" as the source: the link then leads to the repository\'s file, which Codex can rewrite; a plain path or text is copied into the read-only Nix store.',
    })
  },
}
