/**
 * Skill front matter that is more than plain `key: value` lines, read as serde_yaml reads it,
 * through the `yaml` package (loaded only when such a SKILL.md is found: front-matter.ts).
 */
import {type Document, isAlias, isMap, isScalar, parseDocument, type YAMLError} from 'yaml'

import type {FrontMatterFields} from './front-matter.js'

/** 1-based line of an offset. */
function lineOf(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++
  return line
}

/** A YAML error in serde_yaml's words where they are known (the messages Codex reports), else the `yaml` package's. */
function describeError(block: string, error: YAMLError): string {
  const line = lineOf(block, error.pos[0])
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const key = /^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^:#]+?)\s*:/.exec(block.split('\n')[line - 1] ?? '')?.[1]?.replace(/^["']|["']$/g, '')
      return `line ${line}: duplicate key${key ? ` "${key}"` : ''}`
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `mapping values are not allowed in this context at line ${line} (quote the value)`
    case 'TAB_AS_INDENT':
      return `line ${line}: tabs are not allowed for indentation`
    default:
      return `line ${line}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`
  }
}

/**
 * Newer Codex builds (0.169) load `description: Use it: often`, a plain value holding `: ` that
 * YAML refuses; a value that merely ends with `:` they still refuse. The same text with those
 * values quoted, or null when there is nothing to quote.
 */
function quotePlainColons(block: string): string | null {
  let changed = false
  const lines = block.split('\n').map((line) => {
    const m = /^(\s*[A-Za-z_][\w.-]*:\s+)([^\s'"[{|>&*!%@`#][^#]*?)(\s+#.*)?$/.exec(line)
    if (!m || !/:\s/.test(m[2]!)) return line
    changed = true
    return `${m[1]}${JSON.stringify(m[2])}${m[3] ?? ''}`
  })
  return changed ? lines.join('\n') : null
}

type Parsed = {ok: true; doc: Document} | {ok: false; problem: string; colon: boolean}

function parseBlock(block: string): Parsed {
  const doc = parseDocument(block, {uniqueKeys: true, prettyErrors: false, version: '1.2'})
  const [error] = doc.errors
  if (error) return {ok: false, problem: describeError(block, error), colon: error.code === 'BLOCK_AS_IMPLICIT_KEY'}
  if (doc.contents !== null && !isMap(doc.contents)) return {ok: false, problem: 'expected a mapping of keys to values', colon: false}
  return {ok: true, doc}
}

/**
 * A field as serde_yaml gives it to a String: a plain scalar is its text, whatever YAML would
 * resolve it to (seen on every pinned release: `name: true`, `name: 1.50` and `name: ~` load as
 * those words); an empty value is no value; a list or a mapping is the wrong type.
 */
function stringField(doc: Document, key: string): string | null | {wrongType: true} {
  const found = doc.get(key, true)
  const node = isAlias(found) ? found.resolve(doc) : found
  if (node === undefined) return null
  if (!isScalar(node)) return {wrongType: true}
  if (typeof node.value === 'string') return node.value
  if (node.type === 'PLAIN' && typeof node.source === 'string' && node.source !== '') return node.source
  return node.value === null ? null : String(node.value)
}

/** The block's fields, or the error Codex reports for it. */
export function yamlFields(block: string): FrontMatterFields | {problem: string} {
  let parsed = parseBlock(block)
  let colonProblem: string | null = null
  if (!parsed.ok) {
    const quoted = parsed.colon ? quotePlainColons(block) : null
    const retried = quoted === null ? null : parseBlock(quoted)
    if (!retried?.ok) return {problem: `invalid YAML: ${parsed.problem}`}
    colonProblem = `invalid YAML: ${parsed.problem}`
    parsed = retried
  }
  const doc = parsed.doc
  const metadata = (doc.toJS({maxAliasCount: 100}) as Record<string, unknown> | null)?.metadata
  const isMapping = metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
  return {field: (key) => stringField(doc, key), shortDescription: isMapping ? (metadata as Record<string, unknown>)['short-description'] : undefined, colonProblem}
}
