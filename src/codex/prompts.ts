/** The custom prompts Codex loads from a folder, read the way custom_prompts.rs does, and the entries it ignores, with why. */
import path from 'node:path'
import {readdir, readFile, realpath} from '../fs-now.js'
import * as semver from '../semver.js'

import {PROMPTS_REMOVED_IN} from '../codex-facts.js'
import {readChain, statOrUndefined} from '../context/chain.js'
import {readPromptFrontMatter} from '../parse/front-matter.js'

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
  const link = statOrUndefined(full, false)
  const target = statOrUndefined(full)
  const isLink = link?.isSymbolicLink() ?? false
  const ext = path.extname(name)
  if (!target) {
    const chain = readChain(full)
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
  const st = statOrUndefined(folder)
  if (!st) {
    const chain = readChain(folder)
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
