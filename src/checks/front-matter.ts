/**
 * Front matter as Codex reads it, for prompts and for skills. Two readers, because Codex has two:
 * - prompts (codex-rs/core/src/custom_prompts.rs `parse_frontmatter`): a line-based reader of
 *   `key: value` lines; an unclosed block is not an error, the whole file becomes the prompt.
 * - skills (codex-rs/core/src/skills/loader.rs `extract_frontmatter` + serde_yaml): real YAML that
 *   must hold string fields `name` (≤ 64 characters) and `description` (≤ 1024).
 */

/** Codex's skills loader limits (loader.rs MAX_NAME_LEN, MAX_DESCRIPTION_LEN, MAX_SHORT_DESCRIPTION_LEN). */
export const SKILL_NAME_MAX = 64
export const SKILL_DESCRIPTION_MAX = 1024
export const SKILL_SHORT_DESCRIPTION_MAX = 1024

/** Rust's `str::lines`: split on `\n`, drop one trailing `\r`, no final empty line. */
function rustLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
}

export interface PromptFrontMatter {
  description: string | null
  argumentHint: string | null
  /** `---` opens the file but no `---` closes it: Codex then sends the whole file, front matter included, as the prompt. */
  unclosed: boolean
}

/** What custom_prompts.rs `parse_frontmatter` extracts. */
export function readPromptFrontMatter(content: string): PromptFrontMatter {
  const [first, ...rest] = rustLines(content)
  if (first === undefined || first.trim() !== '---') return {description: null, argumentHint: null, unclosed: false}
  let description: string | null = null
  let argumentHint: string | null = null
  for (const line of rest) {
    const trimmed = line.trim()
    if (trimmed === '---') return {description, argumentHint, unclosed: false}
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const colon = trimmed.indexOf(':')
    if (colon === -1) continue
    const key = trimmed.slice(0, colon).trim().toLowerCase()
    let value = trimmed.slice(colon + 1).trim()
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
      value = value.slice(1, -1)
    }
    if (key === 'description') description = value
    else if (key === 'argument-hint' || key === 'argument_hint') argumentHint = value
  }
  return {description: null, argumentHint: null, unclosed: true}
}

// ---- skills: a small YAML reader, enough for front matter ----

export type YamlValue = string | YamlValue[] | {[key: string]: YamlValue}

export class YamlError extends Error {}
/** `key: a: b` — serde_yaml refuses it; newer Codex builds (seen on 0.169.0) load it anyway. */
export class PlainColonError extends YamlError {}

interface ReadOptions {
  /** Accept `: ` inside a plain value, as newer Codex builds do. */
  lenientColons: boolean
}

interface Line {
  indent: number
  text: string
  /** 1-based line number inside the front matter. */
  n: number
}

const indentOf = (raw: string) => raw.length - raw.trimStart().length

/** Drops a ` # comment` that stands outside quotes. */
function stripComment(text: string): string {
  let quote: string | null = null
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quote) {
      if (ch === quote) quote = null
    } else if (ch === '"' || ch === "'") {
      if (i === 0 || /[\s:[{,]/.test(text[i - 1] ?? '')) quote = ch
    } else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      return text.slice(0, i).trimEnd()
    }
  }
  return text.trimEnd()
}

function unquoteDouble(body: string): string {
  return body.replaceAll(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, e: string) => {
    if (e.length > 1) return String.fromCodePoint(Number.parseInt(e.slice(1), 16))
    return ({n: '\n', t: '\t', r: '\r', '0': '\0', '"': '"', '\\': '\\', '/': '/', ' ': ' '} as Record<string, string>)[e] ?? e
  })
}

/** A scalar that may continue on more-indented lines (quoted or plain); returns the value and the next line index. */
function readScalar(first: string, lines: Line[], start: number, parentIndent: number, opts: ReadOptions): [string, number] {
  let i = start
  const more = () => i < lines.length && (lines[i]!.text === '' || lines[i]!.indent > parentIndent)
  if (first.startsWith('"') || first.startsWith("'")) {
    const q = first[0]!
    let text = first.slice(1)
    const closes = (s: string) => (q === '"' ? /(^|[^\\])(\\\\)*"/.exec(s) : /'(?!')/.exec(s.replaceAll("''", '\0\0')))
    let parts: string[] = []
    for (;;) {
      const m = closes(text)
      if (m) {
        const end = m.index + m[0].length - 1
        parts.push(text.slice(0, end))
        const after = stripComment(text.slice(end + 1)).trim()
        if (after !== '') throw new YamlError(`unexpected text after a quoted value: ${after}`)
        break
      }
      parts.push(text)
      if (!more()) throw new YamlError('a quoted value is not closed')
      text = lines[i]!.text.trim()
      i++
    }
    parts = parts.map((p) => p.trim())
    const joined = parts.join(' ')
    return [q === '"' ? unquoteDouble(joined) : joined.replaceAll("''", "'"), i]
  }
  const pieces = [stripComment(first)]
  while (more()) {
    pieces.push(stripComment(lines[i]!.text.trim()))
    i++
  }
  const value = pieces.filter((p) => p !== '').join(' ')
  if (/:$/.test(value) || (!opts.lenientColons && /:\s/.test(value))) {
    throw new PlainColonError(`mapping values are not allowed in this context: "${value}" (quote the value)`)
  }
  return [value, i]
}

/** `|` or `>` block scalar: the lines indented below the key. */
function readBlockScalar(header: string, lines: Line[], start: number, parentIndent: number): [string, number] {
  let i = start
  const body: string[] = []
  while (i < lines.length && (lines[i]!.text === '' || lines[i]!.indent > parentIndent)) {
    body.push(lines[i]!.text.trim())
    i++
  }
  return [header.startsWith('|') ? body.join('\n') : body.join(' '), i]
}

function readMapping(lines: Line[], start: number, indent: number, opts: ReadOptions): [{[key: string]: YamlValue}, number] {
  const out: {[key: string]: YamlValue} = {}
  let i = start
  while (i < lines.length) {
    const line = lines[i]!
    if (line.text === '') {
      i++
      continue
    }
    if (line.indent < indent) break
    if (line.indent > indent) throw new YamlError(`line ${line.n}: unexpected indentation`)
    const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"-][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+(.*))?$/.exec(line.text.trim())
    if (!m) throw new YamlError(`line ${line.n}: could not find expected ':'`)
    const rawKey = m[1]!
    const key = rawKey.startsWith('"') ? unquoteDouble(rawKey.slice(1, -1)) : rawKey.startsWith("'") ? rawKey.slice(1, -1).replaceAll("''", "'") : rawKey
    if (key in out) throw new YamlError(`line ${line.n}: duplicate key "${key}"`)
    const rest = stripComment(m[2] ?? '')
    i++
    if (rest === '') {
      const next = lines.slice(i).find((l) => l.text !== '')
      if (next && next.indent > indent) {
        ;[out[key], i] = next.text.startsWith('- ') || next.text === '-' ? readSequence(lines, i, next.indent, opts) : readMapping(lines, i, next.indent, opts)
      } else if (next && next.indent === indent && (next.text.startsWith('- ') || next.text === '-')) {
        ;[out[key], i] = readSequence(lines, i, indent, opts)
      } else out[key] = ''
    } else if (/^[|>][+-]?\d?$/.test(rest)) {
      ;[out[key], i] = readBlockScalar(rest, lines, i, indent)
    } else if (rest.startsWith('[') || rest.startsWith('{')) {
      out[key] = rest.startsWith('[') ? [rest] : {flow: rest}
    } else {
      ;[out[key], i] = readScalar(rest, lines, i, indent, opts)
    }
  }
  return [out, i]
}

function readSequence(lines: Line[], start: number, indent: number, opts: ReadOptions): [YamlValue[], number] {
  const out: YamlValue[] = []
  let i = start
  while (i < lines.length) {
    const line = lines[i]!
    if (line.text === '') {
      i++
      continue
    }
    if (line.indent !== indent || !(line.text.startsWith('- ') || line.text === '-')) break
    i++
    let value: string
    ;[value, i] = readScalar(line.text.slice(1).trim(), lines, i, indent, opts)
    out.push(value)
  }
  return [out, i]
}

/** Parses a YAML block mapping (front matter); throws YamlError where serde_yaml would refuse it. */
export function parseYamlMapping(text: string, opts: ReadOptions = {lenientColons: false}): {[key: string]: YamlValue} {
  const lines: Line[] = rustLines(text).map((raw, k) => {
    if (/^\t/.test(raw)) throw new YamlError(`line ${k + 1}: tabs are not allowed for indentation`)
    const trimmed = raw.trim()
    return {indent: indentOf(raw), text: trimmed === '' || trimmed.startsWith('#') ? '' : raw.trimStart().trimEnd(), n: k + 1}
  })
  const first = lines.find((l) => l.text !== '')
  if (!first) return {}
  const [mapping, end] = readMapping(lines, 0, first.indent, opts)
  const leftover = lines.slice(end).find((l) => l.text !== '')
  if (leftover) throw new YamlError(`line ${leftover.n}: unexpected text "${leftover.text}"`)
  return mapping
}

export type SkillFrontMatter =
  | {ok: true; name: string; description: string; shortDescription: string | null}
  /** `loadsFrom`: the first Codex version seen loading such a file anyway (older ones skip it). */
  | {ok: false; problem: string; loadsFrom?: string}

/** Codex 0.116.0 and later take the folder's name when `name` is missing or empty; 0.89.0 skips the skill. */
export const NAME_OPTIONAL_FROM = '0.116.0'
/** Seen on 0.169.0: `description: Use it: often` loads; 0.89.0 to 0.117.0 reject it. */
export const PLAIN_COLON_LOADS_FROM = '0.169.0'

/** loader.rs `sanitize_single_line`: every run of whitespace becomes one space. */
const singleLine = (s: string) => s.split(/\s+/).filter(Boolean).join(' ')

/** loader.rs `extract_frontmatter`: the lines between a first `---` line and the next; none or unclosed → None. */
export function extractFrontMatter(content: string): string | null {
  const [first, ...rest] = rustLines(content)
  if (first === undefined || first.trim() !== '---') return null
  const end = rest.findIndex((l) => l.trim() === '---')
  if (end <= 0) return null
  return rest.slice(0, end).join('\n')
}

/** What loader.rs `parse_skill_file` decides about a SKILL.md, with its error wording. */
export function readSkillFrontMatter(content: string): SkillFrontMatter {
  const block = extractFrontMatter(content)
  if (block === null) return {ok: false, problem: 'missing YAML frontmatter delimited by ---'}
  let yaml: {[key: string]: YamlValue}
  let colonProblem: string | null = null
  try {
    yaml = parseYamlMapping(block)
  } catch (error) {
    if (!(error instanceof PlainColonError)) return {ok: false, problem: `invalid YAML: ${(error as Error).message}`}
    colonProblem = `invalid YAML: ${error.message}`
    try {
      yaml = parseYamlMapping(block, {lenientColons: true})
    } catch (again) {
      return {ok: false, problem: `invalid YAML: ${(again as Error).message}`}
    }
  }
  const field = (key: string, max: number): string | {problem: string} => {
    const value = yaml[key]
    if (value === undefined) return {problem: `missing field \`${key}\``}
    if (typeof value !== 'string') return {problem: `invalid YAML: ${key}: invalid type, expected a string`}
    const text = singleLine(value)
    if (text === '') return {problem: `missing field \`${key}\``}
    if ([...text].length > max) return {problem: `invalid ${key}: exceeds maximum length of ${max} characters`}
    return text
  }
  const description = field('description', SKILL_DESCRIPTION_MAX)
  if (typeof description !== 'string') return {ok: false, problem: description.problem}
  const name = field('name', SKILL_NAME_MAX)
  if (typeof name !== 'string') {
    const optional = name.problem.startsWith('missing')
    return {ok: false, problem: name.problem, ...(optional ? {loadsFrom: NAME_OPTIONAL_FROM} : {})}
  }
  const metadata = yaml.metadata
  let shortDescription: string | null = null
  if (metadata !== undefined && typeof metadata === 'object' && !Array.isArray(metadata)) {
    const raw = metadata['short-description']
    if (typeof raw === 'string' && singleLine(raw) !== '') shortDescription = singleLine(raw)
    if (shortDescription && [...shortDescription].length > SKILL_SHORT_DESCRIPTION_MAX) {
      return {ok: false, problem: `invalid metadata.short-description: exceeds maximum length of ${SKILL_SHORT_DESCRIPTION_MAX} characters`}
    }
  }
  if (colonProblem) return {ok: false, problem: colonProblem, loadsFrom: PLAIN_COLON_LOADS_FROM}
  return {ok: true, name, description, shortDescription}
}
