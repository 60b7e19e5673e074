/** `links` in codex-doctor.toml: the old list of entry names or the table, `*` expanded over the repository's folder. */
import path from 'node:path'

import type {LinkSpec} from '../context/config.js'
import {readdir} from '../fs-now.js'
import type {Declaration} from './types.js'

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort()
  } catch {
    return []
  }
}

export async function readConfigLinks(links: readonly LinkSpec[], file: string, repo: string, codexHome: string): Promise<Declaration[]> {
  const out: Declaration[] = []
  for (const spec of links) {
    const origin = {via: 'codex-doctor.toml' as const, file, line: spec.line}
    if (!spec.target.endsWith('*')) {
      out.push({target: path.join(codexHome, ...spec.target.split('/')), source: path.join(repo, ...spec.source.split('/')), origin})
      continue
    }
    // "skills/*" = "skills/*": one link per entry of the repository's folder
    const targetDir = spec.target.slice(0, -1)
    const sourceDir = path.join(repo, ...spec.source.slice(0, -1).split('/'))
    for (const name of await names(sourceDir)) {
      out.push({target: path.join(codexHome, ...targetDir.split('/').filter(Boolean), name), source: path.join(sourceDir, name), origin})
    }
  }
  return out
}
