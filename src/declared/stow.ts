/**
 * GNU stow: a package folder holding `.codex/` (or whatever CODEX_HOME is relative to HOME)
 * declares every entry under it. Stow links each entry (folding a folder into one link when it
 * can, or file by file with --no-folding), so a real folder of linked files counts as linked.
 */
import path from 'node:path'

import {matchesState, RUNTIME_STATE} from '../codex-facts.js'
import {readdir} from '../fs-now.js'
import type {RepoFacts} from '../repo/facts.js'
import type {Declaration} from './types.js'

/** Package folders (repo-relative) that hold `<rel>/`: `codex` for `codex/.codex/config.toml`; at most two folders deep. */
export function stowPackages(files: readonly string[], rel: string): string[] {
  const packages = new Set<string>()
  const marker = `/${rel}/`
  for (const file of files) {
    const at = `/${file}`.indexOf(marker)
    if (at <= 0) continue
    const pkg = file.slice(0, at - 1)
    const depth = pkg.split('/').length
    if (depth <= 2 && !pkg.split('/').some((s) => s === '.git' || s === 'node_modules')) packages.add(pkg)
  }
  return [...packages].sort()
}

export async function readStow(facts: RepoFacts, home: string, codexHome: string, extraState: readonly string[] = []): Promise<Declaration[]> {
  const rel = path.relative(home, codexHome).split(path.sep).join('/')
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return []
  const declarations: Declaration[] = []
  for (const pkg of stowPackages(facts.files, rel)) {
    const folder = path.join(facts.root, pkg, rel)
    let names: string[]
    try {
      // from the disk, not git: the live config.toml is ignored, and stow links it all the same
      names = (await readdir(folder)).sort()
    } catch {
      continue
    }
    for (const name of names) {
      // runtime state Codex wrote there is stray state, not a declaration
      if (matchesState(name, [...RUNTIME_STATE, ...extraState]) || name === '.git') continue
      declarations.push({
        target: path.join(codexHome, name),
        source: path.join(folder, name),
        origin: {via: 'stow', file: path.join(facts.root, pkg), line: null},
        unfolded: true,
      })
    }
  }
  return declarations
}
