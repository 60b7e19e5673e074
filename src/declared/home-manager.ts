/**
 * home-manager owns the links it declares: at a switch, a link in its place that does not point
 * into a `*-home-manager-files` store path is "in the way" and fails the activation. So a link
 * codex-doctor repairs for a Nix declaration points where home-manager's own would: into the
 * current generation's home-files.
 */
import os from 'node:os'
import path from 'node:path'

import {lstat, realpath} from '../fs-now.js'

/** The profiles and roots that lead to the current generation, newest layout first. */
export function generationCandidates(home: string, env: NodeJS.ProcessEnv): string[] {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(home, '.local', 'state')
  const user = env.USER ?? env.LOGNAME ?? os.userInfo().username
  return [
    path.join(state, 'nix', 'profiles', 'home-manager'),
    path.join(state, 'home-manager', 'gcroots', 'current-home'),
    path.join('/nix/var/nix/profiles/per-user', user, 'home-manager'),
  ]
}

/** The current generation's home-files folder (a store path, links resolved), or null when there is none. */
export async function homeManagerFiles(home: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const generation of generationCandidates(home, env)) {
    try {
      return await realpath(path.join(generation, 'home-files'))
    } catch {
      // not this layout
    }
  }
  return null
}

/** Where home-manager's link for `target` (a path in HOME) points, when the current generation has one. */
export async function homeManagerLinkFor(target: string, home: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const rel = path.relative(home, target)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null
  const files = await homeManagerFiles(home, env)
  if (!files) return null
  const there = path.join(files, rel)
  return (await lstat(there).catch(() => null)) ? there : null
}
