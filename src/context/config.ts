import {readFile} from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import {parse, TomlError} from 'smol-toml'

import {UsageError} from '../errors.js'

/** The optional `codex-doctor.toml` at the dotfiles root. */
export interface DoctorConfig {
  min_version?: string
  /** The repository's codex folder, relative to the dotfiles root. */
  codex_dir: string
  /** Entries of CODEX_HOME that are links into the repository's codex folder. */
  links: string[]
  skip: string[]
  /** More runtime state names (files or folders) that must not live in the repository. */
  extra_state: string[]
}

export const CONFIG_FILE = 'codex-doctor.toml'
export const DEFAULT_CONFIG: DoctorConfig = {codex_dir: 'config/codex', links: ['config.toml', 'prompts'], skip: [], extra_state: []}

type Kind = 'string' | 'string[]' | 'semver'
const KEYS: Record<keyof DoctorConfig, Kind> = {
  min_version: 'semver',
  codex_dir: 'string',
  links: 'string[]',
  skip: 'string[]',
  extra_state: 'string[]',
}

/** The 1-based line on which `key = …` stands, for error messages. */
function lineOf(text: string, key: string): number | undefined {
  const lines = text.split('\n')
  const re = new RegExp(`^\\s*["']?${key.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*=`)
  const i = lines.findIndex((l) => re.test(l))
  return i === -1 ? undefined : i + 1
}

function fail(file: string, text: string, key: string, message: string): never {
  const line = lineOf(text, key)
  throw new UsageError(`${file}${line ? `:${line}` : ''}: ${message}`)
}

function isEntryName(value: string): boolean {
  return value !== '' && value !== '.' && value !== '..' && !value.includes('\0') && !path.isAbsolute(value) && !value.split('/').includes('..')
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

  const config: DoctorConfig = {...DEFAULT_CONFIG}
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in KEYS)) {
      fail(file, text, key, `unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`)
    }
    const kind = KEYS[key as keyof DoctorConfig]
    if (kind === 'string[]') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        fail(file, text, key, `"${key}" must be an array of strings`)
      }
    } else if (typeof value !== 'string') {
      fail(file, text, key, `"${key}" must be a string`)
    }
    if (kind === 'semver' && !semver.valid(value as string)) {
      fail(file, text, key, `"${key}" must be a version such as "0.89.0", not "${String(value)}"`)
    }
    ;(config as unknown as Record<string, unknown>)[key] = value
  }

  if (!isEntryName(config.codex_dir)) fail(file, text, 'codex_dir', `"codex_dir" must be a relative path inside the repository`)
  for (const key of ['links', 'extra_state'] as const) {
    const bad = config[key].find((v) => !isEntryName(v))
    if (bad !== undefined) fail(file, text, key, `"${key}" holds "${bad}", which is not a relative entry name`)
  }
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
