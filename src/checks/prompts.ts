import {readdir, readFile, realpath} from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'

import {PROMPTS_REMOVED_IN} from '../codex-facts.js'
import {readChain, statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {readPromptFrontMatter} from './front-matter.js'
import {listSome, shellQuote} from './shared.js'
import type {Check, Outcome} from './types.js'

/** A prompt Codex shows as `/prompts:<name>`. */
export interface LoadedPrompt {
  name: string
  command: string
  description: string | null
  argumentHint: string | null
}

export interface IgnoredPrompt {
  /** The entry's file name in the prompts folder. */
  name: string
  reason: string
}

export interface PromptsFolder {
  folder: string
  loaded: LoadedPrompt[]
  ignored: IgnoredPrompt[]
  /** Loaded, but `---` is never closed: Codex sends the front matter as part of the prompt and shows no description. */
  unclosed: string[]
  /** Non-.md files that look like prompts, as full paths, to suggest a rename. */
  renamable: string[]
}

/** What stands at CODEX_HOME/prompts when it is not a readable folder. */
export type PromptsMissing = {folder: string; problem: string}

const LOOKS_LIKE_PROMPT = new Set(['.txt', '.markdown', '.mdx', '.prompt'])
const utf8 = new TextDecoder('utf-8', {fatal: true})

/** One entry of the prompts folder judged as custom_prompts.rs does: top-level files (links followed) named *.md, valid UTF-8. */
async function inspectEntry(folder: string, realFolder: string, name: string): Promise<{loaded: LoadedPrompt; unclosed: boolean} | {ignored: IgnoredPrompt; renamable?: string} | null> {
  const full = path.join(folder, name)
  const link = await statOrUndefined(full, false)
  const target = await statOrUndefined(full)
  const isLink = link?.isSymbolicLink() ?? false
  const ext = path.extname(name)
  if (!target) {
    const chain = await readChain(full)
    const why = chain.end === 'loop' ? 'a link loop' : `a dangling link (to ${chain.final})`
    return {ignored: {name, reason: `${why}: Codex skips it`}}
  }
  if (target.isDirectory()) {
    return {ignored: {name, reason: `${isLink ? 'a link to a folder' : 'a folder'}: Codex reads only .md files at the top level of prompts`}}
  }
  if (!target.isFile()) return {ignored: {name, reason: 'not a regular file'}}
  if (ext.toLowerCase() !== '.md') {
    // dotfiles such as .DS_Store or .gitkeep are not meant as prompts: not worth a warning
    if (name.startsWith('.') && ext === '') return null
    const renamable = (LOOKS_LIKE_PROMPT.has(ext.toLowerCase()) || ext === '') && !link?.isSymbolicLink() ? path.join(realFolder, name) : undefined
    return {ignored: {name, reason: 'not a .md file: Codex loads only *.md'}, renamable}
  }
  let text: string
  try {
    text = utf8.decode(await readFile(full))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return {ignored: {name, reason: code ? `cannot be read (${code})` : 'not valid UTF-8 text: Codex skips it'}}
  }
  const promptName = path.basename(name, ext)
  const fm = readPromptFrontMatter(text)
  return {
    loaded: {name: promptName, command: `/prompts:${promptName}`, description: fm.description, argumentHint: fm.argumentHint},
    unclosed: fm.unclosed,
  }
}

/** Lists CODEX_HOME/prompts (through its link) the way this Codex would. */
export async function readPromptsFolder(folder: string): Promise<PromptsFolder | PromptsMissing> {
  const st = await statOrUndefined(folder)
  if (!st) {
    const chain = await readChain(folder)
    if (chain.hops.length === 0) return {folder, problem: `${folder} does not exist`}
    return {folder, problem: chain.end === 'loop' ? `${folder} is a link loop` : `${folder} is a dangling link (to ${chain.final})`}
  }
  if (!st.isDirectory()) return {folder, problem: `${folder} is not a folder`}
  const result: PromptsFolder = {folder, loaded: [], ignored: [], unclosed: [], renamable: []}
  // renames are suggested where the files really live: in the repository, not through the link
  const realFolder = await realpath(folder)
  for (const name of (await readdir(folder)).sort()) {
    const entry = await inspectEntry(folder, realFolder, name)
    if (!entry) continue
    if ('loaded' in entry) {
      result.loaded.push(entry.loaded)
      if (entry.unclosed) result.unclosed.push(name)
    } else {
      result.ignored.push(entry.ignored)
      if (entry.renamable) result.renamable.push(entry.renamable)
    }
  }
  result.loaded.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return result
}

/** Whether this Codex version still loads custom prompts; null version: unknown, judged as if it does. */
export function loadsPrompts(version: string | null): boolean {
  return version === null || !semver.valid(version) || semver.lt(version, PROMPTS_REMOVED_IN)
}


const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`

/** The verdict, from what the folder holds and the Codex version (pure). */
export function judgePrompts(state: PromptsFolder | PromptsMissing, version: string | null): Outcome {
  const unknown = version === null ? ' (Codex version unknown: judged as if it loads prompts)' : ''
  if (!loadsPrompts(version)) {
    const files = 'problem' in state ? [] : [...state.loaded.map((p) => p.name + '.md'), ...state.ignored.map((p) => p.name)]
    const reason = `Codex ${version} no longer loads custom prompts`
    return {
      status: 'warn',
      summary: `Codex ${version} no longer loads custom prompts; move them to skills`,
      details: {
        folder: state.folder,
        version,
        removedIn: PROMPTS_REMOVED_IN,
        loaded: [],
        ignored: 'problem' in state ? [] : [...state.loaded.map((p) => ({name: p.name + '.md', reason})), ...state.ignored],
      },
      remediation: {
        text:
          `Codex ${PROMPTS_REMOVED_IN} and later read skills instead of prompts. Make each prompt a skill: a folder skills/<name>/ ` +
          `holding SKILL.md whose front matter has "name" and "description" (the prompt's text below it); add "skills" to links in ` +
          `codex-doctor.toml and drop "prompts" from it.` +
          (files.length > 0 ? ` Prompts to move: ${listSome(files, 10)}.` : ''),
        commands: [],
      },
    }
  }

  if ('problem' in state) {
    return {
      status: 'fail',
      summary: `no prompts load: ${state.problem}${unknown}`,
      details: {folder: state.folder, version, loaded: [], ignored: []},
      remediation: {
        text: 'CODEX_HOME/prompts should be a link to the repository\'s prompts folder; the links check creates or repairs it.',
        commands: ['codex-doctor links --fix'],
      },
    }
  }

  const details = {folder: state.folder, version, loaded: state.loaded, ignored: state.ignored, ...(state.unclosed.length > 0 ? {unclosedFrontMatter: state.unclosed} : {})}
  const ignoredText = state.ignored.map((i) => `${i.name} (${i.reason.split(/[:(]/)[0]!.trim()})`)
  const renames = state.renamable.map((p) => `mv ${shellQuote(p)} ${shellQuote(p.slice(0, p.length - path.extname(p).length) + '.md')}`)
  const fixText =
    'Codex loads only regular *.md files (or links to them) at the top level of prompts: move nested prompts up, rename other files to .md, repair or remove dangling links.'

  if (state.loaded.length === 0 && state.ignored.length === 0) {
    return {
      status: 'warn',
      summary: `the prompts folder is empty: no custom prompt to load${unknown}`,
      details,
      remediation: {text: `Add prompts as ${state.folder}/<name>.md, or drop "prompts" from links in codex-doctor.toml.`, commands: []},
    }
  }
  if (state.loaded.length === 0) {
    return {
      status: 'fail',
      summary: `none of the ${plural(state.ignored.length, 'entry', 'entries')} in prompts loads: ${listSome(ignoredText, 3)}${unknown}`,
      details,
      remediation: {text: fixText, commands: renames},
    }
  }
  const loadedText = `${plural(state.loaded.length, 'prompt')} ${state.loaded.length === 1 ? 'loads' : 'load'}`
  if (state.ignored.length > 0) {
    return {
      status: 'warn',
      summary: `${loadedText}; ${plural(state.ignored.length, 'entry', 'entries')} ignored: ${listSome(ignoredText, 3)}${unknown}`,
      details,
      remediation: {text: fixText, commands: renames},
    }
  }
  if (state.unclosed.length > 0) {
    return {
      status: 'warn',
      summary: `${loadedText}, but the front matter of ${listSome(state.unclosed, 3)} is never closed by ---, so Codex sends it as part of the prompt${unknown}`,
      details,
      remediation: {text: 'Close the front matter with a line holding only --- (or remove the opening ---).', commands: []},
    }
  }
  return {status: 'pass', summary: `${loadedText}: ${listSome(state.loaded.map((p) => p.command), 5)}${unknown}`, details}
}

export const prompts: Check = {
  id: 'prompts',
  title: 'Custom prompts load',
  async run(ctx: Context) {
    const folder = path.join(ctx.codexHome, 'prompts')
    const managed = ctx.config.links.includes('prompts')
    if (!managed && !(await statOrUndefined(folder, false))) {
      return {status: 'skip', summary: 'no prompts folder in CODEX_HOME, and "prompts" is not in links'}
    }
    const [state, codex] = await Promise.all([readPromptsFolder(folder), ctx.codex()])
    return judgePrompts(state, codex.version)
  },
}
