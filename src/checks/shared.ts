import path from 'node:path'

import type {Context} from '../context/types.js'
import type {Outcome} from './types.js'

/** A check that needs the repository returns this when none was found. */
export function noDotfiles(ctx: Context): Outcome {
  return {
    status: 'skip',
    summary: 'no dotfiles repository found',
    remediation: {
      text: `Name it with --dotfiles DIR or $DOTFILES (the git work tree that holds ${ctx.config.codex_dir}).`,
      commands: ['codex-doctor --dotfiles ~/dotfiles'],
    },
  }
}

/** `~/…` for paths in the home folder, as the human report shows them. */
export function tildify(p: string, home: string): string {
  if (!home || home === '/') return p
  if (p === home) return '~'
  return p.startsWith(home + path.sep) ? '~' + p.slice(home.length) : p
}

/** Quotes a path for a shell command when it needs it. */
export function shellQuote(p: string): string {
  return /^[\w@%+=:,./~-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`
}

/** `a, b, c and 2 more`: a list short enough for a one-line summary. */
export function listSome(items: readonly string[], max = 3): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}
