/**
 * Front matter as Codex reads it, for prompts and for skills. Two readers, because Codex has two:
 * - prompts (codex-rs/core/src/custom_prompts.rs `parse_frontmatter`): a line-based reader of
 *   `key: value` lines; an unclosed block is not an error, the whole file becomes the prompt.
 * - skills (codex-rs/core/src/skills/loader.rs `extract_frontmatter` + serde_yaml): real YAML,
 *   read here with the `yaml` package, that must hold string fields `name` (≤ 64 characters) and
 *   `description` (≤ 1024). Where serde_yaml and `yaml` differ, the real binaries decide (the
 *   tests ask `codex app-server` which skills it loads).
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

// ---- prompts ----

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

/** The prompt's text as Codex sends it: what follows a closed front matter, else the whole file. */
export function promptBody(content: string): string {
  const lines = content.split('\n')
  if (lines[0]?.replace(/\r$/, '').trim() !== '---') return content
  const end = lines.findIndex((l, i) => i > 0 && l.replace(/\r$/, '').trim() === '---')
  return end === -1 ? content : lines.slice(end + 1).join('\n')
}

// ---- skills ----

export type SkillFrontMatter =
  | {ok: true; name: string; description: string; shortDescription: string | null}
  /** `loadsFrom`: the first Codex version seen loading such a file anyway (older ones skip it). */
  | {ok: false; problem: string; loadsFrom?: string}

/** Codex 0.116.0 and later take the folder's name when `name` is missing or empty; 0.89.0 skips the skill. */
export const NAME_OPTIONAL_FROM = '0.116.0'
/** Seen on 0.169.0: `description: Use it: often` loads; 0.89.0 to 0.117.0 reject it (serde_yaml's "mapping values are not allowed"). */
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

/**
 * What a front matter block says, field by field, as serde_yaml gives it to Codex's structs. Read
 * by `simpleFields` when every line is a plain `key: value` (no yaml needed: most SKILL.md files),
 * else by skill-yaml.ts through the `yaml` package.
 */
export interface FrontMatterFields {
  /** A field as serde_yaml gives it to a String; null when absent or empty. */
  field(key: string): string | null | {wrongType: true}
  /** `metadata.short-description` when `metadata` is a mapping. */
  shortDescription: unknown
  /** Set when the block parses only with its plain colons quoted, as Codex 0.169 reads it. */
  colonProblem: string | null
}

/** A line `key: value` whose value YAML and serde_yaml both read as exactly its text. */
const SIMPLE_LINE = /^([A-Za-z_][A-Za-z0-9_-]*):[ ]+([A-Za-z0-9][A-Za-z0-9 _.,;()/+=-]*|"[^"\\]*")$/

/**
 * The fields of a block made only of blank lines and simple `key: value` lines (plain words, or a
 * double-quoted string without escapes), each key once; null for anything else, which YAML reads.
 */
export function simpleFields(block: string): FrontMatterFields | null {
  const values = new Map<string, string>()
  for (const line of block.split('\n')) {
    if (line.trim() === '') continue
    const m = SIMPLE_LINE.exec(line.trimEnd())
    if (!m || values.has(m[1]!)) return null
    const raw = m[2]!
    values.set(m[1]!, raw.startsWith('"') ? raw.slice(1, -1) : raw)
  }
  return {field: (key) => values.get(key) ?? null, shortDescription: undefined, colonProblem: null}
}

/** What loader.rs `parse_skill_file` decides about a SKILL.md, with its error wording. */
export async function readSkillFrontMatter(content: string): Promise<SkillFrontMatter> {
  const block = extractFrontMatter(content)
  if (block === null) return {ok: false, problem: 'missing YAML frontmatter delimited by ---'}
  // the yaml package is loaded only for front matter that needs it
  const fields = simpleFields(block) ?? (await import('./skill-yaml.js')).yamlFields(block)
  if ('problem' in fields) return {ok: false, problem: fields.problem}
  const field = (key: string, max: number): string | {problem: string} => {
    const value = fields.field(key)
    if (value === null) return {problem: `missing field \`${key}\``}
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
  let shortDescription: string | null = null
  const raw = fields.shortDescription
  if (typeof raw === 'string' && singleLine(raw) !== '') shortDescription = singleLine(raw)
  if (shortDescription && [...shortDescription].length > SKILL_SHORT_DESCRIPTION_MAX) {
    return {ok: false, problem: `invalid metadata.short-description: exceeds maximum length of ${SKILL_SHORT_DESCRIPTION_MAX} characters`}
  }
  if (fields.colonProblem) return {ok: false, problem: fields.colonProblem, loadsFrom: PLAIN_COLON_LOADS_FROM}
  return {ok: true, name, description, shortDescription}
}

// ---- prompts → skills ----

/** A skill name Codex loads and a folder can carry: no path separators, no leading dot (hidden folders are skipped), within the limit. */
function skillNameProblem(name: string): string | null {
  if (name.trim() === '' || name !== singleLine(name)) return 'its name is empty or holds spaces at its ends or line breaks'
  if (name.startsWith('.')) return 'a name starting with "." would be a hidden folder, which Codex skips'
  if (/[/\\\0]/.test(name)) return 'its name holds a path separator'
  if ([...name].length > SKILL_NAME_MAX) return `its name is longer than ${SKILL_NAME_MAX} characters`
  return null
}

/** The first line of the prompt's text that says something, without Markdown's heading marks. */
function firstLineOf(body: string): string | null {
  for (const line of body.split('\n')) {
    const text = singleLine(line.replace(/^\s*#+\s*/, ''))
    if (text !== '') return text
  }
  return null
}

/** Cut to `max` characters, on a word boundary when one is near, with an ellipsis. */
function cut(text: string, max: number): string {
  const chars = [...text]
  if (chars.length <= max) return text
  const head = chars.slice(0, max - 1).join('')
  const space = head.lastIndexOf(' ')
  return (space > max * 0.6 ? head.slice(0, space) : head) + '…'
}

/**
 * The SKILL.md that carries a custom prompt over to Codex ≥ 0.117: `name` and `description` in
 * front matter (JSON strings are YAML that serde_yaml reads back exactly), the prompt's text below.
 * The argument hint, which skills have no field for, joins the description.
 */
export async function skillFromPrompt(name: string, promptText: string): Promise<{skillMd: string} | {error: string}> {
  const bad = skillNameProblem(name)
  if (bad) return {error: bad}
  const fm = readPromptFrontMatter(promptText)
  const body = promptBody(promptText)
  const said = fm.description !== null && singleLine(fm.description) !== '' ? singleLine(fm.description) : null
  const base = said ?? firstLineOf(body) ?? `The ${name} prompt`
  const hint = fm.argumentHint && singleLine(fm.argumentHint) !== '' ? ` (arguments: ${singleLine(fm.argumentHint)})` : ''
  const description = cut(base + hint, SKILL_DESCRIPTION_MAX)
  const skillMd = `---\nname: ${JSON.stringify(name)}\ndescription: ${JSON.stringify(description)}\n---\n${body.startsWith('\n') ? '' : '\n'}${body}`
  const check = await readSkillFrontMatter(skillMd)
  if (!check.ok || check.name !== name || check.description !== description) return {error: `the skill would not read back as written (${check.ok ? 'different name or description' : check.problem})`}
  return {skillMd}
}
