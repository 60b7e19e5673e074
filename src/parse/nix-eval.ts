/**
 * A lazy, partial Nix evaluator for what dotfiles write around `home.file`: enough builtins and
 * `lib` to follow `let` helpers, `map`/`listToAttrs` generators and `builtins.readDir`, and an
 * `unknown` value for everything else (a module argument, `pkgs`, an import). Unknown in, unknown
 * out: it never makes up a known value. It never throws, and step and depth limits stop it.
 */
import path from 'node:path'

import {GLOBAL_NAMES, type AttrName, type AttrShape, type NixExpr, type NixExprOf, type ShapeValue} from './nix.js'

// ---------------------------------------------------------------------------------------------
// Values

/** Something we cannot know: `names` are the expressions it came from, in the user's words. */
export interface Unknown {
  kind: 'unknown'
  names: string[]
  /** Whatever it is, it lives in the Nix store (`pkgs.…`, a flake input, a derivation). */
  store: boolean
  /** Why, when no name is to blame: "the evaluation limit was reached". */
  reasons?: string[]
}

/** A piece of a string: known text, or an unknown part (`${dotfiles}`). */
export type StringPiece = string | Unknown

export interface NixStringValue {
  kind: 'string'
  pieces: StringPiece[]
  /** Has store context: it names a store path (`"${./x}"`, `"${self}/x"`, `"${pkgs.hello}"`). */
  context: boolean
  /** Some text came from a path literal turned into a string (`toString ./.`). */
  fromPath?: boolean
}

export interface AttrEntry {
  thunk: Thunk
  /** Offset where the key is written, or of the expression that generated it. */
  pos: number | null
  /** Made by a generator (`listToAttrs`, `genAttrs`, `mapAttrs'`…) rather than written as a key. */
  generated?: boolean
}

export interface NixAttrsValue {
  kind: 'attrs'
  entries: Map<string, AttrEntry>
  /** Other keys may exist, with unknown values (a module argument, a set with a dynamic key we could not compute). */
  more?: Unknown
}

export type BuiltinImpl = (ev: NixEvaluator, args: Thunk[], site: number) => Value

export type Value =
  | NixStringValue
  | {kind: 'path'; path: string}
  | {kind: 'int'; value: number}
  | {kind: 'float'; value: number}
  | {kind: 'bool'; value: boolean}
  | {kind: 'null'}
  | {kind: 'list'; items: Thunk[]}
  | NixAttrsValue
  | {kind: 'lambda'; node: NixExprOf<'lambda'>; env: Env}
  | {kind: 'builtin'; name: string; arity: number; args: Thunk[]; impl: BuiltinImpl}
  /** What home-manager's `config.lib.file.mkOutOfStoreSymlink` returns: a link to `target`, outside the store. */
  | {kind: 'outOfStoreLink'; target: Value}
  | Unknown

export const unknown = (names: readonly string[], store = false): Unknown => ({kind: 'unknown', names: [...new Set(names)], store})

/** Unknown for a reason rather than because of a name. */
export const cannot = (reason: string): Unknown => ({kind: 'unknown', names: [], store: false, reasons: [reason]})

/** Several unknowns (or none) as one. */
function mergeUnknown(...values: readonly Value[]): Unknown {
  const us = values.filter((v): v is Unknown => v.kind === 'unknown')
  const reasons = [...new Set(us.flatMap((u) => u.reasons ?? []))]
  return {
    ...unknown(
      us.flatMap((u) => u.names),
      us.some((u) => u.store),
    ),
    ...(reasons.length ? {reasons} : {}),
  }
}

export const str = (text: string, context = false): NixStringValue => ({kind: 'string', pieces: text === '' ? [] : [text], context})
const bool = (value: boolean): Value => ({kind: 'bool', value})
const NULL: Value = {kind: 'null'}

/** The text of a string when every piece is known. */
export function knownText(v: NixStringValue): string | null {
  let s = ''
  for (const p of v.pieces) {
    if (typeof p !== 'string') return null
    s += p
  }
  return s
}

function concatPieces(a: readonly StringPiece[], b: readonly StringPiece[]): StringPiece[] {
  const out = [...a]
  for (const p of b) {
    const last = out[out.length - 1]
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p
    else if (p !== '') out.push(p)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Thunks and environments

export class Thunk {
  private state: 'pending' | 'forcing' | 'done' = 'pending'
  private value: Value | undefined

  private constructor(
    private readonly compute: ((ev: NixEvaluator) => Value) | null,
    value?: Value,
  ) {
    if (value) {
      this.value = value
      this.state = 'done'
    }
  }

  static of(value: Value): Thunk {
    return new Thunk(null, value)
  }

  static expr(expr: NixExpr, env: Env): Thunk {
    return new Thunk((ev) => ev.eval(expr, env))
  }

  static lazy(compute: (ev: NixEvaluator) => Value): Thunk {
    return new Thunk(compute)
  }

  force(ev: NixEvaluator): Value {
    if (this.state === 'done') return this.value!
    // a value that needs itself: Nix's "infinite recursion"
    if (this.state === 'forcing') return cannot('a value needs itself (infinite recursion)')
    this.state = 'forcing'
    let value: Value
    try {
      value = this.compute!(ev)
    } finally {
      this.state = 'pending'
    }
    this.value = value
    this.state = 'done'
    return value
  }
}

/** A scope: variables, or a `with` whose set is searched after every lexical scope. */
export interface Env {
  vars: Map<string, Thunk> | null
  withSet: Thunk | null
  up: Env | null
}

// ---------------------------------------------------------------------------------------------
// The evaluator

/** What the evaluator may ask about the machine: only reads. */
export interface EvalHost {
  /** The .nix file being read (relative paths resolve against its folder). */
  file: string
  home: string
  /** The dotfiles repository: an unknown root followed by a path that exists here is taken as this folder. */
  repo: string
  readDir(absolutePath: string): Record<string, 'directory' | 'regular' | 'symlink' | 'unknown'> | null
  exists(absolutePath: string): boolean
  /**
   * Unknown names already seen standing for the repository root (elsewhere in the repository's
   * Nix files): taken as it even before a path that exists follows them, so a declaration whose
   * source was deleted from the repository still names that source.
   */
  rootNames?: ReadonlySet<string>
}

export interface EvalLimits {
  steps: number
  depth: number
}

const DEFAULT_LIMITS: EvalLimits = {steps: 200_000, depth: 300}

export class NixEvaluator {
  steps = 0
  private depth = 0
  /** The step or depth limit was hit: some values are unknown because of it. */
  limitHit = false
  /** Unknown names taken as the repository root because the path after them exists there (`${dotfiles}/config/codex`). */
  readonly repoRootNames = new Set<string>()
  readonly base: Env
  readonly lib: NixAttrsValue

  constructor(
    readonly host: EvalHost,
    private readonly limits: EvalLimits = DEFAULT_LIMITS,
  ) {
    const record = builtinRecord()
    const builtinsSet = attrsOf(record, unknown(['builtins']))
    const vars = new Map<string, Thunk>()
    for (const name of GLOBAL_NAMES) {
      const key = name.startsWith('__') ? name.slice(2) : name
      const entry = builtinsSet.entries.get(key)
      vars.set(name, entry ? entry.thunk : Thunk.of(unknown([name])))
    }
    vars.set('builtins', Thunk.of(builtinsSet))
    this.base = {vars, withSet: null, up: null}
    this.lib = makeLib(record)
  }

  /** Forces a value; never throws. */
  force(t: Thunk): Value {
    try {
      return t.force(this)
    } catch (error) {
      return this.failure(error)
    }
  }

  private failure(error: unknown): Unknown {
    if (error instanceof RangeError) this.limitHit = true
    return cannot(error instanceof RangeError ? 'the evaluation nests too deeply' : 'the evaluation failed')
  }

  eval(e: NixExpr, env: Env): Value {
    if (++this.steps > this.limits.steps || this.depth >= this.limits.depth) {
      this.limitHit = true
      return cannot('the evaluation limit was reached')
    }
    this.depth++
    try {
      return this.evalNode(e, env)
    } catch (error) {
      return this.failure(error)
    } finally {
      this.depth--
    }
  }

  private evalNode(e: NixExpr, env: Env): Value {
    switch (e.kind) {
      case 'int':
        return {kind: 'int', value: e.value}
      case 'float':
        return {kind: 'float', value: e.value}
      case 'uri':
        return str(e.value)
      case 'searchPath':
        return unknown([`<${e.name}>`], true)
      case 'string':
        return this.interpolate(e.parts, env)
      case 'path':
        return this.pathLiteral(e, env)
      case 'var':
        return e.name === '__curPos' ? unknown(['__curPos']) : this.force(this.lookup(e.name, env))
      case 'paren':
        return this.eval(e.expr, env)
      case 'select':
        return this.select(e, env)
      case 'hasAttr':
        return this.hasAttrPath(this.eval(e.expr, env), e.path, env)
      case 'attrs':
        return e.rec ? this.recAttrs(e.shape, env).attrs : this.attrsFromShape(e.shape, env, env)
      case 'legacyLet': {
        const {attrs} = this.recAttrs(e.shape, env)
        const body = attrs.entries.get('body')
        return body ? this.force(body.thunk) : cannot('`let { … }` has no body')
      }
      case 'let':
        return this.eval(e.body, this.letEnv(e.shape, env))
      case 'list':
        return {kind: 'list', items: e.items.map((item) => Thunk.expr(item, env))}
      case 'lambda':
        return {kind: 'lambda', node: e, env}
      case 'apply':
        return this.call(this.eval(e.fn, env), Thunk.expr(e.arg, env), e.start)
      case 'with':
        return this.eval(e.body, {vars: null, withSet: Thunk.expr(e.env, env), up: env})
      case 'assert': {
        const cond = this.eval(e.cond, env)
        return cond.kind === 'bool' && !cond.value ? cannot('an assertion fails') : this.eval(e.body, env)
      }
      case 'if': {
        const cond = this.eval(e.cond, env)
        if (cond.kind === 'bool') return this.eval(cond.value ? e.then : e.else, env)
        return cond.kind === 'unknown' ? mergeUnknown(cond) : cannot('a condition is not a boolean')
      }
      case 'unary': {
        const v = this.eval(e.operand, env)
        if (e.op === '!') return v.kind === 'bool' ? bool(!v.value) : mergeUnknown(v)
        return v.kind === 'int' || v.kind === 'float' ? {kind: v.kind, value: -v.value} : mergeUnknown(v)
      }
      case 'binary':
        return this.binary(e, env)
    }
  }

  // --- variables and scopes

  lookup(name: string, env: Env): Thunk {
    const withs: Thunk[] = []
    for (let s: Env | null = env; s; s = s.up) {
      if (s.withSet) withs.push(s.withSet)
      else {
        const t = s.vars?.get(name)
        if (t) return t
      }
    }
    for (const w of withs) {
      const set = this.force(w)
      if (set.kind === 'attrs') {
        const entry = set.entries.get(name)
        if (entry) return entry.thunk
        if (set.more) return Thunk.of(unknown([name], set.more.store))
      } else if (set.kind === 'unknown') return Thunk.of(unknown([name], set.store))
    }
    return Thunk.of(unknown([name]))
  }

  /** A thunk for a value in an attribute set's shape (an expression, or a set made of dotted paths). */
  private shapeThunk(value: ShapeValue, env: Env): Thunk {
    if (value.kind === 'expr') return Thunk.expr(value.expr, env)
    return Thunk.lazy(() => this.attrsFromShape(value.shape, env, env))
  }

  /** A non-recursive set: values see `env`, `inherit x;` sees `outer`. */
  attrsFromShape(shape: AttrShape, env: Env, outer: Env): NixAttrsValue {
    const entries = new Map<string, AttrEntry>()
    for (const [name, entry] of shape.entries) {
      const thunk = entry.inherit && !entry.inherit.from ? this.shapeThunk(entry.value, outer) : this.shapeThunk(entry.value, env)
      entries.set(name, {thunk, pos: entry.pos})
    }
    const attrs: NixAttrsValue = {kind: 'attrs', entries}
    this.addDynamic(attrs, shape, env)
    return attrs
  }

  private addDynamic(attrs: NixAttrsValue, shape: AttrShape, env: Env) {
    for (const d of shape.dynamic) {
      const key = this.attrName(d.name, env)
      if (typeof key === 'string') {
        if (!attrs.entries.has(key)) attrs.entries.set(key, {thunk: this.shapeThunk(d.value, env), pos: d.name.start})
      } else attrs.more = mergeUnknown(key, ...(attrs.more ? [attrs.more] : []))
    }
  }

  /** `rec { ... }`: values see every static name of the set. */
  recAttrs(shape: AttrShape, env: Env): {attrs: NixAttrsValue; env: Env} {
    const vars = new Map<string, Thunk>()
    const inner: Env = {vars, withSet: null, up: env}
    const entries = new Map<string, AttrEntry>()
    for (const [name, entry] of shape.entries) {
      const thunk = entry.inherit && !entry.inherit.from ? this.shapeThunk(entry.value, env) : this.shapeThunk(entry.value, inner)
      vars.set(name, thunk)
      entries.set(name, {thunk, pos: entry.pos})
    }
    const attrs: NixAttrsValue = {kind: 'attrs', entries}
    this.addDynamic(attrs, shape, inner)
    return {attrs, env: inner}
  }

  letEnv(shape: AttrShape, env: Env): Env {
    return this.recAttrs(shape, env).env
  }

  withEnv(setExpr: NixExpr, env: Env): Env {
    return {vars: null, withSet: Thunk.expr(setExpr, env), up: env}
  }

  /** The scope inside a lambda that nobody called: each argument is `special(name)`, its default, or unknown. */
  lambdaEnv(node: NixExprOf<'lambda'>, env: Env, special: (name: string) => Value | undefined): Env {
    const vars = new Map<string, Thunk>()
    const inner: Env = {vars, withSet: null, up: env}
    if (node.param) vars.set(node.param.name, Thunk.of(special(node.param.name) ?? unknown([node.param.name])))
    for (const f of node.formals?.entries ?? []) {
      const s = special(f.name)
      vars.set(f.name, s ? Thunk.of(s) : f.default ? Thunk.expr(f.default, inner) : Thunk.of(unknown([f.name])))
    }
    return inner
  }

  /** An attribute name: its text, or unknown. */
  attrName(a: AttrName, env: Env): string | Unknown {
    if (a.name !== null) return a.name
    const v = this.eval(a.expr!, env)
    if (v.kind === 'string') {
      const text = knownText(v)
      return text ?? mergeUnknown(...v.pieces.filter((p): p is Unknown => typeof p !== 'string'))
    }
    return v.kind === 'unknown' ? v : cannot('an attribute name is not a string')
  }

  // --- selection

  private select(e: NixExprOf<'select'>, env: Env): Value {
    let v = this.eval(e.expr, env)
    for (const a of e.path) {
      const name = this.attrName(a, env)
      if (typeof name !== 'string') return name
      const next = this.getAttr(v, name)
      if (next === null) return e.default ? this.eval(e.default, env) : cannot(`the attribute '${name}' is missing`)
      v = next
    }
    return v
  }

  /** `v.name`: its value, unknown when v is (or may hold more than we know), null when it surely lacks it. */
  getAttr(v: Value, name: string): Value | null {
    if (v.kind === 'attrs') {
      const entry = v.entries.get(name)
      if (entry) return this.force(entry.thunk)
      return v.more ? selectUnknown(v.more, name) : null
    }
    if (v.kind === 'unknown') return selectUnknown(v, name)
    return null
  }

  private hasAttrPath(v: Value, attrPath: readonly AttrName[], env: Env): Value {
    for (const a of attrPath) {
      const name = this.attrName(a, env)
      if (typeof name !== 'string') return name
      if (v.kind === 'unknown') return v
      if (v.kind !== 'attrs') return bool(false)
      const entry = v.entries.get(name)
      if (!entry) return v.more ? v.more : bool(false)
      v = this.force(entry.thunk)
    }
    return bool(true)
  }

  // --- strings and paths

  /** String coercion as Nix does it for `"${x}"` (copyToStore) and `toString x` (more types). */
  coerceToString(v: Value, opts: {copyToStore: boolean; toStringRules?: boolean}): NixStringValue | Unknown {
    switch (v.kind) {
      case 'string':
        return v
      case 'path':
        return opts.copyToStore ? str(v.path, true) : {...str(v.path), fromPath: true}
      case 'unknown':
        return {kind: 'string', pieces: [v], context: v.store}
      case 'outOfStoreLink':
        return unknown(['mkOutOfStoreSymlink'], true)
      case 'attrs': {
        const toStr = v.entries.get('__toString')
        if (toStr) return this.coerceToString(this.call(this.force(toStr.thunk), Thunk.of(v), 0), opts)
        const outPath = v.entries.get('outPath')
        if (outPath) return this.coerceToString(this.force(outPath.thunk), opts)
        return v.more ? selectUnknown(v.more, 'outPath') : cannot('a set is used as a string')
      }
      case 'int':
      case 'float':
        return opts.toStringRules ? str(String(v.value)) : cannot('a number is used in a string')
      case 'bool':
        return opts.toStringRules ? str(v.value ? '1' : '') : cannot('a boolean is used in a string')
      case 'null':
        return opts.toStringRules ? str('') : cannot('null is used in a string')
      case 'list': {
        if (!opts.toStringRules) return cannot('a list is used in a string')
        let out: NixStringValue = str('')
        v.items.forEach((item, i) => {
          const s = this.coerceToString(this.force(item), opts)
          const piece: NixStringValue = s.kind === 'unknown' ? {kind: 'string', pieces: [s], context: s.store} : s
          out = joinStrings(i === 0 ? out : joinStrings(out, str(' ')), piece)
        })
        return out
      }
      default:
        return cannot('a function is used in a string')
    }
  }

  private interpolate(parts: NixExprOf<'string'>['parts'], env: Env): NixStringValue {
    let out: NixStringValue = str('')
    for (const part of parts) {
      if (part.kind === 'text') out = joinStrings(out, str(part.value))
      else {
        const s = this.coerceToString(this.eval(part.expr, env), {copyToStore: true})
        out = joinStrings(out, s.kind === 'unknown' ? {kind: 'string', pieces: [s], context: s.store} : s)
      }
    }
    return out
  }

  private pathLiteral(e: NixExprOf<'path'>, env: Env): Value {
    const first = e.parts[0]
    if (!first || first.kind !== 'text') return cannot('a path could not be read')
    let text = first.value
    for (const part of e.parts.slice(1)) {
      if (part.kind === 'text') {
        text += part.value
        continue
      }
      const s = this.coerceToString(this.eval(part.expr, env), {copyToStore: false})
      const t = s.kind === 'string' ? knownText(s) : null
      if (t === null) return mergeUnknown(s.kind === 'unknown' ? s : mergeUnknown(...s.pieces.filter((p): p is Unknown => typeof p !== 'string')))
      text += t
    }
    return {kind: 'path', path: this.absolutePath(text)}
  }

  absolutePath(text: string): string {
    if (text.startsWith('~/')) return canonPath(path.posix.join(this.host.home, text.slice(2)))
    if (text.startsWith('/')) return canonPath(text)
    return canonPath(path.posix.join(path.dirname(this.host.file), text))
  }

  /**
   * Where a path-like value points: a path, an absolute string, or an unknown root followed by a
   * path that exists in the repository (`"${dotfiles}/skills"` is <repo>/skills).
   */
  location(v: Value): {kind: 'location'; path: string; store: boolean} | Unknown {
    if (v.kind === 'path') return {kind: 'location', path: v.path, store: false}
    if (v.kind === 'attrs' || v.kind === 'unknown') {
      const s = this.coerceToString(v, {copyToStore: false})
      return s.kind === 'string' ? this.location(s) : s
    }
    if (v.kind !== 'string') return cannot('a value is not a path')
    const text = knownText(v)
    if (text !== null) return text.startsWith('/') ? {kind: 'location', path: canonPath(text), store: v.context} : cannot(`the path "${text}" is relative`)
    const [head, ...rest] = v.pieces
    const restText = rest.every((p) => typeof p === 'string') ? rest.join('') : null
    if (head && typeof head !== 'string' && restText !== null && restText.startsWith('/')) {
      const candidate = canonPath(path.posix.join(this.host.repo, restText))
      if (this.host.exists(candidate) || head.names.some((name) => this.host.rootNames?.has(name))) {
        for (const name of head.names) this.repoRootNames.add(name)
        return {kind: 'location', path: candidate, store: v.context}
      }
    }
    return mergeUnknown(...v.pieces.filter((p): p is Unknown => typeof p !== 'string'))
  }

  // --- operators

  private binary(e: NixExprOf<'binary'>, env: Env): Value {
    const {op} = e
    if (op === '&&' || op === '||' || op === '->') {
      const l = this.eval(e.left, env)
      // short circuit as Nix does; an unknown left side still lets a decisive right side decide
      const decisive = op === '||'
      if (l.kind === 'bool') {
        if (op === '->' ? !l.value : l.value === decisive) return bool(op === '->' ? true : decisive)
        const r = this.eval(e.right, env)
        return r.kind === 'bool' ? r : mergeUnknown(r)
      }
      const r = this.eval(e.right, env)
      if (r.kind === 'bool' && (op === '->' ? r.value : r.value === decisive)) return bool(op === '->' ? true : decisive)
      return mergeUnknown(l, r)
    }
    const l = this.eval(e.left, env)
    if (op === '//') return this.update(l, this.eval(e.right, env))
    if (op === '++') {
      const r = this.eval(e.right, env)
      return l.kind === 'list' && r.kind === 'list' ? (l.items.length + r.items.length > MAX_ITEMS ? cannot('a list grows too long') : {kind: 'list', items: [...l.items, ...r.items]}) : mergeUnknown(l, r)
    }
    if (op === '==' || op === '!=') {
      const same = this.equal(l, this.eval(e.right, env))
      return same === null ? cannot('a comparison involves an unknown value') : bool(op === '==' ? same : !same)
    }
    const r = this.eval(e.right, env)
    if (op === '+') return this.plus(l, r)
    if (op === '<' || op === '>' || op === '<=' || op === '>=') return this.compare(op, l, r)
    return arithmetic(op, l, r)
  }

  update(l: Value, r: Value): Value {
    if (l.kind !== 'attrs' || r.kind !== 'attrs') {
      if (l.kind === 'attrs' && r.kind === 'unknown') return {kind: 'attrs', entries: new Map([...l.entries].map(([k, v]) => [k, {...v, thunk: Thunk.of(r)}])), more: r}
      return mergeUnknown(l, r)
    }
    const entries = new Map<string, AttrEntry>()
    // keys the right side may hold without our knowing: the left side's values are no longer sure
    for (const [k, v] of l.entries) entries.set(k, r.more ? {...v, thunk: Thunk.of(selectUnknown(r.more, k))} : v)
    for (const [k, v] of r.entries) entries.set(k, v)
    const more = r.more ?? l.more
    return {kind: 'attrs', entries, ...(more ? {more} : {})}
  }

  plus(l: Value, r: Value): Value {
    if ((l.kind === 'int' || l.kind === 'float') && (r.kind === 'int' || r.kind === 'float')) return arithmetic('+', l, r)
    if (l.kind === 'path') {
      const s = r.kind === 'path' ? str(r.path) : this.coerceToString(r, {copyToStore: false})
      const t = s.kind === 'string' ? knownText(s) : null
      if (t === null) return mergeUnknown(r, ...(s.kind === 'string' ? s.pieces.filter((p): p is Unknown => typeof p !== 'string') : []))
      return {kind: 'path', path: canonPath(l.path + t)}
    }
    if (l.kind === 'string' || l.kind === 'attrs' || (l.kind === 'unknown' && (r.kind === 'string' || r.kind === 'path'))) {
      const a = this.coerceToString(l, {copyToStore: true})
      const b = this.coerceToString(r, {copyToStore: true})
      const asString = (s: NixStringValue | Unknown): NixStringValue => (s.kind === 'unknown' ? {kind: 'string', pieces: [s], context: s.store} : s)
      return joinStrings(asString(a), asString(b))
    }
    return mergeUnknown(l, r)
  }

  private compare(op: '<' | '>' | '<=' | '>=', l: Value, r: Value): Value {
    let a: number | string | null = null
    let b: number | string | null = null
    if ((l.kind === 'int' || l.kind === 'float') && (r.kind === 'int' || r.kind === 'float')) {
      a = l.value
      b = r.value
    } else if (l.kind === 'string' && r.kind === 'string') {
      a = knownText(l)
      b = knownText(r)
    } else if (l.kind === 'path' && r.kind === 'path') {
      a = l.path
      b = r.path
    }
    if (a === null || b === null) return mergeUnknown(l, r)
    return bool(op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b)
  }

  /** Deep equality; null when it depends on something unknown. */
  equal(a: Value, b: Value): boolean | null {
    if (a.kind === 'unknown' || b.kind === 'unknown') return null
    if ((a.kind === 'int' || a.kind === 'float') && (b.kind === 'int' || b.kind === 'float')) return a.value === b.value
    if (a.kind !== b.kind) return a.kind === 'string' && b.kind === 'attrs' ? null : false
    switch (a.kind) {
      case 'string': {
        const x = knownText(a)
        const y = knownText(b as NixStringValue)
        return x === null || y === null ? null : x === y
      }
      case 'path':
        return a.path === (b as {path: string}).path
      case 'bool':
        return a.value === (b as {value: boolean}).value
      case 'null':
        return true
      case 'list': {
        const other = b as {items: Thunk[]}
        if (a.items.length !== other.items.length) return false
        let result: boolean | null = true
        for (let i = 0; i < a.items.length; i++) {
          const same = this.equal(this.force(a.items[i]!), this.force(other.items[i]!))
          if (same === false) return false
          if (same === null) result = null
        }
        return result
      }
      case 'attrs': {
        const other = b as NixAttrsValue
        if (a.more || other.more) return null
        if (a.entries.size !== other.entries.size) return false
        let result: boolean | null = true
        for (const [k, v] of a.entries) {
          const w = other.entries.get(k)
          if (!w) return false
          const same = this.equal(this.force(v.thunk), this.force(w.thunk))
          if (same === false) return false
          if (same === null) result = null
        }
        return result
      }
      default:
        return false
    }
  }

  // --- functions

  /** Applies a function value to an argument; `site` is where the call is written (for generated keys). */
  call(fn: Value, arg: Thunk, site: number): Value {
    if (++this.steps > this.limits.steps || this.depth >= this.limits.depth) {
      this.limitHit = true
      return cannot('the evaluation limit was reached')
    }
    this.depth++
    try {
      return this.callNow(fn, arg, site)
    } catch (error) {
      return this.failure(error)
    } finally {
      this.depth--
    }
  }

  private callNow(fn: Value, arg: Thunk, site: number): Value {
    switch (fn.kind) {
      case 'lambda':
        return this.callLambda(fn.node, fn.env, arg)
      case 'builtin': {
        const args = [...fn.args, arg]
        if (args.length < fn.arity) return {...fn, args}
        return fn.impl(this, args, site)
      }
      case 'attrs': {
        const functor = fn.entries.get('__functor')
        if (functor) return this.call(this.call(this.force(functor.thunk), Thunk.of(fn), site), arg, site)
        return fn.more ? selectUnknown(fn.more, '__functor') : cannot('a set is called as a function')
      }
      case 'unknown':
        return unknown(fn.names, fn.store)
      default:
        return cannot('a value is called as a function')
    }
  }

  private callLambda(node: NixExprOf<'lambda'>, env: Env, arg: Thunk): Value {
    const vars = new Map<string, Thunk>()
    const inner: Env = {vars, withSet: null, up: env}
    if (node.param) vars.set(node.param.name, arg)
    if (node.formals) {
      const given = this.force(arg)
      for (const f of node.formals.entries) {
        const entry = given.kind === 'attrs' ? given.entries.get(f.name) : undefined
        if (entry) vars.set(f.name, entry.thunk)
        else if (given.kind === 'attrs' && !given.more && f.default) vars.set(f.name, Thunk.expr(f.default, inner))
        else if (given.kind === 'attrs' && given.more) vars.set(f.name, Thunk.of(selectUnknown(given.more, f.name)))
        else if (given.kind === 'unknown') vars.set(f.name, Thunk.of(selectUnknown(given, f.name)))
        else vars.set(f.name, Thunk.of(cannot(`the argument '${f.name}' is missing`)))
      }
    }
    return this.eval(node.body, inner)
  }
}

/** `x.name` where x is unknown: unknown, named `x.name` when x was a plain name. */
function selectUnknown(u: Unknown, name: string): Unknown {
  const plain = u.names.length === 1 && /^[A-Za-z_][\w'-]*(\.[\w'"-]+)*$/.test(u.names[0]!)
  const key = /^[A-Za-z_][\w'-]*$/.test(name) ? name : JSON.stringify(name)
  return unknown(plain ? [`${u.names[0]}.${key}`] : u.names, u.store)
}

/** Longest list and string we build: doubling in a loop must not eat the memory a step limit cannot see. */
const MAX_ITEMS = 100_000
const MAX_CHARS = 1_000_000

const pieceLength = (pieces: readonly StringPiece[]) => pieces.reduce((n, p) => n + (typeof p === 'string' ? p.length : 1), 0)

function joinStrings(a: NixStringValue, b: NixStringValue): NixStringValue {
  const fromPath = a.fromPath || b.fromPath
  const context = a.context || b.context
  if (pieceLength(a.pieces) + pieceLength(b.pieces) > MAX_CHARS) return {kind: 'string', pieces: [cannot('a string grows too long')], context}
  return {kind: 'string', pieces: concatPieces(a.pieces, b.pieces), context, ...(fromPath ? {fromPath} : {})}
}

function listOf(items: Thunk[]): Value {
  return items.length > MAX_ITEMS ? cannot('a list grows too long') : {kind: 'list', items}
}

/** Nix's canonPath: no `.` or `..` segments, no double or trailing slashes. */
export function canonPath(p: string): string {
  const out = path.posix.normalize(p)
  return out.length > 1 && out.endsWith('/') ? out.slice(0, -1) : out
}

function arithmetic(op: string, l: Value, r: Value): Value {
  if ((l.kind !== 'int' && l.kind !== 'float') || (r.kind !== 'int' && r.kind !== 'float')) return mergeUnknown(l, r)
  const float = l.kind === 'float' || r.kind === 'float'
  let value: number
  if (op === '+') value = l.value + r.value
  else if (op === '-') value = l.value - r.value
  else if (op === '*') value = l.value * r.value
  else {
    if (r.value === 0) return cannot('a division by zero')
    value = float ? l.value / r.value : Math.trunc(l.value / r.value)
  }
  return {kind: float ? 'float' : 'int', value}
}

// ---------------------------------------------------------------------------------------------
// builtins and lib

type Fn = (ev: NixEvaluator, args: Thunk[], site: number) => Value

const builtin = (name: string, arity: number, impl: Fn): Value => ({kind: 'builtin', name, arity, args: [], impl})

function attrsOf(record: Record<string, Value>, more?: Unknown): NixAttrsValue {
  const entries = new Map<string, AttrEntry>()
  for (const [k, v] of Object.entries(record)) entries.set(k, {thunk: Thunk.of(v), pos: null})
  return {kind: 'attrs', entries, ...(more ? {more} : {})}
}

const f = (ev: NixEvaluator, t: Thunk) => ev.force(t)

function asList(ev: NixEvaluator, t: Thunk): Thunk[] | Unknown {
  const v = f(ev, t)
  if (v.kind === 'list') return v.items
  return v.kind === 'unknown' ? v : cannot('a value is not a list')
}

function asText(ev: NixEvaluator, v: Value): string | Unknown {
  const s = ev.coerceToString(v, {copyToStore: false})
  if (s.kind === 'unknown') return s
  return knownText(s) ?? mergeUnknown(...s.pieces.filter((p): p is Unknown => typeof p !== 'string'))
}

function sortedKeys(a: NixAttrsValue): string[] {
  return [...a.entries.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
}

/** `[ { name, value } ]` → a set; the first of two equal names wins, as in Nix. */
function listToAttrs(ev: NixEvaluator, items: readonly Thunk[], site: number): Value {
  const entries = new Map<string, AttrEntry>()
  let more: Unknown | undefined
  for (const item of items) {
    const pair = f(ev, item)
    const name = pair.kind === 'attrs' ? ev.getAttr(pair, 'name') : pair
    const key = name === null ? cannot('a list item has no name') : asText(ev, name)
    if (typeof key !== 'string') {
      more = mergeUnknown(key, ...(more ? [more] : []))
      continue
    }
    if (entries.has(key) || pair.kind !== 'attrs') continue
    const value = pair.entries.get('value')
    entries.set(key, {thunk: value ? value.thunk : Thunk.of(cannot(`${key} has no value`)), pos: site, generated: true})
  }
  return {kind: 'attrs', entries, ...(more ? {more} : {})}
}

function mapList(ev: NixEvaluator, fn: Thunk, list: Thunk, site: number): Value {
  const items = asList(ev, list)
  if (!Array.isArray(items)) return items
  return {kind: 'list', items: items.map((item) => Thunk.lazy((e) => e.call(f(e, fn), item, site)))}
}

function filterList(ev: NixEvaluator, pred: Thunk, list: Thunk, site: number): Value {
  const items = asList(ev, list)
  if (!Array.isArray(items)) return items
  const kept: Thunk[] = []
  for (const item of items) {
    const keep = ev.call(f(ev, pred), item, site)
    if (keep.kind !== 'bool') return mergeUnknown(keep)
    if (keep.value) kept.push(item)
  }
  return {kind: 'list', items: kept}
}

function foldl(ev: NixEvaluator, op: Thunk, nul: Thunk, list: Thunk, site: number): Value {
  const items = asList(ev, list)
  if (!Array.isArray(items)) return items
  let acc = nul
  for (const item of items) {
    const fnV = f(ev, op)
    const prev = acc
    acc = Thunk.of(ev.call(ev.call(fnV, prev, site), item, site))
  }
  return f(ev, acc)
}

function mapAttrs(ev: NixEvaluator, fn: Thunk, set: Thunk, site: number): Value {
  const s = f(ev, set)
  if (s.kind !== 'attrs') return mergeUnknown(s)
  const entries = new Map<string, AttrEntry>()
  for (const [k, v] of s.entries) entries.set(k, {...v, thunk: Thunk.lazy((e) => e.call(e.call(f(e, fn), Thunk.of(str(k)), site), v.thunk, site))})
  return {kind: 'attrs', entries, ...(s.more ? {more: s.more} : {})}
}

/** `f name value` for each key, sorted by name. */
function mapAttrsToList(ev: NixEvaluator, fn: Thunk, set: Thunk, site: number): Value {
  const s = f(ev, set)
  if (s.kind !== 'attrs' || s.more) return s.kind === 'attrs' ? s.more! : mergeUnknown(s)
  return {kind: 'list', items: sortedKeys(s).map((k) => Thunk.lazy((e) => e.call(e.call(f(e, fn), Thunk.of(str(k)), site), s.entries.get(k)!.thunk, site)))}
}

function flatten(ev: NixEvaluator, v: Value, out: Thunk[]): Unknown | null {
  if (v.kind === 'unknown') return v
  if (v.kind !== 'list') {
    out.push(Thunk.of(v))
    return null
  }
  for (const item of v.items) {
    if (out.length > MAX_ITEMS) return cannot('a list grows too long')
    const inner = f(ev, item)
    if (inner.kind === 'list') {
      const u = flatten(ev, inner, out)
      if (u) return u
    } else out.push(item)
  }
  return null
}

/** Merges a list of sets left to right, every key at `site` (for generators such as concatMapAttrs). */
function mergeSets(ev: NixEvaluator, sets: readonly Value[], site: number | null): Value {
  let acc: Value = {kind: 'attrs', entries: new Map()}
  for (const s of sets) acc = ev.update(acc, s)
  if (acc.kind === 'attrs' && site !== null) for (const [k, v] of acc.entries) acc.entries.set(k, {...v, pos: site, generated: true})
  return acc
}

function condition(ev: NixEvaluator, t: Thunk): boolean | null {
  const v = f(ev, t)
  return v.kind === 'bool' ? v.value : null
}

function replaceStrings(from: readonly string[], to: readonly string[], s: string): string {
  let out = ''
  let i = 0
  while (i <= s.length) {
    const k = from.findIndex((p) => s.startsWith(p, i))
    if (k === -1) {
      if (i < s.length) out += s[i]
      i++
      continue
    }
    out += to[k]!
    if (from[k] === '') {
      if (i < s.length) out += s[i]
      i++
    } else i += from[k]!.length
  }
  return out
}

function stringList(ev: NixEvaluator, t: Thunk): string[] | Unknown {
  const items = asList(ev, t)
  if (!Array.isArray(items)) return items
  const out: string[] = []
  for (const item of items) {
    const s = asText(ev, f(ev, item))
    if (typeof s !== 'string') return s
    out.push(s)
  }
  return out
}

function textArg(ev: NixEvaluator, t: Thunk): string | Unknown {
  return asText(ev, f(ev, t))
}

const isKind = (kind: Value['kind']) => (ev: NixEvaluator, [x]: Thunk[]) => {
  const v = f(ev, x!)
  return v.kind === 'unknown' ? v : bool(v.kind === kind || (kind === 'lambda' && v.kind === 'builtin'))
}

function baseNameOf(v: Value): Value {
  if (v.kind === 'path') return str(path.posix.basename(v.path))
  if (v.kind !== 'string') return mergeUnknown(v)
  const text = knownText(v)
  if (text === null) {
    const last = v.pieces[v.pieces.length - 1]
    if (typeof last === 'string' && last.replace(/\/+$/, '').includes('/')) return {...str(last.replace(/\/+$/, '').split('/').pop()!), context: v.context}
    return mergeUnknown(...v.pieces.filter((p): p is Unknown => typeof p !== 'string'))
  }
  return {...str(text.replace(/\/+$/, '').split('/').pop() ?? ''), context: v.context}
}

function builtinRecord(): Record<string, Value> {
  const b: Record<string, Value> = {
    true: bool(true),
    false: bool(false),
    null: NULL,
    storeDir: str('/nix/store'),
    langVersion: {kind: 'int', value: 6},
    toString: builtin('toString', 1, (ev, [x]) => ev.coerceToString(f(ev, x!), {copyToStore: false, toStringRules: true})),
    map: builtin('map', 2, (ev, [fn, list], site) => mapList(ev, fn!, list!, site)),
    filter: builtin('filter', 2, (ev, [pred, list], site) => filterList(ev, pred!, list!, site)),
    listToAttrs: builtin('listToAttrs', 1, (ev, [list], site) => {
      const items = asList(ev, list!)
      return Array.isArray(items) ? listToAttrs(ev, items, site) : items
    }),
    attrNames: builtin('attrNames', 1, (ev, [set]) => {
      const s = f(ev, set!)
      if (s.kind !== 'attrs') return mergeUnknown(s)
      return s.more ? s.more : {kind: 'list', items: sortedKeys(s).map((k) => Thunk.of(str(k)))}
    }),
    attrValues: builtin('attrValues', 1, (ev, [set]) => {
      const s = f(ev, set!)
      if (s.kind !== 'attrs') return mergeUnknown(s)
      return s.more ? s.more : {kind: 'list', items: sortedKeys(s).map((k) => s.entries.get(k)!.thunk)}
    }),
    readDir: builtin('readDir', 1, (ev, [p]) => {
      const where = ev.location(f(ev, p!))
      if (where.kind === 'unknown') return where
      const listing = ev.host.readDir(where.path)
      if (!listing) return cannot(`the folder ${where.path} cannot be read`)
      return attrsOf(Object.fromEntries(Object.entries(listing).map(([k, v]) => [k, str(v)])))
    }),
    pathExists: builtin('pathExists', 1, (ev, [p]) => {
      const where = ev.location(f(ev, p!))
      return where.kind === 'unknown' ? where : bool(ev.host.exists(where.path))
    }),
    concatLists: builtin('concatLists', 1, (ev, [lists]) => {
      const items = asList(ev, lists!)
      if (!Array.isArray(items)) return items
      const out: Thunk[] = []
      for (const item of items) {
        const inner = asList(ev, item)
        if (!Array.isArray(inner)) return inner
        if (out.length + inner.length > MAX_ITEMS) return cannot('a list grows too long')
        out.push(...inner)
      }
      return {kind: 'list', items: out}
    }),
    concatMap: builtin('concatMap', 2, (ev, [fn, list], site) => {
      const mapped = mapList(ev, fn!, list!, site)
      if (mapped.kind !== 'list') return mapped
      const out: Thunk[] = []
      for (const item of mapped.items) {
        const inner = asList(ev, item)
        if (!Array.isArray(inner)) return inner
        if (out.length + inner.length > MAX_ITEMS) return cannot('a list grows too long')
        out.push(...inner)
      }
      return {kind: 'list', items: out}
    }),
    elem: builtin('elem', 2, (ev, [x, list]) => {
      const items = asList(ev, list!)
      if (!Array.isArray(items)) return items
      let sure = true
      for (const item of items) {
        const same = ev.equal(f(ev, x!), f(ev, item))
        if (same === true) return bool(true)
        if (same === null) sure = false
      }
      return sure ? bool(false) : cannot('a list membership involves an unknown value')
    }),
    hasAttr: builtin('hasAttr', 2, (ev, [name, set]) => {
      const key = textArg(ev, name!)
      const s = f(ev, set!)
      if (typeof key !== 'string') return key
      if (s.kind !== 'attrs') return mergeUnknown(s)
      return s.entries.has(key) ? bool(true) : s.more ? s.more : bool(false)
    }),
    getAttr: builtin('getAttr', 2, (ev, [name, set]) => {
      const key = textArg(ev, name!)
      if (typeof key !== 'string') return key
      return ev.getAttr(f(ev, set!), key) ?? cannot(`the attribute '${key}' is missing`)
    }),
    removeAttrs: builtin('removeAttrs', 2, (ev, [set, names]) => {
      const s = f(ev, set!)
      const drop = stringList(ev, names!)
      if (s.kind !== 'attrs') return mergeUnknown(s)
      if (!Array.isArray(drop)) return drop
      return {kind: 'attrs', entries: new Map([...s.entries].filter(([k]) => !drop.includes(k))), ...(s.more ? {more: s.more} : {})}
    }),
    intersectAttrs: builtin('intersectAttrs', 2, (ev, [a, b]) => {
      const x = f(ev, a!)
      const y = f(ev, b!)
      if (x.kind !== 'attrs' || y.kind !== 'attrs' || x.more) return mergeUnknown(x, y)
      return {kind: 'attrs', entries: new Map([...y.entries].filter(([k]) => x.entries.has(k)))}
    }),
    baseNameOf: builtin('baseNameOf', 1, (ev, [x]) => baseNameOf(f(ev, x!))),
    dirOf: builtin('dirOf', 1, (ev, [x]) => {
      const v = f(ev, x!)
      if (v.kind === 'path') return {kind: 'path', path: path.posix.dirname(v.path)}
      const text = v.kind === 'string' ? knownText(v) : null
      return text === null ? mergeUnknown(v) : str(path.posix.dirname(text), v.kind === 'string' && v.context)
    }),
    "foldl'": builtin("foldl'", 3, (ev, [op, nul, list], site) => foldl(ev, op!, nul!, list!, site)),
    length: builtin('length', 1, (ev, [list]) => {
      const items = asList(ev, list!)
      return Array.isArray(items) ? {kind: 'int', value: items.length} : items
    }),
    head: builtin('head', 1, (ev, [list]) => {
      const items = asList(ev, list!)
      return Array.isArray(items) ? (items[0] ? f(ev, items[0]) : cannot('the head of an empty list')) : items
    }),
    tail: builtin('tail', 1, (ev, [list]) => {
      const items = asList(ev, list!)
      return Array.isArray(items) ? {kind: 'list', items: items.slice(1)} : items
    }),
    elemAt: builtin('elemAt', 2, (ev, [list, n]) => {
      const items = asList(ev, list!)
      const i = f(ev, n!)
      if (!Array.isArray(items)) return items
      return i.kind === 'int' && items[i.value] ? f(ev, items[i.value]!) : mergeUnknown(i)
    }),
    genList: builtin('genList', 2, (ev, [fn, n], site) => {
      const count = f(ev, n!)
      if (count.kind !== 'int' || count.value > MAX_ITEMS) return count.kind === 'int' ? cannot('a list grows too long') : mergeUnknown(count)
      return {kind: 'list', items: Array.from({length: count.value}, (_, i) => Thunk.lazy((e) => e.call(f(e, fn!), Thunk.of({kind: 'int', value: i}), site)))}
    }),
    mapAttrs: builtin('mapAttrs', 2, (ev, [fn, set], site) => mapAttrs(ev, fn!, set!, site)),
    concatStringsSep: builtin('concatStringsSep', 2, (ev, [sep, list]) => {
      const s = textArg(ev, sep!)
      const items = asList(ev, list!)
      if (typeof s !== 'string') return s
      if (!Array.isArray(items)) return items
      let out: NixStringValue = str('')
      items.forEach((item, i) => {
        const piece = ev.coerceToString(f(ev, item), {copyToStore: true})
        const asStr: NixStringValue = piece.kind === 'unknown' ? {kind: 'string', pieces: [piece], context: piece.store} : piece
        out = joinStrings(i === 0 ? out : joinStrings(out, str(s)), asStr)
      })
      return out
    }),
    replaceStrings: builtin('replaceStrings', 3, (ev, [from, to, s]) => {
      const a = stringList(ev, from!)
      const b = stringList(ev, to!)
      const v = f(ev, s!)
      const text = v.kind === 'string' ? knownText(v) : null
      if (!Array.isArray(a) || !Array.isArray(b) || text === null || v.kind !== 'string') return mergeUnknown(...[a, b, v].filter((x): x is Unknown => !Array.isArray(x) && x.kind === 'unknown'))
      const replaced = replaceStrings(a, b, text)
      return replaced.length > MAX_CHARS ? cannot('a string grows too long') : {...str(replaced), context: v.context}
    }),
    substring: builtin('substring', 3, (ev, [start, len, s]) => {
      const a = f(ev, start!)
      const n = f(ev, len!)
      const v = f(ev, s!)
      const text = v.kind === 'string' ? knownText(v) : null
      if (a.kind !== 'int' || n.kind !== 'int' || text === null || v.kind !== 'string') return mergeUnknown(a, n, v)
      return {...str(text.substr(a.value, n.value < 0 ? undefined : n.value)), context: v.context}
    }),
    stringLength: builtin('stringLength', 1, (ev, [s]) => {
      const text = textArg(ev, s!)
      return typeof text === 'string' ? {kind: 'int', value: text.length} : text
    }),
    getEnv: builtin('getEnv', 1, (ev, [name]) => {
      const n = textArg(ev, name!)
      return n === 'HOME' ? str(ev.host.home) : unknown([`builtins.getEnv ${JSON.stringify(typeof n === 'string' ? n : '…')}`])
    }),
    trace: builtin('trace', 2, (ev, [, b]) => f(ev, b!)),
    seq: builtin('seq', 2, (ev, [, b]) => f(ev, b!)),
    deepSeq: builtin('deepSeq', 2, (ev, [, b]) => f(ev, b!)),
    throw: builtin('throw', 1, () => unknown(['throw'])),
    abort: builtin('abort', 1, () => unknown(['abort'])),
    import: builtin('import', 1, () => unknown(['import'])),
    readFile: builtin('readFile', 1, () => unknown(['builtins.readFile'])),
    path: builtin('path', 1, (ev, [args]) => {
      const a = f(ev, args!)
      const p = ev.getAttr(a, 'path')
      return p === null ? mergeUnknown(a) : ev.coerceToString(p, {copyToStore: true})
    }),
    isAttrs: builtin('isAttrs', 1, isKind('attrs')),
    isList: builtin('isList', 1, isKind('list')),
    isString: builtin('isString', 1, isKind('string')),
    isPath: builtin('isPath', 1, isKind('path')),
    isFunction: builtin('isFunction', 1, isKind('lambda')),
    isBool: builtin('isBool', 1, isKind('bool')),
    isInt: builtin('isInt', 1, isKind('int')),
    isNull: builtin('isNull', 1, isKind('null')),
    typeOf: builtin('typeOf', 1, (ev, [x]) => {
      const v = f(ev, x!)
      const names: Partial<Record<Value['kind'], string>> = {string: 'string', path: 'path', int: 'int', float: 'float', bool: 'bool', null: 'null', list: 'list', attrs: 'set', lambda: 'lambda', builtin: 'lambda'}
      const name = names[v.kind]
      return name ? str(name) : mergeUnknown(v)
    }),
    add: builtin('add', 2, (ev, [a, c]) => arithmetic('+', f(ev, a!), f(ev, c!))),
    sub: builtin('sub', 2, (ev, [a, c]) => arithmetic('-', f(ev, a!), f(ev, c!))),
    mul: builtin('mul', 2, (ev, [a, c]) => arithmetic('*', f(ev, a!), f(ev, c!))),
    div: builtin('div', 2, (ev, [a, c]) => arithmetic('/', f(ev, a!), f(ev, c!))),
    all: builtin('all', 2, (ev, [pred, list], site) => {
      const kept = filterList(ev, pred!, list!, site)
      const items = asList(ev, list!)
      return kept.kind === 'list' && Array.isArray(items) ? bool(kept.items.length === items.length) : mergeUnknown(kept)
    }),
    any: builtin('any', 2, (ev, [pred, list], site) => {
      const kept = filterList(ev, pred!, list!, site)
      return kept.kind === 'list' ? bool(kept.items.length > 0) : mergeUnknown(kept)
    }),
    catAttrs: builtin('catAttrs', 2, (ev, [name, list]) => {
      const key = textArg(ev, name!)
      const items = asList(ev, list!)
      if (typeof key !== 'string') return key
      if (!Array.isArray(items)) return items
      const out: Thunk[] = []
      for (const item of items) {
        const s = f(ev, item)
        if (s.kind !== 'attrs') return mergeUnknown(s)
        const entry = s.entries.get(key)
        if (entry) out.push(entry.thunk)
        else if (s.more) return s.more
      }
      return {kind: 'list', items: out}
    }),
  }
  for (const name of ['fetchGit', 'fetchTarball', 'fetchurl', 'fetchTree', 'fetchMercurial', 'derivation', 'derivationStrict', 'toFile', 'filterSource', 'storePath', 'getFlake']) {
    b[name] = builtin(name, 1, () => unknown([`builtins.${name}`], true))
  }
  return b
}

/** nixpkgs' `lib`: the functions dotfiles use around home.file; any other name is unknown. */
function makeLib(builtins: Record<string, Value>): NixAttrsValue {
  const fromBuiltins = (name: string): Value => builtins[name] ?? unknown([`lib.${name}`])
  const typed = (type: string, fields: Record<string, Thunk>): Value => {
    const entries = new Map<string, AttrEntry>([['_type', {thunk: Thunk.of(str(type)), pos: null}]])
    for (const [k, t] of Object.entries(fields)) entries.set(k, {thunk: t, pos: null})
    return {kind: 'attrs', entries}
  }
  const override = (priority: number) => builtin('mkOverride', 1, (_ev, [content]) => typed('override', {priority: Thunk.of({kind: 'int', value: priority}), content: content!}))
  const order = (priority: number) => builtin('mkOrder', 1, (_ev, [content]) => typed('order', {priority: Thunk.of({kind: 'int', value: priority}), content: content!}))
  const l: Record<string, Value> = {
    mkIf: builtin('mkIf', 2, (_ev, [cond, content]) => typed('if', {condition: cond!, content: content!})),
    mkMerge: builtin('mkMerge', 1, (_ev, [contents]) => typed('merge', {contents: contents!})),
    mkOverride: builtin('mkOverride', 2, (_ev, [priority, content]) => typed('override', {priority: priority!, content: content!})),
    mkForce: override(50),
    mkVMOverride: override(10),
    mkDefault: override(1000),
    mkOptionDefault: override(1500),
    mkOrder: builtin('mkOrder', 2, (_ev, [priority, content]) => typed('order', {priority: priority!, content: content!})),
    mkBefore: order(500),
    mkAfter: order(1500),
    // a declaration under a condition we cannot know is still a declaration, as with mkIf
    optionalAttrs: builtin('optionalAttrs', 2, (ev, [cond, set]) => (condition(ev, cond!) === false ? attrsOf({}) : f(ev, set!))),
    optional: builtin('optional', 2, (ev, [cond, x]) => (condition(ev, cond!) === false ? {kind: 'list', items: []} : {kind: 'list', items: [x!]})),
    optionals: builtin('optionals', 2, (ev, [cond, list]) => (condition(ev, cond!) === false ? {kind: 'list', items: []} : f(ev, list!))),
    optionalString: builtin('optionalString', 2, (ev, [cond, s]) => (condition(ev, cond!) === false ? str('') : f(ev, s!))),
    genAttrs: builtin('genAttrs', 2, (ev, [names, fn], site) => {
      const keys = stringList(ev, names!)
      if (!Array.isArray(keys)) return keys
      const entries = new Map<string, AttrEntry>()
      for (const k of keys) entries.set(k, {thunk: Thunk.lazy((e) => e.call(f(e, fn!), Thunk.of(str(k)), site)), pos: site, generated: true})
      return {kind: 'attrs', entries}
    }),
    "mapAttrs'": builtin("mapAttrs'", 2, (ev, [fn, set], site) => {
      const pairs = mapAttrsToList(ev, fn!, set!, site)
      return pairs.kind === 'list' ? listToAttrs(ev, pairs.items, site) : pairs
    }),
    mapAttrsToList: builtin('mapAttrsToList', 2, (ev, [fn, set], site) => mapAttrsToList(ev, fn!, set!, site)),
    nameValuePair: builtin('nameValuePair', 2, (_ev, [name, value]) => ({kind: 'attrs', entries: new Map([['name', {thunk: name!, pos: null}], ['value', {thunk: value!, pos: null}]])})),
    filterAttrs: builtin('filterAttrs', 2, (ev, [pred, set], site) => {
      const s = f(ev, set!)
      if (s.kind !== 'attrs') return mergeUnknown(s)
      const entries = new Map<string, AttrEntry>()
      let more = s.more
      for (const [k, v] of s.entries) {
        const keep = ev.call(ev.call(f(ev, pred!), Thunk.of(str(k)), site), v.thunk, site)
        if (keep.kind === 'bool') {
          if (keep.value) entries.set(k, v)
        } else more = mergeUnknown(keep, ...(more ? [more] : []))
      }
      return {kind: 'attrs', entries, ...(more ? {more} : {})}
    }),
    concatMapAttrs: builtin('concatMapAttrs', 2, (ev, [fn, set], site) => {
      const sets = mapAttrsToList(ev, fn!, set!, site)
      return sets.kind === 'list' ? mergeSets(ev, sets.items.map((t) => f(ev, t)), site) : sets
    }),
    mergeAttrsList: builtin('mergeAttrsList', 1, (ev, [list]) => {
      const items = asList(ev, list!)
      return Array.isArray(items) ? mergeSets(ev, items.map((t) => f(ev, t)), null) : items
    }),
    flatten: builtin('flatten', 1, (ev, [x]) => {
      const out: Thunk[] = []
      const u = flatten(ev, f(ev, x!), out)
      return u ?? listOf(out)
    }),
    foldl: builtin('foldl', 3, (ev, [op, nul, list], site) => foldl(ev, op!, nul!, list!, site)),
    foldr: builtin('foldr', 3, (ev, [op, nul, list], site) => {
      const items = asList(ev, list!)
      if (!Array.isArray(items)) return items
      let acc = nul!
      for (const item of [...items].reverse()) {
        const prev = acc
        acc = Thunk.of(ev.call(ev.call(f(ev, op!), item, site), prev, site))
      }
      return f(ev, acc)
    }),
    concatStrings: builtin('concatStrings', 1, (ev, [list], site) => ev.call(ev.call(fromBuiltins('concatStringsSep'), Thunk.of(str('')), site), list!, site)),
    hasPrefix: builtin('hasPrefix', 2, (ev, [p, s]) => {
      const a = textArg(ev, p!)
      const b = textArg(ev, s!)
      return typeof a === 'string' && typeof b === 'string' ? bool(b.startsWith(a)) : mergeUnknown(...[a, b].filter((x): x is Unknown => typeof x !== 'string'))
    }),
    hasSuffix: builtin('hasSuffix', 2, (ev, [p, s]) => {
      const a = textArg(ev, p!)
      const b = textArg(ev, s!)
      return typeof a === 'string' && typeof b === 'string' ? bool(b.endsWith(a)) : mergeUnknown(...[a, b].filter((x): x is Unknown => typeof x !== 'string'))
    }),
    removePrefix: builtin('removePrefix', 2, (ev, [p, s]) => {
      const a = textArg(ev, p!)
      const v = f(ev, s!)
      const b = v.kind === 'string' ? knownText(v) : null
      if (typeof a !== 'string' || b === null || v.kind !== 'string') return mergeUnknown(v)
      return {...str(b.startsWith(a) ? b.slice(a.length) : b), context: v.context}
    }),
    removeSuffix: builtin('removeSuffix', 2, (ev, [p, s]) => {
      const a = textArg(ev, p!)
      const v = f(ev, s!)
      const b = v.kind === 'string' ? knownText(v) : null
      if (typeof a !== 'string' || b === null || v.kind !== 'string') return mergeUnknown(v)
      return {...str(a !== '' && b.endsWith(a) ? b.slice(0, -a.length) : b), context: v.context}
    }),
    splitString: builtin('splitString', 2, (ev, [sep, s]) => {
      const a = textArg(ev, sep!)
      const b = textArg(ev, s!)
      if (typeof a !== 'string' || typeof b !== 'string' || a === '') return unknown(['lib.splitString'])
      return {kind: 'list', items: b.split(a).map((x) => Thunk.of(str(x)))}
    }),
    last: builtin('last', 1, (ev, [list]) => {
      const items = asList(ev, list!)
      return Array.isArray(items) ? (items.length ? f(ev, items[items.length - 1]!) : cannot('the last of an empty list')) : items
    }),
    toList: builtin('toList', 1, (ev, [x]) => {
      const v = f(ev, x!)
      return v.kind === 'list' || v.kind === 'unknown' ? v : {kind: 'list', items: [x!]}
    }),
    id: builtin('id', 1, (ev, [x]) => f(ev, x!)),
    const: builtin('const', 2, (ev, [x]) => f(ev, x!)),
    flip: builtin('flip', 3, (ev, [fn, a, c], site) => ev.call(ev.call(f(ev, fn!), c!, site), a!, site)),
    pipe: builtin('pipe', 2, (ev, [x, fns], site) => {
      const items = asList(ev, fns!)
      if (!Array.isArray(items)) return items
      let acc = x!
      for (const fn of items) acc = Thunk.of(ev.call(f(ev, fn), acc, site))
      return f(ev, acc)
    }),
    recursiveUpdate: builtin('recursiveUpdate', 2, (ev, [a, c]) => recursiveUpdate(ev, f(ev, a!), f(ev, c!))),
    attrByPath: builtin('attrByPath', 3, (ev, [names, fallback, set]) => {
      const keys = stringList(ev, names!)
      if (!Array.isArray(keys)) return keys
      let v: Value = f(ev, set!)
      for (const k of keys) {
        const next = ev.getAttr(v, k)
        if (next === null) return f(ev, fallback!)
        v = next
      }
      return v
    }),
    cleanSource: builtin('cleanSource', 1, (ev, [p]) => ev.coerceToString(f(ev, p!), {copyToStore: true})),
    unique: builtin('unique', 1, (ev, [list]) => {
      const items = asList(ev, list!)
      if (!Array.isArray(items)) return items
      const kept: Thunk[] = []
      for (const item of items) {
        let seen: boolean | null = false
        for (const k of kept) {
          const same = ev.equal(f(ev, k), f(ev, item))
          if (same !== false) seen = same
          if (same !== false) break
        }
        if (seen === null) return unknown(['lib.unique'])
        if (!seen) kept.push(item)
      }
      return {kind: 'list', items: kept}
    }),
  }
  for (const name of ['map', 'filter', 'listToAttrs', 'attrNames', 'attrValues', 'hasAttr', 'getAttr', 'concatLists', 'concatMap', 'concatStringsSep', 'elem', 'head', 'tail', 'length', 'elemAt', "foldl'", 'mapAttrs', 'removeAttrs', 'intersectAttrs', 'isAttrs', 'isList', 'isString', 'isPath', 'isFunction', 'isBool', 'isInt', 'replaceStrings', 'substring', 'stringLength', 'toString', 'baseNameOf', 'dirOf', 'pathExists', 'readDir', 'genList', 'all', 'any', 'catAttrs', 'typeOf', 'trace', 'seq', 'deepSeq', 'throw', 'abort', 'readFile']) {
    l[name] = fromBuiltins(name)
  }
  l['pathIsDirectory'] = builtin('pathIsDirectory', 1, (ev, [p]) => {
    const where = ev.location(f(ev, p!))
    return where.kind === 'unknown' ? where : bool(ev.host.readDir(where.path) !== null)
  })
  const more = unknown(['lib'])
  const lib = attrsOf(l, more)
  // lib.attrsets.genAttrs, lib.lists.flatten, lib.strings.hasPrefix…: the same functions, made
  // only when a file names them (eight copies of lib for every file read were most of its allocations)
  for (const sub of ['attrsets', 'lists', 'strings', 'trivial', 'modules', 'options', 'fixedPoints', 'builtins']) {
    lib.entries.set(sub, {thunk: Thunk.lazy(() => attrsOf(l, unknown([`lib.${sub}`]))), pos: null})
  }
  return lib
}

function recursiveUpdate(ev: NixEvaluator, a: Value, b: Value): Value {
  if (a.kind !== 'attrs' || b.kind !== 'attrs') return b
  if (b.more) return ev.update(a, b)
  const entries = new Map(a.entries)
  for (const [k, v] of b.entries) {
    const prev = a.entries.get(k)
    entries.set(k, prev ? {...v, thunk: Thunk.lazy((e) => {
      const x = e.force(prev.thunk)
      const y = e.force(v.thunk)
      return x.kind === 'attrs' && y.kind === 'attrs' ? recursiveUpdate(e, x, y) : y
    })} : v)
  }
  return {kind: 'attrs', entries, ...(a.more ? {more: a.more} : {})}
}

// ---------------------------------------------------------------------------------------------
// The module arguments home-manager passes, as far as a link declaration needs them

/** `config` as a home-manager module sees it: the home folder, the XDG folders, and mkOutOfStoreSymlink. */
export function configValue(home: string): NixAttrsValue {
  const mkOutOfStoreSymlink = builtin('mkOutOfStoreSymlink', 1, (ev, [target]) => ({kind: 'outOfStoreLink', target: f(ev, target!)}))
  return attrsOf(
    {
      home: attrsOf({homeDirectory: str(home)}, unknown(['config.home'])),
      xdg: attrsOf(
        {
          configHome: str(path.posix.join(home, '.config')),
          dataHome: str(path.posix.join(home, '.local', 'share')),
          stateHome: str(path.posix.join(home, '.local', 'state')),
          cacheHome: str(path.posix.join(home, '.cache')),
        },
        unknown(['config.xdg']),
      ),
      lib: attrsOf({file: attrsOf({mkOutOfStoreSymlink}, unknown(['config.lib.file']))}, unknown(['config.lib'])),
    },
    unknown(['config']),
  )
}

/** A flake's `self`: the repository copied into the store. */
export function selfValue(repo: string): NixAttrsValue {
  return attrsOf({outPath: str(repo, true)}, unknown(['self'], true))
}

export function isOutOfStoreLinker(v: Value): boolean {
  return v.kind === 'builtin' && v.name === 'mkOutOfStoreSymlink' && v.args.length === 0
}
