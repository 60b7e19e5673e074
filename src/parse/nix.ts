/**
 * A lexer and recursive-descent parser for the whole Nix language, accepting exactly what
 * `nix-instantiate --parse` (Nix 2.8) accepts: its flex rules (longest match, then rule order),
 * its grammar and precedences, and the checks it makes while parsing (duplicate attributes,
 * duplicate formals, dynamic attributes in `let`/`inherit`, trailing slashes, undefined variables).
 * Every node keeps its `start`/`end` offsets so that an edit can touch one node and nothing else.
 * Errors come back as values ({line, column, message}, 1-based); nothing here throws to its caller.
 */

// ---------------------------------------------------------------------------------------------
// Syntax tree

export interface Span {
  start: number
  end: number
}

/** A piece of a string or path: literal text (already unescaped) or `${…}`. */
export type StringPart = ({kind: 'text'; value: string} | {kind: 'interpolation'; expr: NixExpr}) & Span
export type Interpolation = Extract<StringPart, {kind: 'interpolation'}>

/** One element of an attribute path: `a`, `"a"`, `"${x}"` or `${x}`; `name` is null when it is only known at evaluation. */
export interface AttrName extends Span {
  form: 'id' | 'string' | 'interpolation'
  name: string | null
  /** The string (form 'string') or the expression (form 'interpolation') when the name is dynamic. */
  expr?: NixExpr
}

export interface NixBinding extends Span {
  kind: 'binding'
  path: AttrName[]
  value: NixExpr
}

export interface NixInherit extends Span {
  kind: 'inherit'
  from?: NixExpr
  names: AttrName[]
}

export type Binding = NixBinding | NixInherit

/** What an attribute set (or `let`) binds once dotted paths are merged, as Nix's parser builds it. */
export interface AttrShape {
  entries: Map<string, ShapeEntry>
  dynamic: {name: AttrName; value: ShapeValue; binding: NixBinding}[]
}

export interface ShapeEntry {
  /** Offset of the key where it is written. */
  pos: number
  value: ShapeValue
  binding: Binding
  /** `inherit x;` (from the enclosing scope) or `inherit (e) x;`. */
  inherit?: {from?: NixExpr}
}

export type ShapeValue = {kind: 'expr'; expr: NixExpr} | {kind: 'nested'; shape: AttrShape}

export interface Formal extends Span {
  name: string
  default?: NixExpr
}

export interface Formals extends Span {
  entries: Formal[]
  ellipsis: boolean
}

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||' | '->' | '//' | '+' | '-' | '*' | '/' | '++'

export type NixExpr =
  | ({kind: 'int'; value: number; raw: string} & Span)
  | ({kind: 'float'; value: number; raw: string} & Span)
  | ({kind: 'string'; indented: boolean; parts: StringPart[]} & Span)
  /** `./a`, `../a/${x}`, `/a`, `~/a`: the first part is the literal text as written. */
  | ({kind: 'path'; parts: StringPart[]} & Span)
  | ({kind: 'searchPath'; name: string} & Span)
  | ({kind: 'uri'; value: string} & Span)
  | ({kind: 'var'; name: string} & Span)
  | ({kind: 'select'; expr: NixExpr; path: AttrName[]; default?: NixExpr} & Span)
  | ({kind: 'hasAttr'; expr: NixExpr; path: AttrName[]} & Span)
  | ({kind: 'attrs'; rec: boolean; bindings: Binding[]; shape: AttrShape} & Span)
  /** The legacy `let { …; body = …; }`. */
  | ({kind: 'legacyLet'; bindings: Binding[]; shape: AttrShape} & Span)
  | ({kind: 'let'; bindings: Binding[]; shape: AttrShape; body: NixExpr} & Span)
  | ({kind: 'list'; items: NixExpr[]} & Span)
  | ({kind: 'lambda'; param?: {name: string} & Span; formals?: Formals; body: NixExpr} & Span)
  | ({kind: 'apply'; fn: NixExpr; arg: NixExpr} & Span)
  | ({kind: 'with'; env: NixExpr; body: NixExpr} & Span)
  | ({kind: 'assert'; cond: NixExpr; body: NixExpr} & Span)
  | ({kind: 'if'; cond: NixExpr; then: NixExpr; else: NixExpr} & Span)
  | ({kind: 'unary'; op: '!' | '-'; operand: NixExpr} & Span)
  | ({kind: 'binary'; op: BinaryOp; left: NixExpr; right: NixExpr} & Span)
  | ({kind: 'paren'; expr: NixExpr} & Span)

export type NixExprOf<K extends NixExpr['kind']> = Extract<NixExpr, {kind: K}>

export interface NixComment extends Span {
  text: string
}

export interface NixParseError {
  line: number
  column: number
  message: string
  offset: number
}

export type NixParseResult = {ok: true; ast: NixExpr; comments: NixComment[]} | {ok: false; error: NixParseError; comments: NixComment[]}

// ---------------------------------------------------------------------------------------------
// Lexer: flex's rules, longest match first, ties to the earlier rule

type TokenKind = string

interface Token extends Span {
  kind: TokenKind
  /** STR/IND_STR: the unescaped text; ID/PATH/URI…: the text. */
  value: string
  /** IND_STR text that counts for indentation stripping. */
  indentation?: boolean
}

class LexError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

const PATH_CHAR = '[a-zA-Z0-9._\\-+]'
const KEYWORDS = ['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']
const OPERATORS = ['...', '==', '!=', '<=', '>=', '&&', '||', '->', '//', '++']

interface Rule {
  re: RegExp
  token: (text: string, start: number) => Token | 'skip' | 'pathStart' | 'comment'
  /**
   * A character class holding every character a match can start with (it may hold more); none:
   * any character. Only the rules that can start at a character are tried there (rulesAt).
   */
  first?: RegExp
}

const sticky = (source: string) => new RegExp(source, 'y')
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

const INT_MAX = 9223372036854775807n

function unescapeString(raw: string): string {
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[++i]!
      out += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n
    } else if (c === '\r') {
      // CR and CR/LF become LF
      out += '\n'
      if (raw[i + 1] === '\n') i++
    } else out += c
  }
  return out
}

const tok = (kind: TokenKind, text: string, start: number, value = text): Token => ({kind, start, end: start + text.length, value})

function parseFloatToken(text: string, start: number): Token {
  const value = Number(text)
  const mantissaNonZero = /[1-9]/.test(text.split(/[eE]/)[0]!)
  // strtod sets ERANGE on overflow and on underflow
  if (!Number.isFinite(value) || (mantissaNonZero && Math.abs(value) < 2.2250738585072014e-308)) throw new LexError(`invalid float '${text}'`, start)
  return tok('FLOAT', text, start)
}

/** Exported for the test that holds each rule's `first` to what its expression matches. */
export const DEFAULT_RULES: Rule[] = [
  ...KEYWORDS.map((k) => ({re: sticky(k), token: (t: string, s: number) => tok(k, t, s), first: new RegExp(escapeRe(k[0]!))})),
  ...OPERATORS.map((o) => ({re: sticky(escapeRe(o)), token: (t: string, s: number) => tok(o, t, s), first: new RegExp(escapeRe(o[0]!))})),
  {re: sticky("[a-zA-Z_][a-zA-Z0-9_'\\-]*"), token: (t, s) => tok('ID', t, s), first: /[a-zA-Z_]/},
  {
    re: sticky('[0-9]+'),
    token: (t, s) => {
      if (BigInt(t) > INT_MAX) throw new LexError(`invalid integer '${t}'`, s)
      return tok('INT', t, s)
    },
    first: /[0-9]/,
  },
  {re: sticky('(?:(?:[1-9][0-9]*\\.[0-9]*)|(?:0?\\.[0-9]+))(?:[Ee][+-]?[0-9]+)?'), token: parseFloatToken, first: /[0-9.]/},
  {re: sticky('\\$\\{'), token: (t, s) => tok('${', t, s), first: /\$/},
  {re: sticky('\\}'), token: (t, s) => tok('}', t, s), first: /\}/},
  {re: sticky('\\{'), token: (t, s) => tok('{', t, s), first: /\{/},
  {re: sticky('"'), token: (t, s) => tok('"', t, s), first: /"/},
  {re: sticky("''(?: *\\n)?"), token: (t, s) => tok('IND_OPEN', t, s), first: /'/},
  {re: sticky(`(?:${PATH_CHAR}*\\/|~\\/)\\$\\{`), token: () => 'pathStart', first: /[a-zA-Z0-9._\-+/~]/},
  {re: sticky(`${PATH_CHAR}*(?:\\/${PATH_CHAR}+)+\\/?`), token: (t, s) => tok('PATH', t, s), first: /[a-zA-Z0-9._\-+/]/},
  {re: sticky(`~(?:\\/${PATH_CHAR}+)+\\/?`), token: (t, s) => tok('HPATH', t, s), first: /~/},
  {re: sticky(`<${PATH_CHAR}+(?:\\/${PATH_CHAR}+)*>`), token: (t, s) => tok('SPATH', t, s), first: /</},
  {re: sticky("[a-zA-Z][a-zA-Z0-9+\\-.]*:[a-zA-Z0-9%/?:@&=+$,\\-_.!~*']+"), token: (t, s) => tok('URI', t, s), first: /[a-zA-Z]/},
  {re: sticky('[ \\t\\r\\n]+'), token: () => 'skip', first: /[ \t\r\n]/},
  {re: sticky('#[^\\r\\n]*'), token: () => 'comment', first: /#/},
  {re: sticky('\\/\\*(?:[^*]|\\*+[^*/])*\\*+\\/'), token: () => 'comment', first: /\//},
  {re: sticky('[\\s\\S]'), token: (t, s) => tok(t, t, s)},
]

const STRING_BODY = '(?:[^$"\\\\]|\\$[^{"\\\\]|\\\\[\\s\\S]|\\$\\\\[\\s\\S])'
const STRING_RULES: Rule[] = [
  // a string ending in `$` right before the closing quote (flex's trailing context)
  {re: sticky(`${STRING_BODY}*\\$(?=")`), token: (t, s) => tok('STR', t, s, unescapeString(t))},
  {re: sticky(`${STRING_BODY}+`), token: (t, s) => tok('STR', t, s, unescapeString(t))},
  {re: sticky('\\$\\{'), token: (t, s) => tok('${', t, s)},
  {re: sticky('"'), token: (t, s) => tok('"', t, s)},
  {re: sticky('\\$\\\\|\\$|\\\\'), token: (t, s) => tok('STR', t, s, unescapeString(t))},
]

const IND_RULES: Rule[] = [
  {re: sticky("(?:[^$']|\\$[^{']|'[^'$])+"), token: (t, s) => ({...tok('IND_STR', t, s), indentation: true})},
  {re: sticky("''\\$"), token: (t, s) => tok('IND_STR', t, s, '$')},
  {re: sticky('\\$'), token: (t, s) => tok('IND_STR', t, s, '$')},
  {re: sticky("'''"), token: (t, s) => tok('IND_STR', t, s, "''")},
  {re: sticky("''\\\\[\\s\\S]"), token: (t, s) => tok('IND_STR', t, s, unescapeString(t.slice(2)))},
  {re: sticky('\\$\\{'), token: (t, s) => tok('${', t, s)},
  {re: sticky("''"), token: (t, s) => tok('IND_CLOSE', t, s)},
  {re: sticky("'"), token: (t, s) => tok('IND_STR', t, s, "'")},
]

const IN_PATH_RE = sticky(`${PATH_CHAR}*(?:\\/${PATH_CHAR}+)+\\/?|${PATH_CHAR}*\\/|${PATH_CHAR}+`)

type LexState = 'INITIAL' | 'DEFAULT' | 'STRING' | 'IND_STRING' | 'INPATH' | 'INPATH_SLASH'

/**
 * The rules that can match at a character, in their order (an earlier rule wins a tie). Every rule
 * was tried at every character before: most of the time of reading a Nix file went there.
 */
const RULES_AT = new Map<readonly Rule[], (readonly Rule[])[]>()
const ASCII = 128

function rulesAt(rules: readonly Rule[], code: number): readonly Rule[] {
  let byCode = RULES_AT.get(rules)
  if (!byCode) RULES_AT.set(rules, (byCode = []))
  const key = code < ASCII ? code : ASCII
  let at = byCode[key]
  if (!at) {
    // beyond ASCII, only the rules that take any character
    const c = String.fromCharCode(code)
    at = byCode[key] = rules.filter((r) => !r.first || (code < ASCII && r.first.test(c)))
  }
  return at
}

function longestMatch(rules: readonly Rule[], text: string, at: number): {rule: Rule; text: string} | null {
  // test(), not exec(): a sticky expression's lastIndex is where its match ends, and no match
  // array is made for each rule tried
  let best: Rule | null = null
  let bestEnd = at
  for (const rule of rulesAt(rules, text.charCodeAt(at))) {
    rule.re.lastIndex = at
    if (rule.re.test(text) && (!best || rule.re.lastIndex > bestEnd)) {
      best = rule
      bestEnd = rule.re.lastIndex
    }
  }
  return best && {rule: best, text: text.slice(at, bestEnd)}
}

function lex(text: string): {tokens: Token[]; comments: NixComment[]} {
  const tokens: Token[] = []
  const comments: NixComment[] = []
  const stack: LexState[] = ['INITIAL']
  const top = () => stack[stack.length - 1]!
  let at = 0
  for (;;) {
    const state = top()
    if (state === 'INPATH' || state === 'INPATH_SLASH') {
      if (text.startsWith('${', at)) {
        stack.pop()
        stack.push('INPATH', 'DEFAULT')
        tokens.push(tok('${', '${', at))
        at += 2
        continue
      }
      IN_PATH_RE.lastIndex = at
      const m = IN_PATH_RE.exec(text)
      if (m) {
        stack.pop()
        stack.push(m[0].endsWith('/') ? 'INPATH_SLASH' : 'INPATH')
        tokens.push(tok('STR', m[0], at))
        at += m[0].length
        continue
      }
      if (state === 'INPATH_SLASH') throw new LexError('path has a trailing slash', at)
      stack.pop()
      tokens.push({kind: 'PATH_END', start: at, end: at, value: ''})
      continue
    }
    if (at >= text.length) break
    const rules = state === 'STRING' ? STRING_RULES : state === 'IND_STRING' ? IND_RULES : DEFAULT_RULES
    const match = longestMatch(rules, text, at)
    if (!match) break
    const made = match.rule.token(match.text, at)
    if (made === 'skip') {
      at += match.text.length
      continue
    }
    if (made === 'comment') {
      comments.push({start: at, end: at + match.text.length, text: match.text})
      at += match.text.length
      continue
    }
    if (made === 'pathStart') {
      // `./${`, `a/${`, `~/${`: the path token is the part before `${`
      const head = match.text.slice(0, -2)
      tokens.push(tok(head.startsWith('~') ? 'HPATH' : 'PATH', head, at))
      stack.push('INPATH_SLASH')
      at += head.length
      continue
    }
    tokens.push(made)
    at = made.end
    switch (made.kind) {
      case '${':
      case '{':
        stack.push('DEFAULT')
        break
      case '}':
        if (state !== 'INITIAL') stack.pop()
        break
      case '"':
        if (state === 'STRING') stack.pop()
        else stack.push('STRING')
        break
      case 'IND_OPEN':
        stack.push('IND_STRING')
        break
      case 'IND_CLOSE':
        stack.pop()
        break
      case 'PATH':
      case 'HPATH':
        stack.push(made.value.endsWith('/') ? 'INPATH_SLASH' : 'INPATH')
        break
    }
  }
  tokens.push({kind: 'EOF', start: text.length, end: text.length, value: ''})
  return {tokens, comments}
}

// ---------------------------------------------------------------------------------------------
// Parser

class ParseError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

/** Binary operators by precedence (higher binds tighter), as in Nix's grammar. */
const PREC = {impl: 1, or: 2, and: 3, eq: 4, cmp: 5, update: 6, not: 7, add: 8, mul: 9, concat: 10, has: 11, negate: 12} as const
const BINARY: Record<string, {prec: number; assoc: 'left' | 'right' | 'none'}> = {
  '->': {prec: PREC.impl, assoc: 'right'},
  '||': {prec: PREC.or, assoc: 'left'},
  '&&': {prec: PREC.and, assoc: 'left'},
  '==': {prec: PREC.eq, assoc: 'none'},
  '!=': {prec: PREC.eq, assoc: 'none'},
  '<': {prec: PREC.cmp, assoc: 'none'},
  '>': {prec: PREC.cmp, assoc: 'none'},
  '<=': {prec: PREC.cmp, assoc: 'none'},
  '>=': {prec: PREC.cmp, assoc: 'none'},
  '//': {prec: PREC.update, assoc: 'right'},
  '+': {prec: PREC.add, assoc: 'left'},
  '-': {prec: PREC.add, assoc: 'left'},
  '*': {prec: PREC.mul, assoc: 'left'},
  '/': {prec: PREC.mul, assoc: 'left'},
  '++': {prec: PREC.concat, assoc: 'right'},
}

const SIMPLE_STARTS = new Set(['ID', 'INT', 'FLOAT', '"', 'IND_OPEN', 'PATH', 'HPATH', 'SPATH', 'URI', '(', 'rec', '{', '['])

function describe(t: Token): string {
  if (t.kind === 'EOF') return 'end of file'
  if (t.kind === 'ID') return `'${t.value}'`
  if (['INT', 'FLOAT', 'PATH', 'HPATH', 'SPATH', 'URI'].includes(t.kind)) return `'${t.value}'`
  if (t.kind === 'STR' || t.kind === 'IND_STR') return 'string text'
  if (t.kind === 'IND_OPEN') return "''"
  if (t.kind === 'IND_CLOSE') return "''"
  if (t.kind === 'PATH_END') return 'end of path'
  return `'${t.kind}'`
}

/** The attribute sets whose shapes Nix may merge into: `{…}` and `rec {…}` literals (parentheses are not nodes for Nix). */
function attrsLiteral(e: NixExpr): NixExprOf<'attrs'> | null {
  while (e.kind === 'paren') e = e.expr
  return e.kind === 'attrs' ? e : null
}

function showPath(path: readonly AttrName[]): string {
  return path.map((a) => a.name ?? '"${...}"').join('.')
}

class Parser {
  private i = 0

  constructor(private readonly tokens: Token[]) {}

  private get t(): Token {
    return this.tokens[this.i]!
  }

  /** Whether the current token is `kind` (a method, so that TypeScript does not narrow across next()). */
  private is(kind: string): boolean {
    return this.tokens[this.i]!.kind === kind
  }

  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!
  }

  private next(): Token {
    const t = this.t
    if (this.i < this.tokens.length - 1) this.i++
    return t
  }

  private fail(expected: string, t = this.t): never {
    throw new ParseError(`unexpected ${describe(t)}, expecting ${expected}`, t.start)
  }

  private expect(kind: string, expected = `'${kind}'`): Token {
    if (this.t.kind !== kind) this.fail(expected)
    return this.next()
  }

  /** End of the previous token: where a node that just ended stops. */
  private get last(): number {
    return this.tokens[this.i - 1]?.end ?? 0
  }

  parseFile(): NixExpr {
    const e = this.parseExpr()
    if (this.t.kind !== 'EOF') this.fail('end of file')
    return e
  }

  parseExpr(): NixExpr {
    const t = this.t
    const start = t.start
    if (t.kind === 'ID' && this.peek().kind === ':') {
      const param = {name: t.value, start: t.start, end: t.end}
      this.next()
      this.next()
      const body = this.parseExpr()
      return {kind: 'lambda', param, body, start, end: body.end}
    }
    if (t.kind === 'ID' && this.peek().kind === '@') {
      const param = {name: t.value, start: t.start, end: t.end}
      this.next()
      this.next()
      const formals = this.parseFormals()
      this.checkFormals(formals, param)
      this.expect(':')
      const body = this.parseExpr()
      return {kind: 'lambda', param, formals, body, start, end: body.end}
    }
    if (t.kind === '{' && this.looksLikeFormals()) {
      const formals = this.parseFormals()
      let param: ({name: string} & Span) | undefined
      if (this.t.kind === '@') {
        this.next()
        const id = this.expect('ID', 'an identifier')
        param = {name: id.value, start: id.start, end: id.end}
      }
      this.checkFormals(formals, param)
      this.expect(':')
      const body = this.parseExpr()
      return {kind: 'lambda', ...(param ? {param} : {}), formals, body, start, end: body.end}
    }
    if (t.kind === 'assert' || t.kind === 'with') {
      this.next()
      const head = this.parseExpr()
      this.expect(';')
      const body = this.parseExpr()
      return t.kind === 'assert' ? {kind: 'assert', cond: head, body, start, end: body.end} : {kind: 'with', env: head, body, start, end: body.end}
    }
    if (t.kind === 'let' && this.peek().kind !== '{') {
      this.next()
      const {bindings, shape} = this.parseBinds('in', 'let')
      this.expect('in')
      const body = this.parseExpr()
      return {kind: 'let', bindings, shape, body, start, end: body.end}
    }
    if (t.kind === 'if') {
      this.next()
      const cond = this.parseExpr()
      this.expect('then')
      const then = this.parseExpr()
      this.expect('else')
      const otherwise = this.parseExpr()
      return {kind: 'if', cond, then, else: otherwise, start, end: otherwise.end}
    }
    return this.parseOp(0)
  }

  /** `{` starts formals (rather than an attribute set) when a `:` or `@` follows a closing brace, or a formal's `,`/`?`. */
  private looksLikeFormals(): boolean {
    const a = this.peek(1)
    const b = this.peek(2)
    if (a.kind === '}') return b.kind === ':' || b.kind === '@'
    if (a.kind === '...') return true
    if (a.kind === 'ID') return b.kind === ',' || b.kind === '?' || (b.kind === '}' && [':', '@'].includes(this.peek(3).kind))
    return false
  }

  private parseFormals(): Formals {
    const open = this.expect('{')
    const entries: Formal[] = []
    let ellipsis = false
    for (;;) {
      if (this.t.kind === '}') break
      if (this.t.kind === '...') {
        this.next()
        ellipsis = true
        if (!this.is('}')) this.fail("'}'")
        break
      }
      const id = this.expect('ID', 'an identifier')
      const formal: Formal = {name: id.value, start: id.start, end: id.end}
      if (this.t.kind === '?') {
        this.next()
        formal.default = this.parseExpr()
        formal.end = formal.default.end
      }
      entries.push(formal)
      if (this.t.kind === ',') {
        this.next()
        continue
      }
      if (this.t.kind !== '}') this.fail("',' or '}'")
    }
    const close = this.expect('}')
    return {entries, ellipsis, start: open.start, end: close.end}
  }

  private checkFormals(formals: Formals, param?: {name: string} & Span) {
    const seen = new Set<string>()
    for (const f of formals.entries) {
      if (seen.has(f.name)) throw new ParseError(`duplicate formal function argument '${f.name}'`, f.start)
      seen.add(f.name)
    }
    if (param && seen.has(param.name)) throw new ParseError(`duplicate formal function argument '${param.name}'`, param.start)
  }

  private parseOp(minPrec: number): NixExpr {
    const t = this.t
    let left: NixExpr
    if (t.kind === '!' || t.kind === '-') {
      this.next()
      const operand = this.parseOp(t.kind === '!' ? PREC.not : PREC.negate)
      left = {kind: 'unary', op: t.kind, operand, start: t.start, end: operand.end}
    } else left = this.parseApp()
    for (;;) {
      const op = this.t.kind
      if (op === '?') {
        if (PREC.has <= minPrec) break
        this.next()
        const path = this.parseAttrPath()
        left = {kind: 'hasAttr', expr: left, path, start: left.start, end: this.last}
        continue
      }
      const info = BINARY[op]
      if (!info || info.prec <= minPrec) break
      this.next()
      const right = this.parseOp(info.assoc === 'right' ? info.prec - 0.5 : info.prec)
      left = {kind: 'binary', op: op as BinaryOp, left, right, start: left.start, end: right.end}
      if (info.assoc === 'none') {
        const following = BINARY[this.t.kind]
        if (following && following.prec === info.prec) this.fail('an expression end')
      }
    }
    return left
  }

  private startsSelect(): boolean {
    const k = this.t.kind
    return SIMPLE_STARTS.has(k) || (k === 'let' && this.peek().kind === '{')
  }

  private parseApp(): NixExpr {
    let fn = this.parseSelect()
    while (this.startsSelect()) {
      const arg = this.parseSelect()
      fn = {kind: 'apply', fn, arg, start: fn.start, end: arg.end}
    }
    return fn
  }

  private parseSelect(): NixExpr {
    const e = this.parseSimple()
    if (this.t.kind === '.') {
      this.next()
      const path = this.parseAttrPath()
      if (this.is('or')) {
        this.next()
        const fallback = this.parseSelect()
        return {kind: 'select', expr: e, path, default: fallback, start: e.start, end: fallback.end}
      }
      return {kind: 'select', expr: e, path, start: e.start, end: this.last}
    }
    if (this.t.kind === 'or') {
      // Nix's backwards compatibility: `f or` applies f to a variable named `or`
      const t = this.next()
      return {kind: 'apply', fn: e, arg: {kind: 'var', name: 'or', start: t.start, end: t.end}, start: e.start, end: t.end}
    }
    return e
  }

  private parseSimple(): NixExpr {
    const t = this.t
    switch (t.kind) {
      case 'ID':
        this.next()
        return {kind: 'var', name: t.value, start: t.start, end: t.end}
      case 'INT':
        this.next()
        return {kind: 'int', value: Number(t.value), raw: t.value, start: t.start, end: t.end}
      case 'FLOAT':
        this.next()
        return {kind: 'float', value: Number(t.value), raw: t.value, start: t.start, end: t.end}
      case '"':
        return this.parseString()
      case 'IND_OPEN':
        return this.parseIndentedString()
      case 'PATH':
      case 'HPATH':
        return this.parsePath()
      case 'SPATH':
        this.next()
        return {kind: 'searchPath', name: t.value.slice(1, -1), start: t.start, end: t.end}
      case 'URI':
        this.next()
        return {kind: 'uri', value: t.value, start: t.start, end: t.end}
      case '(': {
        this.next()
        const expr = this.parseExpr()
        const close = this.expect(')')
        return {kind: 'paren', expr, start: t.start, end: close.end}
      }
      case 'let': {
        this.next()
        this.expect('{')
        const {bindings, shape} = this.parseBinds('}', 'attrs')
        const close = this.expect('}')
        return {kind: 'legacyLet', bindings, shape, start: t.start, end: close.end}
      }
      case 'rec':
      case '{': {
        this.next()
        if (t.kind === 'rec') this.expect('{')
        const {bindings, shape} = this.parseBinds('}', 'attrs')
        const close = this.expect('}')
        return {kind: 'attrs', rec: t.kind === 'rec', bindings, shape, start: t.start, end: close.end}
      }
      case '[': {
        this.next()
        const items: NixExpr[] = []
        while (this.t.kind !== ']') {
          if (!this.startsSelect()) this.fail("']' or a list element")
          items.push(this.parseSelect())
        }
        const close = this.next()
        return {kind: 'list', items, start: t.start, end: close.end}
      }
      default:
        this.fail('an expression')
    }
  }

  /** `${ expr }` inside a string, a path or an attribute name. */
  private parseInterpolation(): Interpolation {
    const open = this.expect('${')
    const expr = this.parseExpr()
    const close = this.expect('}')
    return {kind: 'interpolation', expr, start: open.start, end: close.end}
  }

  private parseString(): NixExprOf<'string'> {
    const open = this.expect('"')
    const parts: StringPart[] = []
    for (;;) {
      const t = this.t
      if (t.kind === 'STR') {
        this.next()
        parts.push({kind: 'text', value: t.value, start: t.start, end: t.end})
      } else if (t.kind === '${') parts.push(this.parseInterpolation())
      else break
    }
    const close = this.expect('"', "'\"'")
    return {kind: 'string', indented: false, parts, start: open.start, end: close.end}
  }

  private parseIndentedString(): NixExprOf<'string'> {
    const open = this.expect('IND_OPEN')
    const raw: IndentedPart[] = []
    for (;;) {
      const t = this.t
      if (t.kind === 'IND_STR') {
        this.next()
        raw.push({kind: 'text', value: t.value, indentation: t.indentation === true, start: t.start, end: t.end})
      } else if (t.kind === '${') raw.push(this.parseInterpolation())
      else break
    }
    const close = this.expect('IND_CLOSE', "''")
    return {kind: 'string', indented: true, parts: stripIndentation(raw), start: open.start, end: close.end}
  }

  private parsePath(): NixExprOf<'path'> {
    const first = this.next()
    const parts: StringPart[] = [{kind: 'text', value: first.value, start: first.start, end: first.end}]
    for (;;) {
      const t = this.t
      if (t.kind === 'STR') {
        this.next()
        parts.push({kind: 'text', value: t.value, start: t.start, end: t.end})
      } else if (t.kind === '${') parts.push(this.parseInterpolation())
      else break
    }
    this.expect('PATH_END', 'the end of the path')
    return {kind: 'path', parts, start: first.start, end: this.last}
  }

  private parseAttrName(): AttrName {
    const t = this.t
    if (t.kind === 'ID' || t.kind === 'or') {
      this.next()
      return {form: 'id', name: t.value, start: t.start, end: t.end}
    }
    if (t.kind === '"') {
      const s = this.parseString()
      const name = staticString(s)
      return {form: 'string', name, ...(name === null ? {expr: s} : {}), start: s.start, end: s.end}
    }
    if (t.kind === '${') {
      const part = this.parseInterpolation()
      const inner = part.expr
      const name = inner.kind === 'string' ? staticString(inner) : null
      return {form: 'interpolation', name, ...(name === null ? {expr: inner} : {}), start: part.start, end: part.end}
    }
    this.fail('an attribute name')
  }

  private parseAttrPath(): AttrName[] {
    const path = [this.parseAttrName()]
    while (this.t.kind === '.') {
      this.next()
      path.push(this.parseAttrName())
    }
    return path
  }

  private parseBinds(close: '}' | 'in', what: 'attrs' | 'let'): {bindings: Binding[]; shape: AttrShape} {
    const bindings: Binding[] = []
    const shape: AttrShape = {entries: new Map(), dynamic: []}
    while (this.t.kind !== close) {
      const start = this.t.start
      if (this.t.kind === 'inherit') {
        this.next()
        let from: NixExpr | undefined
        if (this.is('(')) {
          this.next()
          from = this.parseExpr()
          this.expect(')')
        }
        const names: AttrName[] = []
        while (!this.is(';')) {
          if (!['ID', 'or', '"', '${'].includes(this.t.kind)) this.fail("';' or an attribute name")
          const name = this.parseAttrName()
          if (name.form !== 'id' && name.name === null) throw new ParseError('dynamic attributes not allowed in inherit', name.start)
          names.push(name)
        }
        this.next()
        const binding: NixInherit = {kind: 'inherit', ...(from ? {from} : {}), names, start, end: this.last}
        bindings.push(binding)
        for (const name of names) {
          if (shape.entries.has(name.name!)) throw new ParseError(`attribute '${name.name}' already defined`, name.start)
          const value: ShapeValue = from ? {kind: 'expr', expr: {kind: 'select', expr: from, path: [name], start: name.start, end: name.end}} : {kind: 'expr', expr: {kind: 'var', name: name.name!, start: name.start, end: name.end}}
          shape.entries.set(name.name!, {pos: name.start, value, binding, inherit: from ? {from} : {}})
        }
        continue
      }
      if (!['ID', 'or', '"', '${'].includes(this.t.kind)) this.fail(close === 'in' ? "'in' or an attribute name" : "'}' or an attribute name")
      const path = this.parseAttrPath()
      this.expect('=')
      const value = this.parseExpr()
      this.expect(';')
      const binding: NixBinding = {kind: 'binding', path, value, start, end: this.last}
      bindings.push(binding)
      addAttr(shape, binding)
    }
    if (what === 'let' && shape.dynamic.length > 0) throw new ParseError('dynamic attributes not allowed in let', shape.dynamic[0]!.name.start)
    return {bindings, shape}
  }
}

/** The text of a string without interpolation (Nix then treats the attribute name as static). */
function staticString(s: NixExprOf<'string'>): string | null {
  if (s.parts.length === 0) return ''
  if (s.parts.length === 1 && s.parts[0]!.kind === 'text') return s.parts[0]!.value
  return null
}

/** Nix's addAttr: dotted paths build nested sets, and two attribute set literals under one name merge. */
function addAttr(shape: AttrShape, binding: NixBinding) {
  const {path, value} = binding
  let cur = shape
  for (const name of path.slice(0, -1)) {
    if (name.name === null) {
      const nested: AttrShape = {entries: new Map(), dynamic: []}
      cur.dynamic.push({name, value: {kind: 'nested', shape: nested}, binding})
      cur = nested
      continue
    }
    const existing = cur.entries.get(name.name)
    if (existing) {
      const inner = existing.inherit ? null : shapeOf(existing.value)
      if (!inner) throw new ParseError(`attribute '${showPath(path)}' already defined`, path[0]!.start)
      cur = inner
    } else {
      const nested: AttrShape = {entries: new Map(), dynamic: []}
      cur.entries.set(name.name, {pos: name.start, value: {kind: 'nested', shape: nested}, binding})
      cur = nested
    }
  }
  const last = path[path.length - 1]!
  if (last.name === null) {
    cur.dynamic.push({name: last, value: {kind: 'expr', expr: value}, binding})
    return
  }
  const existing = cur.entries.get(last.name)
  if (!existing) {
    cur.entries.set(last.name, {pos: last.start, value: {kind: 'expr', expr: value}, binding})
    return
  }
  const into = existing.inherit ? null : shapeOf(existing.value)
  const literal = attrsLiteral(value)
  if (!into || !literal) throw new ParseError(`attribute '${showPath(path)}' already defined`, path[0]!.start)
  for (const [name, entry] of literal.shape.entries) {
    if (into.entries.has(name)) throw new ParseError(`attribute '${name}' already defined`, entry.pos)
    into.entries.set(name, entry)
  }
}

/** The shape a name's value has when it is an attribute set Nix can merge into. */
function shapeOf(value: ShapeValue): AttrShape | null {
  if (value.kind === 'nested') return value.shape
  return attrsLiteral(value.expr)?.shape ?? null
}

/** A piece of an indented string before stripping: `indentation` is false for escapes (`''$`, `'''`), which end a line's indentation. */
type IndentedPart = ({kind: 'text'; value: string; indentation: boolean} & Span) | Interpolation

/** Nix's stripIndentation for `''…''` strings: the smallest indentation of the non-empty lines goes. */
function stripIndentation(raw: readonly IndentedPart[]): StringPart[] {
  let atStartOfLine = true
  let minIndent = 1_000_000
  let curIndent = 0
  for (const part of raw) {
    if (part.kind !== 'text' || !part.indentation) {
      if (atStartOfLine) {
        atStartOfLine = false
        minIndent = Math.min(minIndent, curIndent)
      }
      continue
    }
    for (const c of part.value) {
      if (atStartOfLine) {
        if (c === ' ') curIndent++
        else if (c === '\n') curIndent = 0
        else {
          atStartOfLine = false
          minIndent = Math.min(minIndent, curIndent)
        }
      } else if (c === '\n') {
        atStartOfLine = true
        curIndent = 0
      }
    }
  }
  const out: StringPart[] = []
  atStartOfLine = true
  let curDropped = 0
  raw.forEach((part, index) => {
    if (part.kind !== 'text') {
      atStartOfLine = false
      curDropped = 0
      out.push(part)
      return
    }
    let s = ''
    for (const c of part.value) {
      if (atStartOfLine) {
        if (c === ' ') {
          if (curDropped++ >= minIndent) s += c
        } else if (c === '\n') {
          curDropped = 0
          s += c
        } else {
          atStartOfLine = false
          curDropped = 0
          s += c
        }
      } else {
        s += c
        if (c === '\n') atStartOfLine = true
      }
    }
    // the last line goes when it holds only spaces
    if (index === raw.length - 1) {
      const p = s.lastIndexOf('\n')
      if (p !== -1 && /^ *$/.test(s.slice(p + 1))) s = s.slice(0, p + 1)
    }
    const prev = out[out.length - 1]
    if (prev && prev.kind === 'text') {
      prev.value += s
      prev.end = part.end
    } else out.push({kind: 'text', value: s, start: part.start, end: part.end})
  })
  return out
}

// ---------------------------------------------------------------------------------------------
// Variables: Nix resolves them while parsing; an unknown one is a parse error unless a `with` may provide it

/** Names in Nix 2.8's base environment, plus the builtins later Nix versions added (so newer files still parse). */
export const GLOBAL_NAMES: ReadonlySet<string> = new Set([
  'abort', 'baseNameOf', 'builtins', 'derivation', 'derivationStrict', 'dirOf', 'false', 'fetchGit', 'fetchMercurial', 'fetchTarball',
  'fetchTree', 'fromTOML', 'import', 'isNull', 'map', 'null', 'placeholder', 'removeAttrs', 'scopedImport', 'throw', 'toString', 'true',
  ...[
    'add', 'addErrorContext', 'all', 'any', 'appendContext', 'attrNames', 'attrValues', 'bitAnd', 'bitOr', 'bitXor', 'catAttrs', 'ceil',
    'compareVersions', 'concatLists', 'concatMap', 'concatStringsSep', 'currentSystem', 'currentTime', 'deepSeq', 'div', 'elem', 'elemAt',
    'fetchurl', 'filter', 'filterSource', 'findFile', 'floor', "foldl'", 'fromJSON', 'functionArgs', 'genList', 'genericClosure', 'getAttr',
    'getContext', 'getEnv', 'groupBy', 'hasAttr', 'hasContext', 'hashFile', 'hashString', 'head', 'intersectAttrs', 'isAttrs', 'isBool',
    'isFloat', 'isFunction', 'isInt', 'isList', 'isPath', 'isString', 'langVersion', 'length', 'lessThan', 'listToAttrs', 'mapAttrs', 'match',
    'mul', 'nixPath', 'nixVersion', 'parseDrvName', 'partition', 'path', 'pathExists', 'readDir', 'readFile', 'replaceStrings', 'seq', 'sort',
    'split', 'splitVersion', 'storeDir', 'storePath', 'stringLength', 'sub', 'substring', 'tail', 'toFile', 'toJSON', 'toPath', 'toXML',
    'trace', 'tryEval', 'typeOf', 'unsafeDiscardOutputDependency', 'unsafeDiscardStringContext', 'unsafeGetAttrPos', 'zipAttrsWith',
    // added after Nix 2.8
    'addDrvOutputDependencies', 'convertHash', 'fetchClosure', 'flakeRefToString', 'getFlake', 'outputOf', 'parseFlakeRef', 'readFileType',
    'traceVerbose', 'warn',
  ].map((n) => `__${n}`),
  'break',
])

interface StaticScope {
  names: ReadonlySet<string>
  withScope: boolean
  up: StaticScope | null
}

function checkVariables(root: NixExpr) {
  const base: StaticScope = {names: GLOBAL_NAMES, withScope: false, up: null}
  const scope = (names: Iterable<string>, up: StaticScope): StaticScope => ({names: new Set(names), withScope: false, up})
  const visitName = (a: AttrName, env: StaticScope) => a.expr && visit(a.expr, env)
  const visitShape = (shape: AttrShape, env: StaticScope, inner: StaticScope) => {
    const visitValue = (v: ShapeValue) => (v.kind === 'expr' ? visit(v.expr, inner) : visitShape(v.shape, inner, inner))
    for (const entry of shape.entries.values()) {
      // `inherit x;` reads x from the enclosing scope, even in `rec` and `let`
      if (entry.inherit && !entry.inherit.from) visit(entry.value.kind === 'expr' ? entry.value.expr : root, env)
      else visitValue(entry.value)
    }
    for (const d of shape.dynamic) {
      visitName(d.name, inner)
      visitValue(d.value)
    }
  }
  const visit = (e: NixExpr, env: StaticScope): void => {
    switch (e.kind) {
      case 'var': {
        if (e.name === '__curPos') return
        let withSeen = false
        for (let s: StaticScope | null = env; s; s = s.up) {
          if (s.withScope) withSeen = true
          else if (s.names.has(e.name)) return
        }
        if (!withSeen) throw new ParseError(`undefined variable '${e.name}'`, e.start)
        return
      }
      case 'string':
      case 'path':
        for (const p of e.parts) if (p.kind === 'interpolation') visit(p.expr, env)
        return
      case 'select':
        visit(e.expr, env)
        for (const a of e.path) visitName(a, env)
        if (e.default) visit(e.default, env)
        return
      case 'hasAttr':
        visit(e.expr, env)
        for (const a of e.path) visitName(a, env)
        return
      case 'attrs':
        visitShape(e.shape, env, e.rec ? scope(e.shape.entries.keys(), env) : env)
        return
      case 'legacyLet':
      case 'let': {
        const inner = scope(e.shape.entries.keys(), env)
        visitShape(e.shape, env, inner)
        if (e.kind === 'let') visit(e.body, inner)
        return
      }
      case 'list':
        for (const item of e.items) visit(item, env)
        return
      case 'lambda': {
        const names = [...(e.param ? [e.param.name] : []), ...(e.formals?.entries.map((f) => f.name) ?? [])]
        const inner = scope(names, env)
        for (const f of e.formals?.entries ?? []) if (f.default) visit(f.default, inner)
        visit(e.body, inner)
        return
      }
      case 'apply':
        visit(e.fn, env)
        visit(e.arg, env)
        return
      case 'with':
        visit(e.env, env)
        visit(e.body, {names: new Set(), withScope: true, up: env})
        return
      case 'assert':
        visit(e.cond, env)
        visit(e.body, env)
        return
      case 'if':
        visit(e.cond, env)
        visit(e.then, env)
        visit(e.else, env)
        return
      case 'unary':
        visit(e.operand, env)
        return
      case 'binary':
        visit(e.left, env)
        visit(e.right, env)
        return
      case 'paren':
        visit(e.expr, env)
        return
      default:
        return
    }
  }
  visit(root, base)
}

// ---------------------------------------------------------------------------------------------
// Entry points and helpers for readers of the tree

/** 1-based line and column of an offset (CR, LF and CR/LF each end a line, as in Nix). */
export function lineColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 13 && text.charCodeAt(i + 1) === 10) continue
    if (c === 10 || c === 13) {
      line++
      lineStart = i + 1
    }
  }
  return {line, column: offset - lineStart + 1}
}

export function parseNix(text: string): NixParseResult {
  let comments: NixComment[] = []
  try {
    const lexed = lex(text)
    comments = lexed.comments
    const ast = new Parser(lexed.tokens).parseFile()
    checkVariables(ast)
    return {ok: true, ast, comments}
  } catch (error) {
    if (error instanceof ParseError || error instanceof LexError) {
      return {ok: false, error: {...lineColumn(text, error.offset), message: error.message, offset: error.offset}, comments}
    }
    // a bug here must not take the run down: report it as the file's problem
    const message = error instanceof RangeError ? 'the file nests too deeply to read' : `could not read the file: ${String(error)}`
    return {ok: false, error: {line: 1, column: 1, message, offset: 0}, comments}
  }
}

/** The direct sub-expressions of a node, in source order. */
export function children(e: NixExpr): NixExpr[] {
  const names = (path: readonly AttrName[]) => path.flatMap((a) => (a.expr ? [a.expr] : []))
  const bindingChildren = (bindings: readonly Binding[]) =>
    bindings.flatMap((b) => (b.kind === 'binding' ? [...names(b.path), b.value] : [...(b.from ? [b.from] : []), ...names(b.names)]))
  switch (e.kind) {
    case 'string':
    case 'path':
      return e.parts.flatMap((p) => (p.kind === 'interpolation' ? [p.expr] : []))
    case 'select':
      return [e.expr, ...names(e.path), ...(e.default ? [e.default] : [])]
    case 'hasAttr':
      return [e.expr, ...names(e.path)]
    case 'attrs':
    case 'legacyLet':
      return bindingChildren(e.bindings)
    case 'let':
      return [...bindingChildren(e.bindings), e.body]
    case 'list':
      return e.items
    case 'lambda':
      return [...(e.formals?.entries.flatMap((f) => (f.default ? [f.default] : [])) ?? []), e.body]
    case 'apply':
      return [e.fn, e.arg]
    case 'with':
      return [e.env, e.body]
    case 'assert':
      return [e.cond, e.body]
    case 'if':
      return [e.cond, e.then, e.else]
    case 'unary':
      return [e.operand]
    case 'binary':
      return [e.left, e.right]
    case 'paren':
      return [e.expr]
    default:
      return []
  }
}

/** The chain of nodes from the root down to the innermost node that spans [start, end). */
export function ancestorsOf(root: NixExpr, start: number, end: number): NixExpr[] {
  const chain: NixExpr[] = []
  let node: NixExpr | undefined = root
  while (node) {
    chain.push(node)
    node = children(node).find((c) => c.start <= start && end <= c.end)
  }
  return chain
}
