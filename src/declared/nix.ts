/**
 * What the repository's Nix (home-manager) files declare about CODEX_HOME, and the two edits the
 * `nix` fix makes to them. Each file is parsed (src/parse/nix.ts) and every attribute set that
 * defines `home.file`, `xdg.configFile` or `programs.codex` is evaluated in its own lexical scope
 * (src/parse/nix-eval.ts), so inline modules of a flake count as much as a module file does.
 * Edits touch only the node they change and prove themselves: the new text must parse and must
 * declare exactly what was asked.
 */
import path from 'node:path'

import {ancestorsOf, children, lineColumn, parseNix, type AttrName, type NixBinding, type NixComment, type NixExpr, type NixExprOf} from '../parse/nix.js'
import {configValue, isOutOfStoreLinker, knownText, NixEvaluator, selfValue, Thunk, unknown, type Env, type NixAttrsValue, type Unknown, type Value} from '../parse/nix-eval.js'
import type {Declaration, ReaderResult, ReadProblem} from './types.js'

export interface NixFile {
  /** Absolute. */
  file: string
  text: string
}

export interface NixEnvironment {
  /** The repository root, absolute, links resolved. */
  repo: string
  /** The user's HOME, absolute. */
  home: string
  /** CODEX_HOME, absolute (often HOME/.codex; sometimes HOME/.config/codex). */
  codexHome: string
  readDir(absolutePath: string): Record<string, 'directory' | 'regular' | 'symlink' | 'unknown'> | null
  exists(absolutePath: string): boolean
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One link found in a file, with what an edit needs to find it again. */
interface FoundLink {
  declaration: Declaration
  /** Offset of the key where it is written; null when a generator made it. */
  keyOffset: number | null
  /** Offset of the key, or of the generator. */
  pos: number | null
  generated: boolean
}

interface FileScan {
  nix: NixFile
  ast: NixExpr | null
  comments: NixComment[]
  found: FoundLink[]
  problems: ReadProblem[]
  evaluator: NixEvaluator
  /** The scope each attribute set literal's values are evaluated in. */
  scopes: Map<NixExpr, Env>
}

const isInside = (folder: string, p: string) => p === folder || p.startsWith(folder.endsWith('/') ? folder : `${folder}/`)

/** `~/…` for messages. */
function shown(p: string, home: string): string {
  return isInside(home, p) && p !== home ? `~/${path.relative(home, p)}` : p
}

function problem(file: string, line: number | null, message: string): ReadProblem {
  return {via: 'nix', file, line, message}
}

/** The module arguments home-manager passes that a link declaration can use; every other argument is unknown. */
function moduleArgument(name: string, env: NixEnvironment, lib: NixAttrsValue): Value | undefined {
  switch (name) {
    case 'config':
      return configValue(env.home)
    case 'lib':
      return lib
    case 'pkgs':
    case 'nixpkgs':
      return {kind: 'attrs', entries: new Map([['lib', {thunk: Thunk.of(lib), pos: null}]]), more: unknown([name], true)}
    case 'self':
      return selfValue(env.repo)
    case 'inputs':
      return {kind: 'attrs', entries: new Map([['self', {thunk: Thunk.of(selfValue(env.repo)), pos: null}]]), more: unknown(['inputs'], true)}
    default:
      return undefined
  }
}

/** An attribute set literal that may define links: a binding starting with `home`, `xdg`, `programs` or `home-manager`. */
function mayDeclareLinks(node: NixExprOf<'attrs'>): boolean {
  return node.bindings.some((b) => b.kind === 'binding' && ['home', 'xdg', 'programs', 'home-manager'].includes(b.path[0]!.name ?? ''))
}

/** Module definitions of a value: mkIf (unless its condition is literally false), mkMerge, mkForce… unwrapped. */
function definitions(ev: NixEvaluator, v: Value, depth = 0): Value[] {
  if (v.kind !== 'attrs' || depth > 20) return [v]
  const typeEntry = v.entries.get('_type')
  if (!typeEntry) return [v]
  const type = ev.force(typeEntry.thunk)
  const kind = type.kind === 'string' ? knownText(type) : null
  const field = (name: string) => {
    const e = v.entries.get(name)
    return e ? ev.force(e.thunk) : null
  }
  if (kind === 'if') {
    const cond = field('condition')
    if (cond?.kind === 'bool' && !cond.value) return []
    const content = field('content')
    return content ? definitions(ev, content, depth + 1) : []
  }
  if (kind === 'merge') {
    const contents = field('contents')
    return contents?.kind === 'list' ? contents.items.flatMap((t) => definitions(ev, ev.force(t), depth + 1)) : []
  }
  if (kind === 'override' || kind === 'order') {
    const content = field('content')
    return content ? definitions(ev, content, depth + 1) : []
  }
  return [v]
}

interface Defined {
  value: Value
  /** Where the last key of the path is written. */
  pos: number | null
  generated: boolean
}

/** Every definition at `names` below the module definitions in `defs`. */
function definitionsAt(ev: NixEvaluator, defs: readonly Defined[], names: readonly string[]): Defined[] {
  let current = [...defs]
  for (const name of names) {
    const next: Defined[] = []
    for (const def of current) {
      if (def.value.kind !== 'attrs') continue
      const entry = def.value.entries.get(name)
      if (!entry) continue
      for (const value of definitions(ev, ev.force(entry.thunk))) next.push({value, pos: entry.pos, generated: entry.generated ?? false})
    }
    current = next
  }
  return current
}

/** The first definition of `name` in a link's attribute sets (`source`, `text`, `target`…). */
function attribute(ev: NixEvaluator, defs: readonly Value[], name: string): Value | null {
  for (const d of defs) {
    if (d.kind !== 'attrs') continue
    const entry = d.entries.get(name)
    if (!entry) continue
    const [first] = definitions(ev, ev.force(entry.thunk))
    if (first) return first
  }
  return null
}

/** Why a source is not known, in the user's words: "`dotfilesDir` is not known", or the reason. */
function unresolvedText(u: Unknown): string {
  const names = u.names.map((n) => `\`${n}\``)
  if (names.length === 0) return u.reasons?.join('; ') ?? 'the source is not known'
  return names.length === 1 ? `${names[0]} is not known` : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are not known`
}

interface SourceFacts {
  source: string | null
  inStore: boolean
  unresolved?: string
}

/** What a `source` value links to: the repository path (out of the store or copied into it), or why it is not known. */
function classifySource(ev: NixEvaluator, v: Value, flake: boolean): SourceFacts {
  if (v.kind === 'outOfStoreLink') {
    const target = v.target
    // in a flake, a path literal (and a string made of one) is the flake's copy in the store
    if (target.kind === 'path') return {source: target.path, inStore: flake}
    const where = ev.location(target)
    if (where.kind === 'unknown') return where.store ? {source: null, inStore: true} : {source: null, inStore: false, unresolved: unresolvedText(where)}
    const fromPath = target.kind === 'string' && target.fromPath === true
    return {source: where.path, inStore: where.store || (fromPath && flake)}
  }
  if (v.kind === 'unknown') return v.store ? {source: null, inStore: true} : {source: null, inStore: false, unresolved: unresolvedText(v)}
  // a plain path or string is copied into the store by home-manager
  const where = ev.location(v)
  if (where.kind === 'unknown') return where.store ? {source: null, inStore: true} : {source: null, inStore: true, unresolved: unresolvedText(where)}
  return {source: where.path, inStore: true}
}

class Reader {
  readonly found: FoundLink[] = []
  readonly problems: ReadProblem[] = []
  private readonly flake: boolean

  constructor(
    private readonly nix: NixFile,
    private readonly env: NixEnvironment,
    private readonly ev: NixEvaluator,
  ) {
    this.flake = env.exists(path.join(env.repo, 'flake.nix'))
  }

  private line(pos: number | null): number | null {
    return pos === null ? null : lineColumn(this.nix.text, pos).line
  }

  private add(target: string, facts: SourceFacts, pos: number | null, generated: boolean, extra: Partial<Declaration> = {}) {
    if (!isInside(this.env.codexHome, target)) return
    const line = this.line(pos)
    const declaration: Declaration = {target, source: facts.source, origin: {via: 'nix', file: this.nix.file, line}, ...extra}
    if (facts.inStore) declaration.inStore = true
    // one module can be reached twice (home-manager.users.<name> and the set itself)
    if (this.found.some((f) => f.declaration.target === target && f.declaration.origin.line === line && f.declaration.source === facts.source)) return
    if (facts.unresolved) {
      declaration.unresolved = facts.unresolved
      this.problems.push(problem(this.nix.file, line, `the source of ${shown(target, this.env.home)} is not known: ${facts.unresolved}`))
    }
    this.found.push({declaration, keyOffset: generated ? null : pos, pos, generated})
  }

  /** Links declared in one module value (a candidate attribute set, or a user of home-manager.users). */
  readModule(value: Value, depth = 0) {
    const modules: Defined[] = definitions(this.ev, value).map((v) => ({value: v, pos: null, generated: false}))
    this.readFiles(definitionsAt(this.ev, modules, ['home', 'file']), this.env.home)
    this.readFiles(definitionsAt(this.ev, modules, ['xdg', 'configFile']), path.join(this.env.home, '.config'))
    this.readProgramsCodex(modules)
    if (depth > 2) return
    for (const users of definitionsAt(this.ev, modules, ['home-manager', 'users'])) {
      if (users.value.kind !== 'attrs') continue
      for (const entry of users.value.entries.values()) this.readModule(this.ev.force(entry.thunk), depth + 1)
    }
  }

  /** `home.file` / `xdg.configFile`: one link per key; the key is relative to `base` unless absolute. */
  private readFiles(defs: readonly Defined[], base: string) {
    const byKey = new Map<string, {pos: number | null; generated: boolean; values: Value[]}>()
    for (const def of defs) {
      if (def.value.kind !== 'attrs') continue
      for (const [key, entry] of def.value.entries) {
        const slot = byKey.get(key) ?? {pos: entry.pos, generated: entry.generated ?? false, values: []}
        slot.values.push(...definitions(this.ev, this.ev.force(entry.thunk)))
        byKey.set(key, slot)
      }
    }
    for (const [key, slot] of byKey) {
      const enable = attribute(this.ev, slot.values, 'enable')
      if (enable?.kind === 'bool' && !enable.value) continue
      const targetValue = attribute(this.ev, slot.values, 'target')
      let written = key
      if (targetValue) {
        const t = targetValue.kind === 'string' ? knownText(targetValue) : null
        if (t === null) continue
        written = t
      }
      const target = path.isAbsolute(written) ? path.resolve(written) : path.resolve(base, written)
      if (!isInside(this.env.codexHome, target)) {
        // other links still show how the file names the repository (`${dotfiles}/zshrc`), for the edits
        const other = attribute(this.ev, slot.values, 'source')
        if (other?.kind === 'outOfStoreLink') this.ev.location(other.target)
        continue
      }
      const recursive = attribute(this.ev, slot.values, 'recursive')
      const extra: Partial<Declaration> = recursive?.kind === 'bool' && recursive.value ? {unfolded: true} : {}
      const source = attribute(this.ev, slot.values, 'source')
      if (source) this.add(target, classifySource(this.ev, source, this.flake), slot.pos, slot.generated, extra)
      else if (attribute(this.ev, slot.values, 'text')) this.add(target, {source: null, inStore: true}, slot.pos, slot.generated, extra)
    }
  }

  /** home-manager's own `programs.codex`: config.toml, AGENTS.md, skills and rules, generated into the store. */
  private readProgramsCodex(modules: readonly Defined[]) {
    const defs = definitionsAt(this.ev, modules, ['programs', 'codex'])
    if (defs.length === 0) return
    const values = defs.map((d) => d.value)
    const pos = defs[0]!.pos
    const enable = attribute(this.ev, values, 'enable')
    if (enable?.kind === 'bool' && !enable.value) return
    const xdg = attribute(this.ev, definitionsAt(this.ev, modules, ['home']).map((d) => d.value), 'preferXdgDirectories')
    const dir = xdg?.kind === 'bool' && xdg.value ? path.join(this.env.home, '.config', 'codex') : path.join(this.env.home, '.codex')
    const generated: SourceFacts = {source: null, inStore: true}
    const copied = (v: Value): SourceFacts => (v.kind === 'path' ? {source: v.path, inStore: true} : generated)
    const settings = attribute(this.ev, values, 'settings')
    const mcp = attribute(this.ev, values, 'enableMcpIntegration')
    const emptySet = settings?.kind === 'attrs' && settings.entries.size === 0 && !settings.more
    if ((settings && !emptySet) || (mcp?.kind === 'bool' && mcp.value)) this.add(path.join(dir, 'config.toml'), generated, pos, false)
    const context = attribute(this.ev, values, 'context') ?? attribute(this.ev, values, 'custom-instructions')
    const emptyText = context?.kind === 'string' && knownText(context) === ''
    if (context && !emptyText) this.add(path.join(dir, 'AGENTS.md'), copied(context), pos, false)
    const skills = attribute(this.ev, values, 'skills')
    if (skills?.kind === 'attrs') {
      for (const [name, entry] of skills.entries) {
        const v = this.ev.force(entry.thunk)
        const folder = v.kind === 'path' && this.env.readDir(v.path) !== null
        this.add(path.join(dir, 'skills', name), folder ? copied(v) : generated, pos, false)
      }
    } else if (skills?.kind === 'path') {
      for (const name of Object.keys(this.env.readDir(skills.path) ?? {})) this.add(path.join(dir, 'skills', name), {source: path.join(skills.path, name), inStore: true}, pos, false)
    }
    const rules = attribute(this.ev, values, 'rules')
    if (rules?.kind === 'attrs') {
      for (const [name, entry] of rules.entries) this.add(path.join(dir, 'rules', `${name}.rules`), copied(this.ev.force(entry.thunk)), pos, false)
    }
  }
}

/** Walks the tree with the scope of each node, collecting the attribute sets that may define links. */
function collectCandidates(ast: NixExpr, ev: NixEvaluator, env: NixEnvironment): {candidates: {node: NixExprOf<'attrs'>; scope: Env}[]; scopes: Map<NixExpr, Env>} {
  const candidates: {node: NixExprOf<'attrs'>; scope: Env}[] = []
  const scopes = new Map<NixExpr, Env>()
  const special = (name: string) => moduleArgument(name, env, ev.lib)
  const walk = (node: NixExpr, scope: Env, depth: number): void => {
    if (depth > 400) return
    switch (node.kind) {
      case 'attrs': {
        const inner = node.rec ? ev.recAttrs(node.shape, scope).env : scope
        scopes.set(node, inner)
        if (mayDeclareLinks(node)) candidates.push({node, scope})
        for (const c of children(node)) walk(c, inner, depth + 1)
        return
      }
      case 'let':
      case 'legacyLet': {
        const inner = ev.letEnv(node.shape, scope)
        for (const c of children(node)) walk(c, inner, depth + 1)
        return
      }
      case 'lambda': {
        const inner = ev.lambdaEnv(node, scope, special)
        for (const c of children(node)) walk(c, inner, depth + 1)
        return
      }
      case 'with':
        walk(node.env, scope, depth + 1)
        walk(node.body, ev.withEnv(node.env, scope), depth + 1)
        return
      default:
        for (const c of children(node)) walk(c, scope, depth + 1)
    }
  }
  walk(ast, ev.base, 0)
  return {candidates, scopes}
}

const STEP_LIMIT = 200_000

function scanFile(nix: NixFile, env: NixEnvironment, rootNames?: ReadonlySet<string>): FileScan {
  const evaluator = new NixEvaluator({file: nix.file, home: env.home, repo: env.repo, readDir: (p) => env.readDir(p), exists: (p) => env.exists(p), rootNames}, {steps: STEP_LIMIT, depth: 300})
  const parsed = parseNix(nix.text)
  if (!parsed.ok) {
    const {line, column, message} = parsed.error
    return {nix, ast: null, comments: parsed.comments, found: [], problems: [problem(nix.file, line, `does not parse (line ${line}, column ${column}): ${message}`)], evaluator, scopes: new Map()}
  }
  const reader = new Reader(nix, env, evaluator)
  const {candidates, scopes} = collectCandidates(parsed.ast, evaluator, env)
  for (const {node, scope} of candidates) {
    reader.readModule(evaluator.eval(node, scope))
  }
  if (evaluator.limitHit) {
    reader.problems.push(problem(nix.file, null, `evaluation stopped at its limit (${STEP_LIMIT} steps or nesting too deep): some links declared here may be missing`))
  }
  reader.found.sort((a, b) => (a.declaration.origin.line ?? 0) - (b.declaration.origin.line ?? 0))
  return {nix, ast: parsed.ast, comments: parsed.comments, found: reader.found, problems: reader.problems, evaluator, scopes}
}

/** Every link the files declare into CODEX_HOME (CODEX_HOME itself included), with where it is declared. */
export function readNixDeclarations(files: readonly NixFile[], env: NixEnvironment): ReaderResult {
  let scans = files.map((nix) => scanFile(nix, env))
  // a name that stands for the repository root somewhere (`dotfiles`) stands for it everywhere:
  // read again with it known, so a source deleted from the repository is still named
  const rootNames = new Set(scans.flatMap((scan) => [...scan.evaluator.repoRootNames]))
  const unresolved = (scan: FileScan) => scan.found.some((f) => f.declaration.unresolved !== undefined)
  if (rootNames.size > 0 && scans.some(unresolved)) scans = scans.map((scan, i) => (unresolved(scan) ? scanFile(files[i]!, env, rootNames) : scan))
  return {declarations: scans.flatMap((scan) => scan.found.map((f) => f.declaration)), problems: scans.flatMap((scan) => scan.problems)}
}

// ---------------------------------------------------------------------------------------------
// Editing: touch only the bindings that change, in the file's own style, then prove the result

interface Edit {
  start: number
  end: number
  text: string
}

function applyEdits(text: string, edits: readonly Edit[], offset = 0): string {
  let out = text
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start - offset) + e.text + out.slice(e.end - offset)
  return out
}

interface FileStyle {
  eol: string
  /** One level of indentation: a tab, or the most common step between lines. */
  unit: string
}

function fileStyle(text: string): FileStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (lines.filter((l) => l.startsWith('\t')).length > lines.filter((l) => l.startsWith(' ')).length) return {eol, unit: '\t'}
  const steps = new Map<number, number>()
  let previous = 0
  for (const l of lines) {
    const width = /^ */.exec(l)![0].length
    if (width > previous) steps.set(width - previous, (steps.get(width - previous) ?? 0) + 1)
    previous = width
  }
  const [best] = [...steps].sort((a, b) => b[1] - a[1] || a[0] - b[0])
  return {eol, unit: ' '.repeat(best ? best[0] : 2)}
}

function lineStartOf(text: string, offset: number): number {
  const nl = Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1))
  return nl + 1
}

/** The whitespace a line starts with. */
function indentAt(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStartOf(text, offset)))![0]
}

const NIX_STRING_ESCAPES: [RegExp, string][] = [
  [/\\/g, '\\\\'],
  [/"/g, '\\"'],
  [/\$\{/g, '\\${'],
]
const escapeNixString = (s: string) => NIX_STRING_ESCAPES.reduce((acc, [re, to]) => acc.replace(re, to), s)
const PATH_LITERAL = /^(?:~|[a-zA-Z0-9._\-+]*)(?:\/[a-zA-Z0-9._\-+]+)+$/
const IDENTIFIER = /^[a-zA-Z_][a-zA-Z0-9_'-]*$/

const strip = (e: NixExpr): NixExpr => (e.kind === 'paren' ? strip(e.expr) : e)

/** Where a binding's key is written: the attribute set literal, the binding, and which element of its path is the key. */
interface Site {
  container: NixExprOf<'attrs'>
  binding: NixBinding
  keyIndex: number
  /** Every binding of the same key in the container (`".codex".source = …; ".codex".force = true;`). */
  group: NixBinding[]
  scope: Env
}

function sameName(a: AttrName, b: AttrName): boolean {
  return a.name !== null && a.name === b.name
}

function findSite(scan: FileScan, keyOffset: number): Site | null {
  if (!scan.ast) return null
  const stack: NixExpr[] = [scan.ast]
  while (stack.length) {
    const node = stack.pop()!
    if (node.kind === 'attrs' && node.start <= keyOffset && keyOffset < node.end) {
      for (const b of node.bindings) {
        if (b.kind !== 'binding') continue
        const keyIndex = b.path.findIndex((a) => a.start === keyOffset)
        if (keyIndex === -1) continue
        const prefix = b.path.slice(0, keyIndex + 1)
        const group = node.bindings.filter((o): o is NixBinding => o.kind === 'binding' && (o === b || (o.path.length > keyIndex && prefix.every((a, i) => sameName(a, o.path[i]!)))))
        return {container: node, binding: b, keyIndex, group, scope: scan.scopes.get(node) ?? scan.evaluator.base}
      }
    }
    stack.push(...children(node).filter((c) => c.start <= keyOffset && keyOffset < c.end))
  }
  return null
}

/** The expressions of one link's attributes in a site: `source`, `target`… wherever the group writes them. */
function attributeExprs(site: Site): {source?: NixExpr; target?: NixExpr; other: boolean} | null {
  const out: {source?: NixExpr; target?: NixExpr; other: boolean} = {other: false}
  for (const b of site.group) {
    const rest = b.path.slice(site.keyIndex + 1)
    if (rest.length === 0) {
      const literal = strip(b.value)
      if (literal.kind !== 'attrs') return null
      for (const inner of literal.bindings) {
        if (inner.kind !== 'binding' || inner.path.length !== 1) continue
        if (inner.path[0]!.name === 'source') out.source = inner.value
        else if (inner.path[0]!.name === 'target') out.target = inner.value
      }
    } else if (rest.length === 1 && rest[0]!.name === 'source') out.source = b.value
    else if (rest.length === 1 && rest[0]!.name === 'target') out.target = b.value
    else out.other = true
  }
  return out
}

/**
 * The trailing literal text of an expression's value (`"${dotfiles}/config/codex"`, `link "config/codex"`,
 * `dots + "/codex"`, `../../config/codex`): where a longer path can be written.
 */
type Tail = {kind: 'text'; start: number; end: number; value: string; quoted: boolean} | {kind: 'afterInterpolation'; at: number} | {kind: 'path'; node: NixExprOf<'path'>}

function tailOf(e: NixExpr, text: string): Tail | null {
  switch (e.kind) {
    case 'paren':
      return tailOf(e.expr, text)
    case 'apply':
      return tailOf(e.arg, text)
    case 'binary':
      return e.op === '+' ? tailOf(e.right, text) : null
    case 'string': {
      if (e.indented) return null
      const last = e.parts[e.parts.length - 1]
      if (!last || last.kind === 'interpolation') return {kind: 'afterInterpolation', at: e.end - 1}
      // only text written without escapes can be extended by rewriting it
      if (text.slice(last.start, last.end) !== last.value) return null
      return {kind: 'text', start: last.start, end: last.end, value: last.value, quoted: true}
    }
    case 'path':
      return e.parts.length === 1 ? {kind: 'path', node: e} : null
    default:
      return null
  }
}

/** `oldPath` ends with the tail text `written`: the part of `newPath` to write instead, keeping what precedes. */
function replaceSuffix(written: string, oldPath: string, newPath: string): string | null {
  const trimmed = written.replace(/\/+$/, '')
  if (!oldPath.endsWith(trimmed)) return null
  const prefix = oldPath.slice(0, oldPath.length - trimmed.length)
  const boundary = trimmed === '' || trimmed.startsWith('/') || prefix === '' || prefix.endsWith('/')
  if (!boundary || !newPath.startsWith(prefix)) return null
  const rest = newPath.slice(prefix.length)
  if (trimmed === '' && rest !== '' && !rest.startsWith('/')) return null
  return rest
}

class Editor {
  readonly style: FileStyle
  private readonly text: string

  constructor(
    private readonly scan: FileScan,
    private readonly env: NixEnvironment,
  ) {
    this.text = scan.nix.text
    this.style = fileStyle(this.text)
  }

  private slice(n: {start: number; end: number}): string {
    return this.text.slice(n.start, n.end)
  }

  /** Edits that make the path written in `e` (which leads to `oldPath`) lead to `newPath`, keeping its helper and root. */
  retarget(e: NixExpr, scope: Env, oldPath: string, newPath: string): Edit[] | null {
    const tail = tailOf(e, this.text)
    if (tail?.kind === 'text') {
      const rest = replaceSuffix(tail.value, oldPath, newPath)
      if (rest !== null) return [{start: tail.start, end: tail.end, text: escapeNixString(rest)}]
    }
    if (tail?.kind === 'afterInterpolation' && newPath.startsWith(`${oldPath}/`)) {
      return [{start: tail.at, end: tail.at, text: escapeNixString(newPath.slice(oldPath.length))}]
    }
    if (tail?.kind === 'path') {
      const literal = this.pathLiteral(this.slice(tail.node), newPath)
      if (literal) return [{start: tail.node.start, end: tail.node.end, text: literal}]
    }
    // no literal to extend: append to the argument (`oos dotfilesCodex` → `oos "${dotfilesCodex}/config.toml"`)
    if (!newPath.startsWith(`${oldPath}/`)) return null
    const rel = escapeNixString(newPath.slice(oldPath.length))
    const arg = e.kind === 'apply' ? e.arg : e
    const inner = strip(arg)
    const value = this.scan.evaluator.eval(inner, scope)
    if ((inner.kind === 'var' || inner.kind === 'select') && value.kind === 'string') return [{start: arg.start, end: arg.end, text: `"\${${this.slice(inner)}}${rel}"`}]
    const sum = `${this.slice(inner)} + "${rel}"`
    return [{start: arg.start, end: arg.end, text: e.kind === 'apply' || arg.kind === 'paren' ? `(${sum})` : sum}]
  }

  /** A path literal written like `written` (relative, absolute or ~/) that names `to`. */
  private pathLiteral(written: string, to: string): string | null {
    let out: string
    if (written.startsWith('/')) out = to
    else if (written.startsWith('~/')) {
      if (!isInside(this.env.home, to)) return null
      out = `~/${path.relative(this.env.home, to)}`
    } else {
      const rel = path.relative(path.dirname(this.scan.nix.file), to)
      out = rel.startsWith('../') || rel === '..' ? rel : `./${rel}`
    }
    return PATH_LITERAL.test(out) ? out : null
  }

  /** The new key text for a link whose key `key` (naming `oldTarget`) should name `newTarget`. */
  keyEdit(key: AttrName, scope: Env, oldTarget: string, newTarget: string): Edit | null {
    if (key.form === 'string' && key.expr) {
      // "${config.home.homeDirectory}/.codex": extend its text like any path
      const edits = this.retarget(key.expr, scope, oldTarget, newTarget)
      return edits && {start: key.start, end: key.end, text: applyEdits(this.slice(key), edits, key.start)}
    }
    if (key.form !== 'interpolation') {
      const rest = replaceSuffix(key.name!, oldTarget, newTarget)
      // a static key written with escapes is left alone rather than rewritten wrongly
      if (rest === null || (key.form === 'string' && this.slice(key) !== `"${escapeNixString(key.name!)}"`)) return null
      return {start: key.start, end: key.end, text: key.form === 'id' && IDENTIFIER.test(rest) ? rest : `"${escapeNixString(rest)}"`}
    }
    if (!newTarget.startsWith(`${oldTarget}/`)) return null
    const inner = key.expr ? this.slice(key.expr) : JSON.stringify(key.name)
    return {start: key.start, end: key.end, text: `"\${${inner}}${escapeNixString(newTarget.slice(oldTarget.length))}"`}
  }

  /** Names in scope (innermost first) with their values: for the helper and the dotfiles root to reuse. */
  private *scopeNames(scope: Env): Generator<[string, Value]> {
    const seen = new Set<string>()
    for (let s: Env | null = scope; s && s !== this.scan.evaluator.base; s = s.up) {
      for (const [name, thunk] of s.vars ?? []) {
        if (seen.has(name)) continue
        seen.add(name)
        yield [name, this.scan.evaluator.force(thunk)]
      }
    }
  }

  private configInScope(scope: Env): boolean {
    const config = this.scan.evaluator.force(this.scan.evaluator.lookup('config', scope))
    const lib = this.scan.evaluator.getAttr(config, 'lib')
    const file = lib && this.scan.evaluator.getAttr(lib, 'file')
    const linker = file && this.scan.evaluator.getAttr(file, 'mkOutOfStoreSymlink')
    return linker !== null && isOutOfStoreLinker(linker)
  }

  /**
   * An out-of-store source naming `source` in the file's words: its alias of mkOutOfStoreSymlink (or
   * config.lib.file.mkOutOfStoreSymlink), its dotfiles root (a variable, else the home folder).
   */
  outOfStoreSource(scope: Env, source: string): {text: string; needsConfig: boolean} | {error: string} {
    let linker: string | null = null
    let root: string | null = null
    for (const [name, value] of this.scopeNames(scope)) {
      if (!linker && isOutOfStoreLinker(value)) linker = name
      if (!root && value.kind === 'string' && !value.context && knownText(value) === this.env.repo) root = `\${${name}}`
    }
    if (!root) {
      for (const name of this.scan.evaluator.repoRootNames) {
        const head = name.split('.')[0]!
        if (!/^[A-Za-z_][\w'-]*(\.[A-Za-z_][\w'-]*)*$/.test(name)) continue
        const v = this.scan.evaluator.force(this.scan.evaluator.lookup(head, scope))
        if (v.kind === 'unknown' && v.names.includes(head)) {
          root = `\${${name}}`
          break
        }
      }
    }
    let needsConfig = !linker
    if (!root) {
      if (!isInside(this.env.home, this.env.repo)) root = escapeNixString(this.env.repo)
      else {
        root = ['${config.home.homeDirectory}', ...path.relative(this.env.home, this.env.repo).split(path.sep).filter(Boolean).map(escapeNixString)].join('/')
        needsConfig = true
      }
    }
    if (!isInside(this.env.repo, source)) return {error: `${source} is not in the repository ${this.env.repo}`}
    const rel = path.relative(this.env.repo, source).split(path.sep).map(escapeNixString).join('/')
    return {text: `${linker ?? 'config.lib.file.mkOutOfStoreSymlink'} "${root}${rel ? `/${rel}` : ''}"`, needsConfig: needsConfig && !this.configInScope(scope)}
  }

  /** Adds `config` to the arguments of the module around `node` (its `...` kept). */
  addConfigArgument(node: NixExpr): Edit | {error: string} {
    const chain = ancestorsOf(this.scan.ast!, node.start, node.end)
    const lambda = [...chain].reverse().find((n): n is NixExprOf<'lambda'> => n.kind === 'lambda')
    if (!lambda?.formals) return {error: 'the module takes no `{ config, ... }` arguments to reach config.lib.file.mkOutOfStoreSymlink; add them, or name the dotfiles folder in a variable'}
    const {formals} = lambda
    const first = formals.entries[0]
    if (first) {
      const multiline = /[\r\n]/.test(this.text.slice(formals.start, first.start))
      return {start: first.start, end: first.start, text: multiline ? `config,${this.style.eol}${indentAt(this.text, first.start)}` : 'config, '}
    }
    if (formals.ellipsis) {
      const at = this.text.indexOf('...', formals.start)
      return {start: at, end: at, text: 'config, '}
    }
    return {start: formals.start, end: formals.end, text: '{ config, ... }'}
  }

  /** Comments written inside a span: removed from the copies, written once above them. */
  commentsIn(start: number, end: number): NixComment[] {
    return this.scan.comments.filter((c) => c.start >= start && c.end <= end)
  }

  /** Removes a comment (its whole line when it stands alone on it). */
  commentRemoval(c: NixComment): Edit {
    const lineStart = lineStartOf(this.text, c.start)
    const before = this.text.slice(lineStart, c.start)
    const after = /^[ \t]*(\r\n|\n|\r)?/.exec(this.text.slice(c.end))!
    if (before.trim() === '' && after[1]) return {start: lineStart, end: c.end + after[0].length, text: ''}
    const spaces = /[ \t]*$/.exec(before)![0].length
    return {start: c.start - spaces, end: c.end, text: ''}
  }

  /** A binding's text with edits, from `from` (its start, or its key when the prefix goes); continuation lines get `extraIndent`. */
  bindingText(b: NixBinding, from: number, edits: readonly Edit[], extraIndent: string): string {
    const inside = edits.filter((e) => e.start >= from && e.end <= b.end)
    const removals = this.commentsIn(b.start, b.end).map((c) => this.commentRemoval(c)).filter((r) => r.start >= from)
    let out = applyEdits(this.text.slice(from, b.end), [...inside, ...removals], from)
    if (extraIndent) out = out.replace(/(\r\n|\n|\r)(?=[^\r\n])/g, `$1${extraIndent}`)
    return out
  }

  /** Breaks `key.source = value;` after `=` when the line would pass 80 columns, as the seed's "After" does. */
  wrapped(text: string, indent: string): string {
    if (/[\r\n]/.test(text) || indent.length + text.length <= 80) return text
    const m = /^([^=]*?)[ \t]*=[ \t]*(?![ \t{])/.exec(text)
    if (!m || !m[1] || m[1].includes('{')) return text
    return `${m[1]} =${this.style.eol}${indent}${this.style.unit}${text.slice(m[0].length)}`
  }
}

/** The link in `scan` that `d` is (same file, same target, declared on the same line). */
function foundFor(scan: FileScan, d: Declaration): FoundLink | undefined {
  if (d.origin.file !== null && path.resolve(d.origin.file) !== path.resolve(scan.nix.file)) return undefined
  return scan.found.find((f) => f.declaration.target === d.target && f.declaration.origin.line === d.origin.line)
}

function countTargets(found: readonly FoundLink[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const f of found) m.set(f.declaration.target, (m.get(f.declaration.target) ?? 0) + 1)
  return m
}

/** The edited text must parse and declare each requested link (and, for a rewrite, one folder link fewer). */
function verify(before: FileScan, text: string, env: NixEnvironment, requested: readonly {target: string; source: string}[], expect: {inStore: boolean; removed?: string}): {text: string} | {error: string} {
  const parsed = parseNix(text)
  if (!parsed.ok) return {error: `the edited file would not parse (line ${parsed.error.line}, column ${parsed.error.column}): ${parsed.error.message}`}
  const after = scanFile({file: before.nix.file, text}, env)
  for (const r of requested) {
    const match = after.found.find((f) => f.declaration.target === r.target && f.declaration.source === r.source && (f.declaration.inStore ?? false) === expect.inStore)
    if (!match) {
      const near = after.found.find((f) => f.declaration.target === r.target)
      const why = !near ? 'it does not declare it' : near.declaration.source === null ? `its source is not known (${near.declaration.unresolved ?? 'generated'})` : near.declaration.source !== r.source ? `it links it to ${near.declaration.source}` : 'it would be copied into the Nix store'
      return {error: `the edited file would not link ${shown(r.target, env.home)} to ${r.source}: ${why}`}
    }
  }
  const was = countTargets(before.found)
  const now = countTargets(after.found)
  if (expect.removed && (now.get(expect.removed) ?? 0) >= (was.get(expect.removed) ?? 0)) return {error: `the edited file would still link the whole ${shown(expect.removed, env.home)} folder`}
  const wanted = new Set(requested.map((r) => r.target))
  for (const [target, n] of now) {
    if (target !== expect.removed && !wanted.has(target) && n > (was.get(target) ?? 0)) return {error: `the edited file would also declare ${shown(target, env.home)}`}
  }
  return {text}
}

/**
 * Entries the file already declares where the new bindings go (`within`: the attribute set they join, where a
 * second one would be a duplicate attribute): skipped when they match, an error when they link elsewhere.
 * Without `within`, a matching declaration anywhere in the file counts (a generator over readDir, say).
 */
function alreadyDeclared(scan: FileScan, entries: readonly {target: string; source: string}[], except: FoundLink | undefined, env: NixEnvironment, within?: {start: number; end: number}): {todo: {target: string; source: string}[]} | {error: string} {
  const todo: {target: string; source: string}[] = []
  const here = (f: FoundLink) => !within || (f.pos !== null && within.start <= f.pos && f.pos < within.end)
  for (const e of entries) {
    const declared = scan.found.filter((f) => f !== except && f.declaration.target === e.target && here(f))
    if (declared.length === 0) todo.push(e)
    else if (!declared.some((f) => f.declaration.source === e.source && !f.declaration.inStore)) {
      const [other] = declared
      return {error: `${shown(e.target, env.home)} is already declared at line ${other!.declaration.origin.line} with another source (${other!.declaration.source ?? 'not known'}); change that line by hand`}
    }
  }
  return {todo}
}

/** Seed step 2: the whole-folder declaration becomes one declaration per entry. */
export function rewriteNixFolderLink(
  nix: NixFile,
  env: NixEnvironment,
  folder: Declaration,
  entries: readonly {target: string; source: string}[],
): {text: string} | {error: string} {
  const scan = scanFile(nix, env)
  if (!scan.ast) return {error: scan.problems[0]?.message ?? 'the file does not parse'}
  const found = foundFor(scan, folder)
  const where = `${path.basename(nix.file)}:${folder.origin.line}`
  if (!found) return {error: `${where} does not declare ${shown(folder.target, env.home)}`}
  if (found.generated || found.keyOffset === null) return {error: `${where} generates the link to ${shown(folder.target, env.home)} with an expression; replace it by hand`}
  const site = findSite(scan, found.keyOffset)
  const attrs = site && attributeExprs(site)
  if (!site || !attrs?.source) return {error: `${where}: the folder link is not written as a \`source\` attribute we can rewrite`}
  for (const e of entries) {
    if (!e.target.startsWith(`${folder.target}/`)) return {error: `${shown(e.target, env.home)} is not inside ${shown(folder.target, env.home)}`}
  }
  const pending = alreadyDeclared(scan, entries, found, env, site.container)
  if ('error' in pending) return pending
  const editor = new Editor(scan, env)
  const key = site.binding.path[site.keyIndex]!
  let needsConfig = false
  const perEntry: Edit[][] = []
  for (const entry of pending.todo) {
    const rel = path.relative(folder.target, entry.target)
    // with a `target` attribute the key is only a name: make a distinct one from it
    const keyEdit = attrs.target ? editor.keyEdit(key, site.scope, path.join('/', key.name ?? 'codex'), path.join('/', key.name ?? 'codex', rel)) : editor.keyEdit(key, site.scope, folder.target, entry.target)
    if (!keyEdit) return {error: `${where}: cannot write a key for ${shown(entry.target, env.home)} in the style of \`${nix.text.slice(key.start, key.end)}\``}
    const edits: Edit[] = [keyEdit]
    if (attrs.target) {
      const targetEdits = editor.retarget(attrs.target, site.scope, folder.target, entry.target)
      if (!targetEdits) return {error: `${where}: cannot rewrite its \`target\` for ${shown(entry.target, env.home)}`}
      edits.push(...targetEdits)
    }
    const sourceEdits = !found.declaration.inStore && found.declaration.source ? editor.retarget(attrs.source, site.scope, found.declaration.source, entry.source) : null
    if (sourceEdits) edits.push(...sourceEdits)
    else {
      // copied into the store (Codex could not write config.toml), or nothing to extend: an out-of-store link
      const made = editor.outOfStoreSource(site.scope, entry.source)
      if ('error' in made) return made
      needsConfig ||= made.needsConfig
      edits.push({start: attrs.source.start, end: attrs.source.end, text: made.text})
    }
    perEntry.push(edits)
  }
  const fileEdits = placeBindings(editor, scan, site, perEntry)
  if (needsConfig) {
    const arg = editor.addConfigArgument(site.container)
    if ('error' in arg) return arg
    fileEdits.push(arg)
  }
  return verify(scan, applyEdits(nix.text, fileEdits), env, pending.todo, {inStore: false, removed: folder.target})
}

/** The edits that replace a site's bindings by one copy per entry (each copy with its own edits), in the file's layout. */
function placeBindings(editor: Editor, scan: FileScan, site: Site, perEntry: readonly Edit[][]): Edit[] {
  const text = scan.nix.text
  const {eol, unit} = editor.style
  const first = site.group[0]!
  const indent = indentAt(text, first.start)
  const comments = site.group.flatMap((b) => editor.commentsIn(b.start, b.end)).map((c) => c.text)
  const prefix = site.binding.path.slice(0, site.keyIndex)
  const others = site.container.bindings.some((b) => {
    if (site.group.includes(b as NixBinding)) return false
    const names = b.kind === 'binding' ? b.path : b.names
    const n = Math.min(names.length, prefix.length)
    return n > 0 && prefix.slice(0, n).every((a, i) => sameName(a, names[i]!))
  })
  const block = prefix.length > 0 && !others
  const inner = block ? indent + unit : indent
  const copies = perEntry.flatMap((edits) => site.group.map((b) => editor.wrapped(editor.bindingText(b, block ? b.path[site.keyIndex]!.start : b.start, edits, block ? unit : ''), inner)))
  const lines = [...comments, ...copies]
  const body = block
    ? [`${prefix.map((a) => text.slice(a.start, a.end)).join('.')} = {`, ...lines.map((l) => `${inner}${l}`), `${indent}};`].join(eol)
    : lines.join(eol + indent)
  // nothing left to write (every entry declared already): the bindings just go
  const out: Edit[] = lines.length ? [{start: first.start, end: first.end, text: body}] : []
  for (const b of lines.length ? site.group.slice(1) : site.group) {
    const lineStart = lineStartOf(text, b.start)
    const after = /^[ \t]*(\r\n|\n|\r)?/.exec(text.slice(b.end))!
    const alone = text.slice(lineStart, b.start).trim() === ''
    out.push(alone && after[1] ? {start: lineStart, end: b.end + after[0].length, text: ''} : {start: b.start, end: b.end, text: ''})
  }
  return out
}

/** New per-entry declarations (skills made from prompts) next to an existing one, in its style. */
export function addNixLinks(
  nix: NixFile,
  env: NixEnvironment,
  like: Declaration,
  entries: readonly {target: string; source: string}[],
): {text: string} | {error: string} {
  const scan = scanFile(nix, env)
  if (!scan.ast) return {error: scan.problems[0]?.message ?? 'the file does not parse'}
  const found = foundFor(scan, like)
  const where = `${path.basename(nix.file)}:${like.origin.line}`
  if (!found) return {error: `${where} does not declare ${shown(like.target, env.home)}`}
  const inStore = found.declaration.inStore ?? false
  const pending = alreadyDeclared(scan, entries, undefined, env)
  if ('error' in pending) return pending
  if (pending.todo.length === 0) return {text: nix.text}
  if (found.generated || found.keyOffset === null) return extendGeneratorList(scan, env, found, pending.todo, where)
  const site = findSite(scan, found.keyOffset)
  const attrs = site && attributeExprs(site)
  if (!site || !attrs?.source || attrs.target) return {error: `${where}: the link is not written as a \`source\` attribute we can copy`}
  if (!found.declaration.source) return {error: `${where}: the source of ${shown(like.target, env.home)} is not known, so new links cannot follow it`}
  const editor = new Editor(scan, env)
  const key = site.binding.path[site.keyIndex]!
  const copies: string[] = []
  const {eol} = editor.style
  const indent = indentAt(nix.text, site.group[0]!.start)
  for (const entry of pending.todo) {
    const keyEdit = editor.keyEdit(key, site.scope, like.target, entry.target)
    if (!keyEdit) return {error: `${where}: cannot write a key for ${shown(entry.target, env.home)} in the style of \`${nix.text.slice(key.start, key.end)}\``}
    const sourceEdits = editor.retarget(attrs.source, site.scope, found.declaration.source, entry.source)
    let edits: Edit[]
    if (sourceEdits) edits = [keyEdit, ...sourceEdits]
    else if (!inStore) {
      const made = editor.outOfStoreSource(site.scope, entry.source)
      if ('error' in made) return made
      if (made.needsConfig) return {error: `${where}: the module has no \`config\` argument to write an out-of-store link with`}
      edits = [keyEdit, {start: attrs.source.start, end: attrs.source.end, text: made.text}]
    } else return {error: `${where}: cannot write the source ${entry.source} in the style of \`${nix.text.slice(attrs.source.start, attrs.source.end)}\``}
    // copies keep the comments of the original where it has them: only the key and the source change
    for (const b of site.group) copies.push(editor.wrapped(applyEdits(nix.text.slice(b.start, b.end), edits.filter((e) => e.start >= b.start && e.end <= b.end), b.start), indent))
  }
  const last = site.group[site.group.length - 1]!
  // after a comment that ends the line of the last binding: it belongs to that binding
  const trailing = scan.comments.find((c) => c.start >= last.end && nix.text.slice(last.end, c.start).trim() === '' && !/[\r\n]/.test(nix.text.slice(last.end, c.start)))
  const at = trailing && !/[\r\n]/.test(trailing.text) ? trailing.end : last.end
  const text = applyEdits(nix.text, [{start: at, end: at, text: copies.map((c) => eol + indent + c).join('')}])
  return verify(scan, text, env, pending.todo, {inStore})
}

/** A generated link (`map (name: …) [ "a" "b" ]`): the new names go into the literal list the generator maps over. */
function extendGeneratorList(scan: FileScan, env: NixEnvironment, found: FoundLink, todo: readonly {target: string; source: string}[], where: string): {text: string} | {error: string} {
  const text = scan.nix.text
  const names = todo.map((t) => path.basename(t.target))
  const lists: NixExprOf<'list'>[] = []
  const visit = (e: NixExpr) => {
    if (e.kind === 'list' && e.items.length > 0 && e.items.every((i) => i.kind === 'string' && !i.indented && i.parts.every((p) => p.kind === 'text'))) lists.push(e)
    children(e).forEach(visit)
  }
  visit(scan.ast!)
  const {eol} = fileStyle(text)
  for (const list of lists) {
    const lastItem = list.items[list.items.length - 1]!
    const multiline = /[\r\n]/.test(text.slice(list.items[0]!.start, lastItem.end)) || /[\r\n]/.test(text.slice(list.start, list.items[0]!.start))
    const separator = multiline ? eol + indentAt(text, lastItem.start) : ' '
    const added = names.map((n) => `${separator}"${escapeNixString(n)}"`).join('')
    const attempt = verify(scan, applyEdits(text, [{start: lastItem.end, end: lastItem.end, text: added}]), env, todo, {inStore: found.declaration.inStore ?? false})
    if ('text' in attempt) return attempt
  }
  return {error: `${where} generates ${shown(found.declaration.target, env.home)} with an expression we cannot extend; add ${names.join(', ')} there by hand`}
}

/** `nix-instantiate --parse -` on a text (stdin, no file written); null when nix-instantiate is not installed. */
export async function nixInstantiateParses(text: string, env: NodeJS.ProcessEnv): Promise<{ok: true} | {ok: false; message: string} | null> {
  const {run} = await import('../process.js')
  const result = await run('nix-instantiate', ['--parse', '-'], {env, input: text, timeoutMs: 20_000})
  if (result.failedToStart) return null
  if (result.exitCode === 0) return {ok: true}
  const message = result.stderr.replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n').filter((l) => l.trim() !== '').slice(0, 3).join(' ')
  return {ok: false, message: result.timedOut ? 'nix-instantiate did not answer in time' : message || `nix-instantiate exited with ${result.exitCode ?? result.signal}`}
}
