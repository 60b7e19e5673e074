/**
 * What the repository's Ansible files declare about CODEX_HOME: `file` tasks with `state: link`
 * (in playbooks, their blocks and imported task files, and roles), with the play's variables
 * resolved (`vars`, `vars_files`, `group_vars/all`, role defaults and vars) and loops expanded.
 * Read with the `yaml` package; edits splice exact line ranges, so every other byte stays.
 */
import path from 'node:path'
import {isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap, type YAMLSeq} from 'yaml'

import {run} from '../process.js'
import {isUnknown, type JinjaHost, type JValue, render, renderValue, type Unknown} from '../parse/jinja.js'
import type {Declaration, ReaderResult, ReadProblem} from './types.js'

export interface AnsibleEnvironment {
  /** The repository root, absolute, links resolved. */
  repo: string
  home: string
  codexHome: string
  /** Every .yml/.yaml file of the repository, repo-relative with '/'. */
  files: readonly string[]
  readText(absolutePath: string): Promise<string | null>
  exists(absolutePath: string): boolean
  listDir(absolutePath: string): string[] | null
}

export type Where = Pick<AnsibleEnvironment, 'repo' | 'home' | 'codexHome'>

const FILE_MODULES = new Set(['file', 'ansible.builtin.file', 'ansible.legacy.file'])
const TASK_LISTS = ['pre_tasks', 'tasks', 'post_tasks', 'handlers']
const BLOCKS = ['block', 'rescue', 'always']
const INCLUDES = new Set(['import_tasks', 'include_tasks', 'ansible.builtin.import_tasks', 'ansible.builtin.include_tasks', 'include'])
const MAX_DEPTH = 8

type Vars = Record<string, unknown>

interface YamlFile {
  abs: string
  text: string
  doc: Document
  lines: LineCounter
}

/** A file task that makes a link, as found: enough to report it and to edit it. */
interface LinkTask {
  file: YamlFile
  node: YAMLMap
  /** 1-based line of the task's first key (the `- ` stands on it). */
  line: number
  declarations: Declaration[]
}

const lineOfOffset = (file: YamlFile, offset: number) => file.lines.linePos(offset).line

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** `state=link dest="{{ x }}/.codex" src=…` → {state, dest, src}; quotes and `{{ }}` keep spaces inside. */
export function freeFormArgs(text: string): Record<string, string> {
  return freeForm(text).values
}

/** The free-form arguments' values, and each as written (quotes included), for an edit in the same form. */
function freeForm(text: string): {values: Record<string, string>; raw: Record<string, string>} {
  const args: Record<string, string> = {}
  const raw: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    const m = /^([\w.-]+)=/.exec(text.slice(i))
    if (!m) {
      while (i < text.length && !/\s/.test(text[i]!)) i++
      continue
    }
    i += m[0].length
    const start = i
    let value = ''
    let quote: string | null = null
    let depth = 0
    while (i < text.length) {
      const ch = text[i]!
      if (quote) {
        if (ch === quote) quote = null
        else value += ch
      } else if ((ch === '"' || ch === "'") && depth === 0) quote = ch
      else if (text.startsWith('{{', i)) {
        depth++
        value += '{{'
        i += 2
        continue
      } else if (text.startsWith('}}', i) && depth > 0) {
        depth--
        value += '}}'
        i += 2
        continue
      } else if (/\s/.test(ch) && depth === 0) break
      else value += ch
      i++
    }
    args[m[1]!] = value
    raw[m[1]!] = text.slice(start, i)
  }
  return {values: args, raw}
}

class Reader {
  readonly declarations: Declaration[] = []
  readonly problems: ReadProblem[] = []
  readonly tasks: LinkTask[] = []
  /** Names seen standing for the repository root (`dotfiles_dir`): taken as it elsewhere too. */
  readonly rootNames = new Set<string>()
  private readonly parsed = new Map<string, YamlFile | null>()
  private readonly done = new Set<string>()

  constructor(
    private readonly env: AnsibleEnvironment,
    private readonly knownRoots: ReadonlySet<string> = new Set(),
    private readonly override: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** A YAML file, parsed once; null when it cannot be read; a parse error is reported for files that look like Ansible. */
  async load(abs: string): Promise<YamlFile | null> {
    if (this.parsed.has(abs)) return this.parsed.get(abs)!
    const text = this.override.get(abs) ?? (await this.env.readText(abs))
    let file: YamlFile | null = null
    if (text !== null) {
      const lines = new LineCounter()
      const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: false})
      const [error] = doc.errors
      if (error) {
        if (looksLikeAnsible(abs, text)) {
          const line = lines.linePos(error.pos[0]).line
          this.problems.push({via: 'ansible', file: abs, line, message: `does not parse as YAML (line ${line}): ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`})
        }
      } else file = {abs, text, doc, lines}
    }
    this.parsed.set(abs, file)
    return file
  }

  /** The whole repository: plays first (their tasks get the play's variables), then task files nothing imported. */
  async readAll(): Promise<void> {
    const yamls = this.env.files.filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(this.env.repo, ...f.split('/')))
    const groupVars = await this.groupVars(yamls)
    for (const abs of yamls) {
      const text = this.override.get(abs) ?? (await this.env.readText(abs))
      if (text === null || !/^\s*-?\s*hosts\s*:/m.test(text)) continue
      const file = await this.load(abs)
      if (file && isSeq(file.doc.contents)) for (const play of file.doc.contents.items) if (isMap(play) && play.has('hosts')) await this.readPlay(file, play, groupVars)
    }
    for (const abs of yamls) {
      if (this.done.has(abs)) continue
      const text = this.override.get(abs) ?? (await this.env.readText(abs))
      // a file of the Ansible tree is read even without `codex` in it: one that does not parse is worth naming
      if (text === null || (!text.includes('codex') && !looksLikeAnsible(abs, text))) continue
      const file = await this.load(abs)
      if (!file || !isSeq(file.doc.contents)) continue
      if (file.doc.contents.items.some((item) => isMap(item) && item.has('hosts'))) continue
      const role = roleOf(abs)
      // a task file no play imports: its playbook most likely sits beside it
      const vars = {playbook_dir: path.dirname(abs), ...(role ? await this.roleVars(role, 'defaults') : {}), ...groupVars, ...(role ? await this.roleVars(role, 'vars') : {}), ...(role ? {role_path: role} : {})}
      await this.readTaskFile(file, vars, 0)
    }
  }

  /** `group_vars/all` anywhere in the repository (as a file or a folder of files), merged. */
  private async groupVars(yamls: readonly string[]): Promise<Vars> {
    const vars: Vars = {}
    for (const abs of yamls) {
      const rel = path.relative(this.env.repo, abs).split(path.sep).join('/')
      if (!/(^|\/)group_vars\/all(\.ya?ml|\/[^/]+\.ya?ml)$/.test(rel) && !/(^|\/)host_vars\/(localhost|127\.0\.0\.1)(\.ya?ml|\/[^/]+\.ya?ml)$/.test(rel)) continue
      Object.assign(vars, await this.varsFile(abs))
    }
    return vars
  }

  private async varsFile(abs: string): Promise<Vars> {
    const file = await this.load(abs)
    const value = file?.doc.toJS() as unknown
    return plainObject(value) ? value : {}
  }

  private async roleVars(roleDir: string, kind: 'defaults' | 'vars'): Promise<Vars> {
    for (const name of ['main.yml', 'main.yaml']) {
      const abs = path.join(roleDir, kind, name)
      if (this.env.exists(abs)) return this.varsFile(abs)
    }
    return {}
  }

  private async readPlay(file: YamlFile, play: YAMLMap, groupVars: Vars): Promise<void> {
    const playbookDir = path.dirname(file.abs)
    let vars: Vars = {...groupVars, playbook_dir: playbookDir}
    const own = play.toJSON() as Record<string, unknown>
    const playVars = own.vars
    for (const v of Array.isArray(playVars) ? playVars : [playVars]) if (plainObject(v)) vars = {...vars, ...v}
    const varsFiles = own.vars_files
    for (const entry of Array.isArray(varsFiles) ? varsFiles : varsFiles === undefined ? [] : [varsFiles]) {
      const name = typeof entry === 'string' ? this.renderText(entry, vars) : null
      if (name) vars = {...vars, ...(await this.varsFile(path.resolve(playbookDir, name)))}
    }
    for (const key of TASK_LISTS) {
      const list = play.get(key, true)
      if (isSeq(list)) await this.walk(file, list, vars, 0)
    }
    const roles = own.roles
    for (const role of Array.isArray(roles) ? roles : []) {
      const name = typeof role === 'string' ? role : plainObject(role) && typeof (role.role ?? role.name) === 'string' ? String(role.role ?? role.name) : null
      const dir = name ? this.roleDir(name, playbookDir) : null
      if (!dir) continue
      const roleScope = {...(await this.roleVars(dir, 'defaults')), ...vars, ...(await this.roleVars(dir, 'vars')), role_path: dir}
      for (const main of ['main.yml', 'main.yaml']) {
        const tasks = path.join(dir, 'tasks', main)
        if (this.env.exists(tasks)) {
          const f = await this.load(tasks)
          if (f) await this.readTaskFile(f, roleScope, 1)
        }
      }
    }
  }

  private roleDir(name: string, playbookDir: string): string | null {
    for (const base of [path.join(playbookDir, 'roles'), path.join(this.env.repo, 'roles'), path.join(this.env.repo, 'ansible', 'roles')]) {
      const dir = path.join(base, name)
      if (this.env.exists(path.join(dir, 'tasks'))) return dir
    }
    return null
  }

  private async readTaskFile(file: YamlFile, vars: Vars, depth: number): Promise<void> {
    this.done.add(file.abs)
    if (isSeq(file.doc.contents)) await this.walk(file, file.doc.contents, vars, depth)
  }

  private async walk(file: YamlFile, list: YAMLSeq, vars: Vars, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) return
    for (const item of list.items) {
      if (!isMap(item)) continue
      for (const key of BLOCKS) {
        const inner = item.get(key, true)
        if (isSeq(inner)) await this.walk(file, inner, vars, depth + 1)
      }
      const include = item.items.find((pair) => isScalar(pair.key) && INCLUDES.has(String(pair.key.value)))
      if (include) {
        const target = include.value
        const name = isScalar(target) ? String(target.value) : isMap(target) && typeof target.get('file') === 'string' ? String(target.get('file')) : null
        const rendered = name ? this.renderText(name, vars) : null
        if (rendered) {
          // relative to the including file's folder (a role's tasks/ folder for its own)
          const abs = path.resolve(path.dirname(file.abs), rendered)
          const inner = this.env.exists(abs) ? await this.load(abs) : null
          if (inner) await this.readTaskFile(inner, vars, depth + 1)
        }
        continue
      }
      await this.readTask(file, item, vars)
    }
  }

  private host(vars: Vars): JinjaHost {
    const lookup = (name: string, depth: number): JValue | undefined => {
      if (name === 'ansible_env') return {HOME: this.env.home}
      if (name === 'ansible_user_dir') return this.env.home
      if (name === 'ansible_facts') return {env: {HOME: this.env.home}, user_dir: this.env.home}
      if (!(name in vars)) return undefined
      return this.resolveValue(vars[name], vars, depth)
    }
    return {lookup: (name) => lookup(name, 0), home: this.env.home, glob: (pattern) => this.glob(pattern)}
  }

  /** A variable's value with its own templates rendered (depth-limited: a variable that names itself stays unknown). */
  private resolveValue(value: unknown, vars: Vars, depth: number): JValue {
    if (depth > 10) return {unknown: ['a variable defined through too many others']}
    if (typeof value === 'string') return value.includes('{{') ? renderValue(value, {...this.host(vars), lookup: (n) => this.lookupDeep(n, vars, depth + 1)}) : value
    if (Array.isArray(value)) return value.map((v) => this.resolveValue(v, vars, depth + 1))
    if (plainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolveValue(v, vars, depth + 1)]))
    if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value
    return {unknown: ['a value']}
  }

  private lookupDeep(name: string, vars: Vars, depth: number): JValue | undefined {
    if (name === 'ansible_env' || name === 'ansible_user_dir' || name === 'ansible_facts') return this.host({}).lookup(name)
    return name in vars ? this.resolveValue(vars[name], vars, depth) : undefined
  }

  private renderText(template: string, vars: Vars): string | null {
    const r = render(template, this.host(vars))
    return 'text' in r ? r.text : null
  }

  private glob(pattern: string): string[] | null {
    const expanded = pattern.startsWith('~/') ? this.env.home + pattern.slice(1) : pattern
    const dir = path.dirname(expanded)
    const base = path.basename(expanded)
    const names = this.env.listDir(dir)
    if (!names || /[*?[]/.test(dir)) return null
    const re = new RegExp(`^${base.split('*').map((s) => s.replaceAll(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
    return names.filter((n) => re.test(n) && !n.startsWith('.')).map((n) => path.join(dir, n))
  }

  private async readTask(file: YamlFile, task: YAMLMap, vars: Vars): Promise<void> {
    const modulePair = task.items.find((pair) => isScalar(pair.key) && FILE_MODULES.has(String(pair.key.value)))
    if (!modulePair) return
    const raw = modulePair.value
    const args: Record<string, unknown> = {}
    const extra = task.get('args')
    if (isMap(extra)) Object.assign(args, extra.toJSON())
    if (isMap(raw)) Object.assign(args, raw.toJSON())
    else if (isScalar(raw) && typeof raw.value === 'string') Object.assign(args, freeFormArgs(raw.value))
    const dest = args.dest ?? args.path ?? args.name
    if (typeof dest !== 'string') return
    const line = lineOfOffset(file, task.range![0])
    const loopVar = (() => {
      const control = task.get('loop_control')
      return isMap(control) && typeof control.get('loop_var') === 'string' ? String(control.get('loop_var')) : 'item'
    })()
    const items = this.loopItems(task, vars)
    const found: Declaration[] = []
    for (const item of items === null ? [undefined] : items) {
      const scope = item === undefined ? vars : {...vars, [loopVar]: item}
      const state = typeof args.state === 'string' ? this.renderText(args.state, scope) : null
      if (state !== 'link') continue
      const target = this.target(dest, scope)
      if (target === null || !(target === this.env.codexHome || target.startsWith(this.env.codexHome + path.sep))) continue
      const declaration: Declaration = {target, source: null, origin: {via: 'ansible', file: file.abs, line}}
      const src = args.src
      if (typeof src !== 'string') {
        declaration.unresolved = 'the task has no src'
      } else {
        const source = this.source(src, scope, target)
        if ('path' in source) declaration.source = source.path
        else declaration.unresolved = source.why
      }
      if (declaration.unresolved) this.problems.push({via: 'ansible', file: file.abs, line, message: `the source of ${target} is not known: ${declaration.unresolved}`})
      found.push(declaration)
    }
    if (found.length === 0) return
    // one task reached through two plays gives the same declarations twice
    const fresh = found.filter((d) => !this.declarations.some((e) => e.target === d.target && e.source === d.source && e.origin.file === d.origin.file && e.origin.line === d.origin.line))
    this.declarations.push(...fresh)
    this.tasks.push({file, node: task, line, declarations: found})
  }

  /** `loop` / `with_items` / `with_list` / `with_fileglob` items, or null without a loop; unknown items give none. */
  private loopItems(task: YAMLMap, vars: Vars): unknown[] | null {
    for (const key of ['loop', 'with_items', 'with_list', 'with_fileglob']) {
      if (!task.has(key)) continue
      const value = (task.get(key, true) as Node | undefined)?.toJSON() as unknown
      let items: unknown
      if (typeof value === 'string') items = renderValue(value, this.host(vars))
      else items = Array.isArray(value) ? value.map((v) => (typeof v === 'string' && v.includes('{{') ? renderValue(v, this.host(vars)) : v)) : value
      if (key === 'with_fileglob') {
        const globs = Array.isArray(items) ? items : [items]
        return globs.flatMap((g) => (typeof g === 'string' ? (this.glob(g) ?? []) : []))
      }
      if (isUnknown(items) || !Array.isArray(items)) return []
      // with_items flattens one level
      return key === 'with_items' ? items.flatMap((i) => (Array.isArray(i) ? i : [i])) : items
    }
    return null
  }

  /** A dest as an absolute path; an unknown prefix before `/.codex…` is HOME. */
  private target(dest: string, vars: Vars): string | null {
    const r = render(dest, this.host(vars))
    if ('text' in r) {
      const text = r.text.startsWith('~') ? this.env.home + r.text.slice(1) : r.text
      return path.isAbsolute(text) ? path.resolve(text) : null
    }
    const [head, ...rest] = r.pieces
    const restText = rest.every((p) => typeof p === 'string') ? rest.join('') : null
    const underHome = path.relative(this.env.home, this.env.codexHome).split(path.sep).join('/')
    if (isUnknown(head) && restText !== null && (restText === `/${underHome}` || restText.startsWith(`/${underHome}/`))) return path.resolve(this.env.home + restText)
    return null
  }

  /** A src as an absolute path: relative to the link's folder (Ansible stores it as written); an unknown prefix is the repository when the rest is there. */
  private source(src: string, vars: Vars, target: string): {path: string} | {why: string} {
    const r = render(src, this.host(vars))
    if ('text' in r) {
      const text = r.text.startsWith('~') ? this.env.home + r.text.slice(1) : r.text
      return {path: path.resolve(path.dirname(target), text)}
    }
    const [head, ...rest] = r.pieces
    const restText = rest.every((p) => typeof p === 'string') ? rest.join('') : null
    if (isUnknown(head) && restText !== null && restText.startsWith('/')) {
      const candidate = path.join(this.env.repo, restText)
      if (this.env.exists(candidate) || head.unknown.some((n) => this.knownRoots.has(n))) {
        for (const name of head.unknown) this.rootNames.add(name)
        return {path: candidate}
      }
    }
    const names = r.pieces.filter(isUnknown).flatMap((p: Unknown) => p.unknown)
    return {why: names.length === 1 ? `\`${names[0]}\` is not known` : `${names.map((n) => `\`${n}\``).join(', ')} are not known`}
  }
}

/** A path under roles/<name>/… gives the role's folder. */
function roleOf(abs: string): string | null {
  const parts = abs.split(path.sep)
  const i = parts.lastIndexOf('roles')
  return i !== -1 && i + 2 < parts.length ? parts.slice(0, i + 2).join(path.sep) : null
}

/** Worth a problem when it does not parse: under an Ansible-ish folder, or naming Ansible's words. */
function looksLikeAnsible(abs: string, text: string): boolean {
  return /(^|\/)(roles|tasks|handlers|playbooks|ansible|group_vars|host_vars)\//.test(abs) || /^\s*-?\s*hosts\s*:|ansible\.builtin\.|state:\s*link/m.test(text)
}

async function readWith(env: AnsibleEnvironment, override: ReadonlyMap<string, string> = new Map()): Promise<Reader> {
  let reader = new Reader(env, new Set(), override)
  await reader.readAll()
  // a name that stands for the repository root somewhere stands for it everywhere: read again with it known
  if (reader.rootNames.size > 0 && reader.declarations.some((d) => d.unresolved)) {
    const again = new Reader(env, reader.rootNames, override)
    await again.readAll()
    reader = again
  }
  return reader
}

export async function readAnsibleDeclarations(env: AnsibleEnvironment): Promise<ReaderResult> {
  const reader = await readWith(env)
  return {declarations: reader.declarations, problems: reader.problems}
}

// ---- the edits

/** `"{{ home_dir }}/.codex"` + `config.toml` → `"{{ home_dir }}/.codex/config.toml"`, quotes kept. */
export function appendPath(raw: string, rel: string): string {
  const q = raw[0]
  if ((q === '"' || q === "'") && raw.endsWith(q) && raw.length >= 2) return `${raw.slice(0, -1).replace(/\/$/, '')}/${rel}${q}`
  return `${raw.replace(/\/$/, '')}/${rel}`
}

/** Replaces the trailing `old` path (`prompts`) of a raw value with `rel` (`skills/x`); null when it does not end so. */
function replaceTail(raw: string, old: string, rel: string): string | null {
  const q = raw[0]
  const quoted = (q === '"' || q === "'") && raw.endsWith(q) && raw.length >= 2
  const body = quoted ? raw.slice(1, -1) : raw
  const trimmed = body.replace(/\/+$/, '')
  if (!trimmed.endsWith(`/${old}`)) return null
  const next = `${trimmed.slice(0, -old.length)}${rel}`
  return quoted ? `${q}${next}${q}` : next
}

interface TaskShape {
  /** 0-based first and last line of the task, and the columns of its `-`, its keys and its module's arguments. */
  first: number
  last: number
  dash: number
  key: number
  arg: number
  module: string
  style: 'block' | 'flow' | 'free'
  /** How the arguments are written: the raw text of dest (or path/name) and src, and which key names dest. */
  destKey: string
  dest: string
  src: string | null
  /** The task's other keys (become, when, tags…), as written, one text per key. */
  others: string[]
  lineEnding: string
}

/** The raw source text of a node (quotes included). */
const rawOf = (file: YamlFile, node: Node | null | undefined) => (node?.range ? file.text.slice(node.range[0], node.range[1]) : '')

function shapeOf(file: YamlFile, task: YAMLMap, allLines: readonly string[], nextStart: number | null): TaskShape | {error: string} {
  const modulePair = task.items.find((pair) => isScalar(pair.key) && FILE_MODULES.has(String(pair.key.value)))
  if (!modulePair || !isScalar(modulePair.key)) return {error: 'the task is not a file task'}
  const first = lineOfOffset(file, task.range![0]) - 1
  const firstLine = allLines[first]!
  const key = file.lines.linePos(task.range![0]).col - 1
  const dash = firstLine.lastIndexOf('-', key - 1)
  if (dash === -1 || firstLine.slice(0, dash).trim() !== '') return {error: 'the task does not start a list item line of its own'}
  let last = (nextStart ?? lineOfOffset(file, task.range![1])) - 1
  if (nextStart === null) last = lineOfOffset(file, Math.max(task.range![0], task.range![1] - 1)) - 1
  else last -= 1
  while (last > first && (allLines[last]!.trim() === '' || (allLines[last]!.trim().startsWith('#') && indentOf(allLines[last]!) <= dash))) last--
  const value = modulePair.value
  let style: TaskShape['style']
  let dest = ''
  let destKey = 'dest'
  let src: string | null = null
  let arg = key + 2
  if (isMap(value)) {
    style = value.flow ? 'flow' : 'block'
    for (const k of ['dest', 'path', 'name']) {
      if (value.has(k)) {
        destKey = k
        dest = rawOf(file, value.get(k, true) as Node)
        break
      }
    }
    src = value.has('src') ? rawOf(file, value.get('src', true) as Node) : null
    if (!value.flow && value.items[0]?.key && isScalar(value.items[0].key)) arg = file.lines.linePos(value.items[0].key.range![0]).col - 1
  } else if (isScalar(value) && typeof value.value === 'string') {
    style = 'free'
    const {raw} = freeForm(value.value)
    destKey = 'dest' in raw ? 'dest' : 'path' in raw ? 'path' : 'name'
    dest = raw[destKey] ?? ''
    src = raw.src ?? null
  } else return {error: 'the task\'s arguments are neither a mapping nor key=value words'}
  if (dest === '') return {error: 'the task has no dest'}
  const others: string[] = []
  for (const pair of task.items) {
    if (pair === modulePair || !isScalar(pair.key) || ['name', 'args'].includes(String(pair.key.value))) continue
    const start = lineOfOffset(file, pair.key.range![0]) - 1
    const end = pair.value && (pair.value as Node).range ? lineOfOffset(file, Math.max((pair.value as Node).range![0], (pair.value as Node).range![1] - 1)) - 1 : start
    const block = allLines.slice(start, end + 1)
    block[0] = ' '.repeat(key) + block[0]!.slice(key)
    others.push(block.join('\n'))
  }
  const lineEnding = file.text.includes('\r\n') ? '\r\n' : '\n'
  return {first, last, dash, key, arg, module: String(modulePair.key.value), style, destKey, dest, src, others, lineEnding}
}

const indentOf = (line: string) => line.length - line.trimStart().length

/** One task in the shape of `shape`, with `name` and the arguments given (raw values). */
function taskText(shape: TaskShape, name: string, args: readonly [string, string][]): string {
  const pad = ' '.repeat(shape.dash)
  const gap = ' '.repeat(shape.key - shape.dash - 1)
  const keyPad = ' '.repeat(shape.key)
  const argPad = ' '.repeat(shape.arg)
  const head = `${pad}-${gap}name: ${name}`
  let module: string
  if (shape.style === 'block') module = [`${keyPad}${shape.module}:`, ...args.map(([k, v]) => `${argPad}${k}: ${v}`)].join('\n')
  else if (shape.style === 'flow') module = `${keyPad}${shape.module}: {${args.map(([k, v]) => `${k}: ${v}`).join(', ')}}`
  else module = `${keyPad}${shape.module}: ${args.map(([k, v]) => `${k}=${v.replace(/^'(.*)'$/, '$1')}`).join(' ')}`
  return [head, module, ...shape.others].join('\n')
}

const entryName = (rel: string) => (rel.startsWith('skills/') ? `codex skill ${rel.slice('skills/'.length)} is symlinked` : `codex ${rel} ${rel.includes('.') ? 'is' : 'are'} symlinked`)

/** The task at `line` in a file, and where the next task of its list starts (for its extent). */
function taskAt(file: YamlFile, line: number): {task: YAMLMap; nextStart: number | null} | null {
  let found: {task: YAMLMap; nextStart: number | null} | null = null
  const visit = (node: unknown): void => {
    if (found) return
    if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (found) return
        if (isMap(item) && item.range && lineOfOffset(file, item.range[0]) === line) {
          const next = node.items[i + 1] as Node | undefined
          found = {task: item, nextStart: next?.range ? lineOfOffset(file, next.range[0]) : null}
          return
        }
        visit(item)
      })
    } else if (isMap(node)) for (const pair of node.items) visit(pair.value)
  }
  visit(file.doc.contents)
  return found
}

function splice(text: string, first: number, last: number, replacement: string, lineEnding: string): string {
  const lines = text.split(/\r?\n/)
  lines.splice(first, last - first + 1, ...replacement.split('\n'))
  return lines.join(lineEnding)
}

/** The edited text must read back as exactly what was asked: the targets with their sources, and no whole-folder link left. */
async function verify(env: AnsibleEnvironment, file: string, text: string, wanted: readonly {target: string; source: string}[], gone: Declaration | null): Promise<string | null> {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) return `the edited file would not parse: ${doc.errors[0]!.message.split('\n')[0]}`
  const reader = await readWith(env, new Map([[file, text]]))
  const mine = reader.declarations.filter((d) => d.origin.file === file)
  for (const w of wanted) {
    if (!mine.some((d) => d.target === w.target && d.source === w.source)) return `the edited file would not link ${w.target} to ${w.source}`
  }
  if (gone && mine.some((d) => d.target === gone.target)) return 'the edited file would still link the whole folder'
  return null
}

/** Seed step 3: the whole-folder link task becomes a directory task, then one link task per entry, in the task's own style. */
export async function rewriteAnsibleFolderLink(
  file: string,
  text: string,
  folder: Declaration,
  entries: readonly {target: string; source: string}[],
  env: AnsibleEnvironment,
): Promise<{text: string} | {error: string}> {
  if (!folder.source || folder.origin.line === null) return {error: 'the folder link\'s source is not known'}
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: false})
  if (doc.errors.length > 0) return {error: 'the file does not parse'}
  const yaml: YamlFile = {abs: file, text, doc, lines}
  const at = taskAt(yaml, folder.origin.line)
  if (!at) return {error: `no task at line ${folder.origin.line}`}
  if (['loop', 'with_items', 'with_list', 'with_fileglob'].some((k) => at.task.has(k))) return {error: 'its folder task loops over items'}
  const shape = shapeOf(yaml, at.task, text.split(/\r?\n/), at.nextStart)
  if ('error' in shape) return shape
  if (shape.src === null) return {error: 'the task has no src'}
  // the seed's tasks: `path` for the folder, `dest` for each link
  const tasks = [taskText(shape, 'Ensure ~/.codex directory exists', [['state', 'directory'], ['path', shape.dest], ['mode', "'0755'"]])]
  for (const e of entries) {
    const relTarget = path.relative(folder.target, e.target).split(path.sep).join('/')
    const relSource = path.relative(folder.source, e.source).split(path.sep).join('/')
    if (relTarget.startsWith('..') || relSource.startsWith('..')) return {error: `${e.source} is not inside ${folder.source}`}
    tasks.push(taskText(shape, entryName(relTarget), [['state', 'link'], ['dest', appendPath(shape.dest, relTarget)], ['src', appendPath(shape.src, relSource)]]))
  }
  const next = splice(text, shape.first, shape.last, tasks.join('\n\n'), shape.lineEnding)
  const problem = await verify(env, file, next, entries, folder)
  return problem ? {error: problem} : {text: next}
}

/** New link tasks next to an existing link task (`like`), in its style; a task looping over literal items gets new items instead. */
export async function addAnsibleLinks(
  file: string,
  text: string,
  like: Declaration,
  entries: readonly {target: string; source: string}[],
  env: AnsibleEnvironment,
): Promise<{text: string} | {error: string}> {
  if (!like.source || like.origin.line === null) return {error: 'the task to follow has no known source'}
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: false})
  if (doc.errors.length > 0) return {error: 'the file does not parse'}
  const yaml: YamlFile = {abs: file, text, doc, lines}
  const at = taskAt(yaml, like.origin.line)
  if (!at) return {error: `no task at line ${like.origin.line}`}
  if (['loop', 'with_items', 'with_list', 'with_fileglob'].some((k) => at.task.has(k))) return {error: 'the task loops; add the new entries to its list by hand'}
  const shape = shapeOf(yaml, at.task, text.split(/\r?\n/), at.nextStart)
  if ('error' in shape) return shape
  if (shape.src === null) return {error: 'the task has no src'}
  const oldTarget = path.basename(like.target)
  const oldSource = path.basename(like.source)
  const tasks: string[] = []
  for (const e of entries) {
    const relTarget = path.relative(path.dirname(like.target), e.target).split(path.sep).join('/')
    const relSource = path.relative(path.dirname(like.source), e.source).split(path.sep).join('/')
    if (relTarget.startsWith('..') || relSource.startsWith('..')) return {error: `${e.source} is not beside ${like.source}`}
    const dest = replaceTail(shape.dest, oldTarget, relTarget)
    const src = replaceTail(shape.src, oldSource, relSource)
    if (dest === null || src === null) return {error: 'the task\'s dest or src does not end with its entry\'s name'}
    tasks.push(taskText(shape, entryName(relTarget), [['state', 'link'], [shape.destKey, dest], ['src', src]]))
  }
  const allLines = text.split(/\r?\n/)
  const original = allLines.slice(shape.first, shape.last + 1).join('\n')
  const next = splice(text, shape.first, shape.last, [original, ...tasks].join('\n\n'), shape.lineEnding)
  const problem = await verify(env, file, next, [{target: like.target, source: like.source}, ...entries], null)
  return problem ? {error: problem} : {text: next}
}

/**
 * `ansible-playbook --syntax-check` on a text that would replace `file`, without writing next to
 * it: a mirror in the temp folder holds the edited file under its own name and links to its
 * siblings (so relative imports, vars_files and roles/ still resolve); a task file gets a small
 * playbook that imports it. Null when ansible-playbook is not installed.
 */
export async function ansibleSyntaxCheck(file: string, text: string, env: NodeJS.ProcessEnv, tempDir?: string): Promise<{ok: true} | {ok: false; message: string} | null> {
  const {mkdtemp, readdir, rm, symlink, writeFile, mkdir} = await import('node:fs/promises')
  const os = await import('node:os')
  const root = await mkdtemp(path.join(tempDir ?? os.tmpdir(), 'codex-doctor-ansible-'))
  try {
    const mirror = path.join(root, 'mirror')
    await mkdir(mirror)
    const dir = path.dirname(file)
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name !== path.basename(file)) await symlink(path.join(dir, name), path.join(mirror, name)).catch(() => undefined)
    }
    const edited = path.join(mirror, path.basename(file))
    await writeFile(edited, text)
    const doc = parseDocument(text)
    const playbook = isSeq(doc.contents) && doc.contents.items.some((item) => isMap(item) && (item.has('hosts') || item.has('import_playbook') || item.has('ansible.builtin.import_playbook')))
    let target = edited
    if (!playbook) {
      target = path.join(mirror, '.codex-doctor-syntax-check.yml')
      await writeFile(target, `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.import_tasks: ${JSON.stringify(edited)}\n`)
    }
    const home = path.join(root, 'home')
    await mkdir(home)
    const roles = [path.join(dir, 'roles'), path.join(path.dirname(dir), 'roles'), path.dirname(dir)].join(':')
    const result = await run('ansible-playbook', ['--syntax-check', '-i', 'localhost,', target], {
      env: {...env, HOME: home, ANSIBLE_HOME: path.join(home, '.ansible'), ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'), ANSIBLE_ROLES_PATH: roles, ANSIBLE_NOCOLOR: '1'},
      cwd: mirror,
      timeoutMs: 60_000,
    })
    if (result.failedToStart === 'ENOENT') return null
    if (result.exitCode === 0) return {ok: true}
    const said = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).find((l) => /^ERROR!/.test(l)) ?? (result.stderr.trim().split('\n')[0] || `exit ${result.exitCode}`)
    return {ok: false, message: said.replaceAll(mirror, dir)}
  } finally {
    await rm(root, {recursive: true, force: true})
  }
}
