import path from 'node:path'
import {readFile} from '../fs-now.js'
import * as semver from '../semver.js'
import {parse, TomlError} from 'smol-toml'

import {UsageError} from '../errors.js'

/** One `links` entry: CODEX_HOME/<target> → <dotfiles>/<source>; `*` only as the last segment of both. */
export interface LinkSpec {
  /** Path under CODEX_HOME, '/'-separated (`config.toml`, `skills/*`). */
  target: string
  /** Path under the dotfiles root, '/'-separated. */
  source: string
  /** 1-based line of codex-doctor.toml where it is written. */
  line: number | null
}

/** The optional `codex-doctor.toml` at the dotfiles root. */
export interface DoctorConfig {
  min_version?: string
  /** The repository's codex folder, relative to the dotfiles root; unset: found from the links (SPEC's last default: config/codex). */
  codex_dir?: string
  /** Declared links; unset: the declarations come from Nix, Ansible, stow or what exists. */
  links?: LinkSpec[]
  /** `links` as written: the old list of entry names, or the table. */
  linksForm?: 'list' | 'table'
  skip: string[]
  /** More runtime state names (files or folders) that must not live in the repository. */
  extra_state: string[]
}

export const CONFIG_FILE = 'codex-doctor.toml'
/** The last default for the repository's codex folder (the seed's layout). */
export const DEFAULT_CODEX_DIR = 'config/codex'
export const DEFAULT_CONFIG: DoctorConfig = {skip: [], extra_state: []}

type Kind = 'string' | 'string[]' | 'semver' | 'links'
const KEYS: Record<'min_version' | 'codex_dir' | 'links' | 'skip' | 'extra_state', Kind> = {
  min_version: 'semver',
  codex_dir: 'string',
  links: 'links',
  skip: 'string[]',
  extra_state: 'string[]',
}

const escapeRegExp = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The 1-based line on which `key = …` (or the table header `[key]`) stands, for error messages; after `from` when given. */
export function lineOf(text: string, key: string, from = 0): number | undefined {
  const lines = text.split('\n')
  const k = escapeRegExp(key)
  // `key =`, or `key.more =` (a dotted key)
  const assignment = new RegExp(`^\\s*(["']?)${k}\\1\\s*[=.]`)
  const header = new RegExp(`^\\s*\\[\\s*(["']?)${k}\\1\\s*\\]`)
  for (let i = from; i < lines.length; i++) if (assignment.test(lines[i]!) || header.test(lines[i]!)) return i + 1
  return undefined
}

function fail(file: string, text: string, key: string, message: string, line = lineOf(text, key)): never {
  throw new UsageError(`${file}${line ? `:${line}` : ''}: ${message}`)
}

/** A relative path that stays inside its root: no `..`, not absolute, not empty. */
export function isEntryName(value: string): boolean {
  return value !== '' && value !== '.' && !value.includes('\0') && !path.isAbsolute(value) && !value.split('/').some((s) => s === '..' || s === '')
}

/** `*` may stand only as the whole last segment, on both sides at once. */
function wildcardProblem(target: string, source: string): string | null {
  const star = (p: string) => p.split('/').findIndex((s) => s.includes('*'))
  const [t, s] = [star(target), star(source)]
  if (t === -1 && s === -1) return null
  const lastOnly = (p: string, i: number) => i === p.split('/').length - 1 && p.split('/')[i] === '*'
  if (t === -1 || s === -1) return 'use * on both sides or on neither'
  if (!lastOnly(target, t) || !lastOnly(source, s)) return '* may only stand as the whole last segment'
  return null
}

/** The `links` value: the old list of entry names (sources under codex_dir) or the table of CODEX_HOME path → dotfiles path. */
function parseLinks(value: unknown, file: string, text: string, codexDir: string | undefined): {links: LinkSpec[]; form: 'list' | 'table'} {
  if (Array.isArray(value)) {
    if (!value.every((v) => typeof v === 'string')) fail(file, text, 'links', '"links" must be an array of entry names or a table of "<path under CODEX_HOME>" = "<path under the dotfiles root>"')
    const line = lineOf(text, 'links') ?? null
    const bad = (value as string[]).find((v) => !isEntryName(v) || v.includes('*'))
    if (bad !== undefined) fail(file, text, 'links', `"links" holds "${bad}", which is not a relative entry name`)
    const base = codexDir ?? DEFAULT_CODEX_DIR
    return {links: (value as string[]).map((entry) => ({target: entry, source: `${base}/${entry}`, line})), form: 'list'}
  }
  if (value === null || typeof value !== 'object') {
    fail(file, text, 'links', '"links" must be an array of entry names or a table of "<path under CODEX_HOME>" = "<path under the dotfiles root>"')
  }
  const header = lineOf(text, 'links') ?? 0
  const links: LinkSpec[] = []
  for (const [target, source] of Object.entries(value as Record<string, unknown>)) {
    // an inline table (`links = { … }`) stands on the links line itself
    const line = lineOf(text, target, header > 0 ? header - 1 : 0) ?? (header || null)
    const here = (message: string): never => fail(file, text, target, message, line ?? undefined)
    // `config.toml = "…"` unquoted is the dotted key config → toml in TOML
    if (source !== null && typeof source === 'object') here(`links key "${target}" holds a table: quote keys that contain a dot, e.g. "config.toml" = "codex/config.toml"`)
    if (typeof source !== 'string') here(`links."${target}" must be a string: the path under the dotfiles root it links to`)
    const src = source as string
    if (!isEntryName(target)) here(`links key "${target}" is not a relative path under CODEX_HOME`)
    if (!isEntryName(src)) here(`links."${target}" = "${src}" is not a relative path inside the dotfiles repository`)
    const star = wildcardProblem(target, src)
    if (star) here(`links."${target}" = "${src}": ${star}`)
    links.push({target, source: src, line})
  }
  return {links, form: 'table'}
}

/** Parse and validate; every problem is a UsageError naming the file, the key and the line. */
export function parseConfig(text: string, file: string, checkIds: readonly string[]): DoctorConfig {
  let raw: Record<string, unknown>
  try {
    raw = parse(text)
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML'
      throw new UsageError(`${file}:${error.line}:${error.column}: ${first}`)
    }
    throw error
  }

  const config: DoctorConfig = {skip: [], extra_state: []}
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in KEYS)) fail(file, text, key, `unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`)
    const kind = KEYS[key as keyof typeof KEYS]
    if (kind === 'links') continue
    if (kind === 'string[]') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(file, text, key, `"${key}" must be an array of strings`)
    } else if (typeof value !== 'string') {
      fail(file, text, key, `"${key}" must be a string`)
    }
    if (kind === 'semver' && !semver.valid(value as string)) fail(file, text, key, `"${key}" must be a version such as "0.89.0", not "${String(value)}"`)
    ;(config as unknown as Record<string, unknown>)[key] = value
  }

  if (config.codex_dir !== undefined && !isEntryName(config.codex_dir.replace(/\/+$/, ''))) {
    fail(file, text, 'codex_dir', `"codex_dir" must be a relative path inside the repository`)
  }
  if (config.codex_dir !== undefined) config.codex_dir = config.codex_dir.replace(/\/+$/, '')
  if ('links' in raw) {
    const {links, form} = parseLinks(raw.links, file, text, config.codex_dir)
    config.links = links
    config.linksForm = form
  }
  const bad = config.extra_state.find((v) => !isEntryName(v))
  if (bad !== undefined) fail(file, text, 'extra_state', `"extra_state" holds "${bad}", which is not a relative entry name`)
  const unknown = config.skip.find((id) => !checkIds.includes(id))
  if (unknown !== undefined) fail(file, text, 'skip', `"skip" names unknown check "${unknown}" (see codex-doctor checks)`)
  return config
}

/** Reads `<dotfiles>/codex-doctor.toml` when it exists. */
export async function loadConfig(dotfiles: string | null, checkIds: readonly string[]): Promise<{config: DoctorConfig; file: string | null}> {
  if (!dotfiles) return {config: {...DEFAULT_CONFIG}, file: null}
  const file = path.join(dotfiles, CONFIG_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {config: {...DEFAULT_CONFIG}, file: null}
    throw new UsageError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  return {config: parseConfig(text, file, checkIds), file}
}
