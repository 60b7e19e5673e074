/**
 * The Jinja that Ansible files put in paths (`"{{ dotfiles_dir }}/config/codex"`), evaluated as far
 * as it can be: variables, attribute and index access, string literals, `~` and `+`, the filters
 * people use on paths, `lookup('env', …)`. Anything else is unknown, never a wrong string.
 */

/** A value that could not be known, with the variable names (or the reason) behind it. */
export interface Unknown {
  unknown: string[]
  /** A name that no variable source defines: what `default()` replaces. */
  undefinedName?: true
}

export type JValue = string | number | boolean | null | JValue[] | {[key: string]: JValue} | Unknown

export const isUnknown = (v: unknown): v is Unknown => typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as Unknown).unknown)

const unknown = (...names: string[]): Unknown => ({unknown: [...new Set(names)]})

function mergeUnknown(...values: JValue[]): Unknown {
  return unknown(...values.flatMap((v) => (isUnknown(v) ? v.unknown : [])))
}

/** Variable lookup; `undefined` when no source defines the name (so `default()` applies). */
export type Lookup = (name: string) => JValue | undefined

export interface JinjaHost {
  lookup: Lookup
  home: string
  /** Environment variables Ansible would see on a local run: HOME only; the rest is unknown. */
  env?: (name: string) => string | undefined
  /** For `with_fileglob` and `query('fileglob', …)`: the names matching a glob in the repository, or null when unknown. */
  glob?: (pattern: string) => string[] | null
}

// ---- lexer

type Token = {kind: 'name' | 'string' | 'number' | 'op'; text: string}

function lex(expr: string): Token[] | null {
  const tokens: Token[] = []
  let i = 0
  while (i < expr.length) {
    const ch = expr[i]!
    if (/\s/.test(ch)) {
      i++
      continue
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][\w]*/.exec(expr.slice(i))!
      tokens.push({kind: 'name', text: m[0]})
      i += m[0].length
      continue
    }
    if (/\d/.test(ch)) {
      const m = /^\d+(\.\d+)?/.exec(expr.slice(i))!
      tokens.push({kind: 'number', text: m[0]})
      i += m[0].length
      continue
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1
      let text = ''
      while (j < expr.length && expr[j] !== ch) {
        if (expr[j] === '\\' && j + 1 < expr.length) {
          const e = expr[j + 1]!
          text += ({n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"'} as Record<string, string>)[e] ?? `\\${e}`
          j += 2
        } else text += expr[j++]
      }
      if (j >= expr.length) return null
      tokens.push({kind: 'string', text})
      i = j + 1
      continue
    }
    const two = expr.slice(i, i + 2)
    if (['==', '!=', '<=', '>=', '//', '**'].includes(two)) {
      tokens.push({kind: 'op', text: two})
      i += 2
      continue
    }
    if ('.[](),|~+-*/%:<>'.includes(ch)) {
      tokens.push({kind: 'op', text: ch})
      i++
      continue
    }
    return null
  }
  return tokens
}

// ---- parser + evaluator (one pass: the expressions are tiny)

class Evaluator {
  private i = 0
  constructor(
    private readonly tokens: Token[],
    private readonly host: JinjaHost,
  ) {}

  private peek(text?: string): Token | undefined {
    const t = this.tokens[this.i]
    return text === undefined || t?.text === text ? t : undefined
  }

  private take(text: string): boolean {
    if (this.tokens[this.i]?.text === text && this.tokens[this.i]?.kind !== 'string') {
      this.i++
      return true
    }
    return false
  }

  run(): JValue {
    const v = this.concat()
    // `if`/`else` and anything we did not read: the whole value is unknown
    return this.i === this.tokens.length ? v : unknown('an expression codex-doctor does not evaluate')
  }

  private concat(): JValue {
    let left = this.filtered()
    for (;;) {
      const op = this.take('~') ? '~' : this.take('+') ? '+' : null
      if (!op) return left
      const right = this.filtered()
      if (isUnknown(left) || isUnknown(right)) {
        left = mergeUnknown(left, right)
        continue
      }
      if (op === '~') left = text(left) + text(right)
      else if (typeof left === 'number' && typeof right === 'number') left = left + right
      else if (typeof left === 'string' && typeof right === 'string') left = left + right
      else if (Array.isArray(left) && Array.isArray(right)) left = [...left, ...right]
      else left = unknown('a + of values of different kinds')
    }
  }

  private filtered(): JValue {
    let value = this.postfix()
    while (this.take('|')) {
      const name = this.tokens[this.i++]
      if (name?.kind !== 'name') return unknown('a filter')
      const args = this.peek('(') ? this.args() : []
      value = applyFilter(name.text, value, args, this.host)
    }
    return value
  }

  private args(): JValue[] {
    const out: JValue[] = []
    this.take('(')
    if (this.take(')')) return out
    for (;;) {
      // keyword arguments (`default(x, true)` is positional; `name=value` is dropped)
      if (this.tokens[this.i]?.kind === 'name' && this.tokens[this.i + 1]?.text === '=') this.i += 2
      out.push(this.concat())
      if (this.take(')')) return out
      if (!this.take(',')) {
        this.i = this.tokens.length + 1
        return out
      }
    }
  }

  private postfix(): JValue {
    let value = this.primary()
    for (;;) {
      if (this.take('.')) {
        const name = this.tokens[this.i++]
        value = name ? member(value, name.text) : unknown('an attribute')
      } else if (this.peek('[')) {
        this.take('[')
        const key = this.concat()
        this.take(']')
        value = isUnknown(key) ? mergeUnknown(key) : member(value, typeof key === 'number' ? key : text(key))
      } else return value ?? unknown('an undefined value')
    }
  }

  private primary(): JValue | undefined {
    const t = this.tokens[this.i++]
    if (!t) return unknown('an empty expression')
    if (t.kind === 'string') return t.text
    if (t.kind === 'number') return Number(t.text)
    if (t.text === '(') {
      const v = this.concat()
      this.take(')')
      return v
    }
    if (t.text === '[') {
      const items: JValue[] = []
      while (!this.take(']')) {
        items.push(this.concat())
        if (!this.take(',') && !this.peek(']')) return unknown('a list')
      }
      return items
    }
    if (t.text === '-' || t.kind === 'op') return unknown('an operator')
    if (t.text === 'true' || t.text === 'True') return true
    if (t.text === 'false' || t.text === 'False') return false
    if (t.text === 'none' || t.text === 'None') return null
    if ((t.text === 'lookup' || t.text === 'query' || t.text === 'q') && this.peek('(')) return this.lookupCall(this.args())
    if (this.peek('(')) {
      this.args()
      return unknown(`${t.text}()`)
    }
    const value = this.host.lookup(t.text)
    // undefined (no source defines it) matters to `default` only: carry the name along
    return value === undefined ? {unknown: [t.text], undefinedName: true} : value
  }

  private lookupCall(args: JValue[]): JValue {
    const [kind, ...rest] = args
    if (kind === 'env' && typeof rest[0] === 'string') {
      const value = rest[0] === 'HOME' ? this.host.home : this.host.env?.(rest[0])
      return value ?? unknown(`the environment variable ${rest[0]}`)
    }
    if (kind === 'fileglob' && typeof rest[0] === 'string') return this.host.glob?.(rest[0]) ?? unknown('a fileglob')
    return unknown(`lookup('${typeof kind === 'string' ? kind : '?'}')`)
  }
}

/** Whether a value is a name no source defines (the form `default()` replaces). */
function isUndefined(v: JValue | undefined): boolean {
  return v === undefined || (isUnknown(v) && v.undefinedName === true)
}

function member(value: JValue | undefined, key: string | number): JValue {
  if (value === undefined || isUnknown(value)) return isUnknown(value) ? unknown(...value.unknown.map((n) => `${n}.${key}`)) : unknown(String(key))
  if (Array.isArray(value) && typeof key === 'number') return value[key] ?? unknown(`item ${key}`)
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = (value as {[k: string]: JValue})[String(key)]
    return v === undefined ? unknown(String(key)) : v
  }
  return unknown(String(key))
}

function text(v: JValue): string {
  if (v === null) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  if (typeof v === 'number') return String(v)
  return JSON.stringify(v)
}

function expandUser(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? home + p.slice(1) : p
}

function applyFilter(name: string, value: JValue, args: JValue[], host: JinjaHost): JValue {
  switch (name) {
    case 'default':
    case 'd':
      // `default(x, true)` also replaces an empty value
      return isUndefined(value) || (args[1] === true && (value === '' || value === null)) ? (args[0] ?? '') : value
    case 'expanduser':
      return typeof value === 'string' ? expandUser(value, host.home) : isUnknown(value) ? mergeUnknown(value) : value
    case 'string':
      return isUnknown(value) ? mergeUnknown(value) : text(value)
    case 'trim':
      return typeof value === 'string' ? value.trim() : isUnknown(value) ? mergeUnknown(value) : value
    case 'regex_replace': {
      const [pattern, replacement] = args
      if (typeof value !== 'string' || typeof pattern !== 'string') return mergeUnknown(value, pattern ?? '')
      try {
        return value.replace(new RegExp(pattern, 'g'), typeof replacement === 'string' ? replacement.replace(/\\(\d)/g, '$$$1') : '')
      } catch {
        return unknown('a regex_replace')
      }
    }
    case 'list':
      return Array.isArray(value) ? value : isUnknown(value) ? mergeUnknown(value) : [value]
    default:
      return isUnknown(value) ? mergeUnknown(value) : unknown(`the ${name} filter`)
  }
}

/** One `{{ … }}` expression's value. */
export function evalExpression(expr: string, host: JinjaHost): JValue {
  const tokens = lex(expr)
  if (!tokens) return unknown('an expression codex-doctor does not read')
  const value = new Evaluator(tokens, host).run()
  return isUndefined(value) && isUnknown(value) ? unknown(...value.unknown) : value
}

/** The pieces of a template: text as written, `{{ … }}` expressions, and `{% … %}` blocks (which make it unknown). */
export function templateParts(template: string): ({text: string} | {expr: string} | {block: string})[] {
  const parts: ({text: string} | {expr: string} | {block: string})[] = []
  let i = 0
  while (i < template.length) {
    const open = template.slice(i).search(/\{[{%]/)
    if (open === -1) {
      parts.push({text: template.slice(i)})
      break
    }
    if (open > 0) parts.push({text: template.slice(i, i + open)})
    const start = i + open
    const isExpr = template[start + 1] === '{'
    const close = template.indexOf(isExpr ? '}}' : '%}', start + 2)
    if (close === -1) {
      parts.push({text: template.slice(start)})
      break
    }
    const inner = template.slice(start + 2, close)
    parts.push(isExpr ? {expr: inner.trim()} : {block: inner.trim()})
    i = close + 2
  }
  return parts
}

/**
 * A template rendered as far as it goes: the known text, or the pieces in order (known text and
 * unknown values) when some part is unknown, so a caller can resolve an unknown prefix by itself.
 */
export function render(template: string, host: JinjaHost): {text: string} | {pieces: (string | Unknown)[]} {
  const pieces: (string | Unknown)[] = []
  for (const part of templateParts(template)) {
    if ('text' in part) pieces.push(part.text)
    else if ('block' in part) pieces.push(unknown('a {% %} block'))
    else {
      const value = evalExpression(part.expr, host)
      pieces.push(isUnknown(value) ? value : text(value))
    }
  }
  if (pieces.every((p) => typeof p === 'string')) return {text: (pieces as string[]).join('')}
  // join neighbouring known text
  const joined: (string | Unknown)[] = []
  for (const p of pieces) {
    const last = joined.at(-1)
    if (typeof p === 'string' && typeof last === 'string') joined[joined.length - 1] = last + p
    else joined.push(p)
  }
  return {pieces: joined}
}

/** The value of a whole-expression template (`"{{ entries }}"`: a list stays a list), else its rendered text. */
export function renderValue(template: string, host: JinjaHost): JValue {
  const parts = templateParts(template.trim())
  if (parts.length === 1 && 'expr' in parts[0]!) return evalExpression(parts[0].expr, host)
  const r = render(template, host)
  return 'text' in r ? r.text : mergeUnknown(...r.pieces.filter(isUnknown))
}
