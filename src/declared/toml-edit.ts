/**
 * New links in codex-doctor.toml, written into the file as it is: a name appended to the old
 * list, or a line added to the [links] table. Every other byte stays; the result must parse and
 * say what was asked, or the edit is refused.
 */
import path from 'node:path'

import {parseConfig} from '../context/config.js'

export interface TomlLink {
  /** Path under CODEX_HOME ('skills/greeter'). */
  target: string
  /** Path under the dotfiles root ('config/codex/skills/greeter'). */
  source: string
}

const quote = (s: string) => JSON.stringify(s)

/** The line holding `links = [` (or `links = {`), and the offsets of its bracket pair; null when absent. */
function inlineValue(text: string, open: '[' | '{'): {start: number; end: number} | null {
  const m = new RegExp(`^[ \\t]*(["']?)links\\1[ \\t]*=[ \\t]*\\${open}`, 'm').exec(text)
  if (!m) return null
  const close = open === '[' ? ']' : '}'
  let depth = 0
  let quoteChar: string | null = null
  for (let i = m.index + m[0].length - 1; i < text.length; i++) {
    const ch = text[i]!
    if (quoteChar) {
      if (ch === '\\' && quoteChar === '"') i++
      else if (ch === quoteChar) quoteChar = null
    } else if (ch === '"' || ch === "'") quoteChar = ch
    else if (ch === '#') i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i) - 1
    else if (ch === open) depth++
    else if (ch === close && --depth === 0) return {start: m.index + m[0].length - 1, end: i}
  }
  return null
}

/** Offset (in `body`) just past its last value character: comments and blanks after it do not count. */
function endOfLastValue(body: string): number {
  let end = 0
  let quoteChar: string | null = null
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!
    if (quoteChar) {
      if (ch === '\\' && quoteChar === '"') i++
      else if (ch === quoteChar) {
        quoteChar = null
        end = i + 1
      }
    } else if (ch === '"' || ch === "'") quoteChar = ch
    else if (ch === '#') {
      const nl = body.indexOf('\n', i)
      i = nl === -1 ? body.length : nl
    } else if (!/\s/.test(ch)) end = i + 1
  }
  return end
}

/** Appends items before the closing bracket of an inline array or table, in its layout (one a line when it is multi-line). */
function appendInline(text: string, at: {start: number; end: number}, items: readonly string[]): string {
  const bodyStart = at.start + 1
  const body = text.slice(bodyStart, at.end)
  const last = endOfLastValue(body)
  const hasItems = last > 0 && body.slice(0, last).trim() !== ''
  const trailingComma = hasItems && body.slice(0, last).trimEnd().endsWith(',')
  const comma = hasItems && !trailingComma ? ',' : ''
  if (body.includes('\n')) {
    // after the last value's line (its comment stays on it), one item a line at the same indentation
    const lineEnd = body.indexOf('\n', last)
    const cut = lineEnd === -1 ? body.length : lineEnd
    const lastLine = body.slice(body.lastIndexOf('\n', last - 1) + 1, last)
    const indent = /^[ \t]*/.exec(lastLine)![0] || '  '
    const head = text.slice(0, bodyStart) + body.slice(0, last) + comma + body.slice(last, cut)
    return head + items.map((item) => `\n${indent}${item},`).join('') + text.slice(bodyStart + cut)
  }
  const sep = hasItems ? (trailingComma ? ' ' : ', ') : ''
  return text.slice(0, bodyStart) + body.slice(0, last) + sep + items.join(', ') + text.slice(bodyStart + last)
}

/** The [links] table's last key line (or its header when empty), as an offset just past that line. */
function endOfLinksTable(text: string): number | null {
  const lines = text.split('\n')
  const header = lines.findIndex((l) => /^\s*\[\s*(["']?)links\1\s*\]\s*(#.*)?$/.test(l))
  if (header === -1) return null
  let last = header
  for (let i = header + 1; i < lines.length; i++) {
    const l = lines[i]!.trim()
    if (l.startsWith('[')) break
    if (l !== '' && !l.startsWith('#')) last = i
  }
  return lines.slice(0, last + 1).join('\n').length
}

/** codex-doctor.toml with `links` added; `{error}` when the file's form cannot say it or the result does not read back. */
export function addTomlLinks(text: string, file: string, links: readonly TomlLink[], codexDirRel: string, checkIds: readonly string[]): {text: string} | {error: string} {
  if (links.length === 0) return {text}
  let before
  try {
    before = parseConfig(text, file, checkIds)
  } catch (error) {
    return {error: (error as Error).message}
  }
  let next: string | null = null
  if (before.linksForm === 'list') {
    const base = codexDirRel.replace(/\/+$/, '')
    const outside = links.find((l) => l.source !== `${base}/${l.target}`)
    if (outside) return {error: `the list form of links names entries under ${base}; ${outside.source} is not ${base}/${outside.target}: use the table form ([links] "${outside.target}" = "${outside.source}")`}
    const at = inlineValue(text, '[')
    if (at) next = appendInline(text, at, links.map((l) => quote(l.target)))
  } else if (before.linksForm === 'table') {
    const inline = inlineValue(text, '{')
    if (inline) next = appendInline(text, inline, links.map((l) => `${quote(l.target)} = ${quote(l.source)}`))
    else {
      const end = endOfLinksTable(text)
      if (end !== null) next = text.slice(0, end) + links.map((l) => `\n${quote(l.target)} = ${quote(l.source)}`).join('') + text.slice(end)
    }
  } else return {error: 'codex-doctor.toml has no links to add to'}
  if (next === null) return {error: `cannot find where links is written in ${path.basename(file)}`}

  // what it reads back as must be the old links and exactly the new ones
  let after
  try {
    after = parseConfig(next, file, checkIds)
  } catch (error) {
    return {error: `the edited ${path.basename(file)} would not parse: ${(error as Error).message}`}
  }
  const said = new Set((after.links ?? []).map((l) => `${l.target}=${l.source}`))
  const missing = links.filter((l) => !said.has(`${l.target}=${l.source}`))
  if (missing.length > 0 || (after.links ?? []).length !== (before.links ?? []).length + links.length) {
    return {error: `the edited ${path.basename(file)} does not read back as the links asked for`}
  }
  return {text: next}
}
