/**
 * Declaring new links where the user declares links (a Nix file, an Ansible file, codex-doctor.toml),
 * as `edit` actions: planned as whole new texts, verified before they are offered (our own reader
 * always; nix-instantiate --parse / ansible-playbook --syntax-check where installed).
 */
import {existsSync} from 'node:fs'
import path from 'node:path'

import type {Action} from '../actions/types.js'
import {DEFAULT_CODEX_DIR} from '../context/config.js'
import type {Context} from '../context/types.js'
import {readFile} from '../fs-now.js'
import {unifiedDiff} from '../report/diff.js'
import {repoPath} from '../repo/facts.js'
import {ansibleEnvironment, dirKinds} from './read.js'
import type {DeclaredSet} from './set.js'
import {addTomlLinks} from './toml-edit.js'
import type {Declaration} from './types.js'

export interface NewLink {
  target: string
  source: string
}

/** An edit of someone's file, or why it cannot be made. */
export type PlannedEdit = {file: string; text: string; old: string} | {file: string; error: string}

/** The real tool's verdict on a new text: null when it agrees or is not installed, else why not. */
export async function toolRefuses(via: 'nix' | 'ansible', file: string, text: string, env: NodeJS.ProcessEnv, tempDir?: string): Promise<string | null> {
  const verdict = via === 'nix' ? await (await import('./nix.js')).nixInstantiateParses(text, env) : await (await import('./ansible.js')).ansibleSyntaxCheck(file, text, env, tempDir)
  if (verdict === null || verdict.ok) return null
  return `${via === 'nix' ? 'nix-instantiate --parse' : 'ansible-playbook --syntax-check'} refuses the edited file: ${verdict.message}`
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return null
  }
}

/** New links declared next to `like` (an existing declaration), in its file and style. */
export async function planDeclare(ctx: Context, set: DeclaredSet, like: Declaration, links: readonly NewLink[]): Promise<PlannedEdit | null> {
  const file = like.origin.file
  if (!file || links.length === 0) return null
  const old = await readText(file)
  if (old === null) return {file, error: `cannot read ${file}`}
  const repo = set.repo!
  const env = {repo, home: ctx.home, codexHome: ctx.codexHome}
  let result: {text: string} | {error: string}
  switch (like.origin.via) {
    case 'nix':
      // the new sources are written by the same fix, after this plan: they count as there
      result = (await import('./nix.js')).addNixLinks({file, text: old}, {...env, readDir: dirKinds, exists: (p) => existsSync(p) || links.some((l) => l.source === p)}, like, links)
      break
    case 'ansible': {
      const facts = await ctx.repo()
      if (!facts) return {file, error: 'the repository cannot be listed'}
      result = await (await import('./ansible.js')).addAnsibleLinks(file, old, like, links, ansibleEnvironment({...facts, root: repo}, repo, ctx.home, ctx.codexHome))
      break
    }
    case 'codex-doctor.toml':
      result = addTomlLinks(
        old,
        file,
        links.map((l) => ({target: path.relative(ctx.codexHome, l.target).split(path.sep).join('/'), source: repoPath(repo, l.source)})),
        ctx.config.codex_dir ?? DEFAULT_CODEX_DIR,
        // the ids in skip were checked when the file was read; the edit leaves them as they are
        ctx.config.skip,
      )
      break
    default:
      // stow declares every entry of its package by itself; what only exists declares nothing
      return null
  }
  if ('error' in result) return {file, error: result.error}
  if (like.origin.via === 'nix' || like.origin.via === 'ansible') {
    const refused = await toolRefuses(like.origin.via, file, result.text, ctx.env, (await ctx.tempDir()).dir)
    if (refused) return {file, error: refused}
  }
  return {file, text: result.text, old}
}

/** An `edit` action for a planned edit, with its diff for --dry-run and the report. */
export function editAction(check: string, edit: Extract<PlannedEdit, {text: string}>, note: string, repo: string | null): Action {
  const name = repo ? repoPath(repo, edit.file) : edit.file
  return {check, op: 'edit', path: edit.file, content: edit.text, note, diff: unifiedDiff(edit.old, edit.text, `a/${name}`, `b/${name}`)}
}
