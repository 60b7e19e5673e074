import path from 'node:path'
import {parse, TomlError} from 'smol-toml'

import {type Chain, readChain} from '../context/chain.js'
import {hopLines} from '../codex/home.js'
import {readFile} from '../fs-now.js'
import type {Check, Outcome} from './types.js'
import {shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

export interface TomlProblem {
  line: number
  column: number
  /** smol-toml's first line, without the excerpt: the excerpt would quote the file, which may hold tokens. */
  message: string
}

/** Parses TOML; the number of top-level keys, or where and why it does not parse. */
export function parseToml(text: string): {keys: number} | TomlProblem {
  try {
    return {keys: Object.keys(parse(text)).length}
  } catch (error) {
    if (!(error instanceof TomlError)) throw error
    const message = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') || 'invalid TOML'
    return {line: error.line, column: error.column, message}
  }
}

/** The link is the problem, not the TOML: the links check says how to repair it. */
const RELINK = {text: "Link config.toml to the repository's file: see the links check, whose fix (codex-doctor --fix) does it.", automatic: false}

/**
 * The verdict on CODEX_HOME/config.toml from its chain and, when it ends at a file, its text.
 * As measured on 0.89 and later: no config.toml (or a dangling link) lets Codex start with its
 * defaults, so that is the links check's business; a loop, a folder or bad TOML stops Codex.
 */
export function configVerdict(chain: Chain, read: {text: string} | {error: string} | null): Outcome {
  const final = chain.final
  const details = {path: chain.start, final, chain: hopLines(chain)}
  switch (chain.end) {
    case 'missing':
      return {status: 'skip', summary: `no config.toml${chain.hops.length ? ` (the link ends at ${final}, which does not exist)` : ''}; see links`, details}
    case 'loop':
      return {status: 'fail', summary: `config.toml is a link loop: Codex fails with "Symbolic link loop"; see links`, details, remediation: RELINK}
    case 'dir':
    case 'other':
      return {
        status: 'fail',
        summary: `config.toml ends at ${chain.end === 'dir' ? 'a folder' : 'neither a file nor a folder'} (${final}): Codex fails to load its configuration; see links`,
        details,
        remediation: RELINK,
      }
    case 'file':
      break
  }
  if (read === null || 'error' in read) {
    return {status: 'fail', summary: `${final} cannot be read (${read?.error ?? 'unknown error'}): Codex cannot load it either`, details}
  }
  const parsed = parseToml(read.text)
  if ('keys' in parsed) return {status: 'pass', summary: `${final} parses as TOML (${parsed.keys} top-level key${parsed.keys === 1 ? '' : 's'})`, details: {...details, keys: parsed.keys}}
  return {
    status: 'fail',
    summary: `${final}:${parsed.line}:${parsed.column}: ${parsed.message}`,
    details: {...details, line: parsed.line, column: parsed.column, error: parsed.message},
    remediation: {
      text: `Fix line ${parsed.line}, column ${parsed.column} of ${final}; Codex refuses to start until it parses.`,
      commands: [`\${EDITOR:-vi} +${parsed.line} ${shellQuote(final)}`],
      automatic: false,
    },
  }
}

export const configToml: Check = {
  id: 'config-toml',
  title: CHECK_TITLES['config-toml'],
  async run(ctx) {
    const chain = readChain(path.join(ctx.codexHome, 'config.toml'))
    let read: {text: string} | {error: string} | null = null
    if (chain.end === 'file') {
      try {
        read = {text: await readFile(chain.final, 'utf8')}
      } catch (error) {
        read = {error: (error as NodeJS.ErrnoException).code ?? String(error)}
      }
    }
    return configVerdict(chain, read)
  },
}
