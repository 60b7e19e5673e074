import path from 'node:path'

import type {Context} from '../context/types.js'
import type {Declaration} from '../declared/types.js'
import type {Outcome} from './types.js'

/** A check that needs the repository returns this when none was found. */
export function noDotfiles(_ctx?: Context): Outcome {
  return {
    status: 'skip',
    summary: 'no dotfiles repository found',
    remediation: {
      text: 'Name it with --dotfiles DIR or $DOTFILES (the git work tree that holds your Codex configuration), or run codex-doctor from inside it.',
      commands: ['codex-doctor --dotfiles ~/dotfiles'],
    },
  }
}

/** Where a declaration stands, in a user's words: `nix/home.nix:4`, `stow package codex`, `exists`, `Codex reads it`. */
export function declaredAt(d: Declaration, repo: string | null): string {
  const file = d.origin.file ? (repo && (d.origin.file === repo || d.origin.file.startsWith(repo + path.sep)) ? path.relative(repo, d.origin.file) || '.' : d.origin.file) : null
  switch (d.origin.via) {
    case 'observed':
      return 'exists'
    case 'default':
      return 'Codex reads it'
    case 'stow':
      return `stow package ${file ?? '?'}`
    default:
      return `${file ?? d.origin.via}${d.origin.line ? `:${d.origin.line}` : ''}`
  }
}
