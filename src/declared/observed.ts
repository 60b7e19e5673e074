/**
 * What exists: links in CODEX_HOME (and one level down, skills/<name>) whose chain ends in the
 * repository. CODEX_HOME itself linked into the repository is the old layout's whole-folder link.
 */
import path from 'node:path'

import {type Chain, isInside, readChain} from '../context/chain.js'
import {lstat, readdir, realpath} from '../fs-now.js'
import type {Declaration} from './types.js'

/** Where a chain ends, with the links among its folders resolved; a dangling end resolves its folder only. */
export async function realEnd(chain: Chain): Promise<string | null> {
  if (chain.end === 'loop') return null
  try {
    if (chain.end !== 'missing') return await realpath(chain.final)
    return path.join(await realpath(path.dirname(chain.final)), path.basename(chain.final))
  } catch {
    return null
  }
}

const observed = (target: string, source: string): Declaration => ({target, source, origin: {via: 'observed', file: null, line: null}})

async function linksIn(dir: string, repo: string, skip: (name: string) => boolean): Promise<Declaration[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch {
    return []
  }
  const found: Declaration[] = []
  for (const name of names) {
    if (skip(name)) continue
    const at = path.join(dir, name)
    const info = await lstat(at).catch(() => null)
    if (!info?.isSymbolicLink()) continue
    const end = await realEnd(readChain(at))
    if (end && isInside(end, repo)) found.push(observed(at, end))
  }
  return found
}

/** The links that exist and lead into `repo` (a real path). */
export async function readObserved(codexHome: string, repo: string): Promise<Declaration[]> {
  const home = await lstat(codexHome).catch(() => null)
  if (!home) return []
  if (home.isSymbolicLink()) {
    // the old layout: everything inside is the repository's own folder, seen through the link
    const end = await realEnd(readChain(codexHome))
    return end && isInside(end, repo) ? [observed(codexHome, end)] : []
  }
  if (!home.isDirectory()) return []
  const top = await linksIn(codexHome, repo, () => false)
  const skills = path.join(codexHome, 'skills')
  const skillsInfo = await lstat(skills).catch(() => null)
  // skills/.system is Codex's own; a linked skills/ folder is one entry, seen above
  const perSkill = skillsInfo?.isDirectory() ? await linksIn(skills, repo, (name) => name.startsWith('.')) : []
  return [...top, ...perSkill]
}
