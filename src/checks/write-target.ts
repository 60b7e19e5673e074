import {constants} from 'node:fs'
import path from 'node:path'

import {type Chain, readChain} from '../context/chain.js'
import {type DeclaredSet, liveConfigOf} from '../declared/set.js'
import {access, realpath} from '../fs-now.js'
import {declaredAt} from './shared.js'
import type {Check, Outcome} from './types.js'
import {shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

/** Whether a path is inside the Nix store, which is read-only whatever its modes say. */
export function inNixStore(p: string): boolean {
  return p === '/nix/store' || p.startsWith('/nix/store/')
}

/** Why a chain that does not end at a file gives this check nothing to judge (the `links` check reports it). */
export function unjudgeable(chain: Chain): string | null {
  switch (chain.end) {
    case 'file':
      return null
    case 'missing':
      return chain.hops.length === 0 ? 'config.toml does not exist' : `config.toml is a dangling link: ${chain.final} does not exist`
    case 'loop':
      return `config.toml is a link loop (at ${chain.final})`
    case 'dir':
      return `config.toml leads to a folder (${chain.final}), not a file`
    case 'other':
      return `config.toml leads to ${chain.final}, which is not a regular file`
  }
}

/** The home-manager line that links the repository's file instead of a copy in the store. */
function outOfStoreLink(set: DeclaredSet): string {
  const source = liveConfigOf(set)
  const rel = source && set.repo ? path.relative(set.repo, source) : 'config/codex/config.toml'
  return `home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/${rel}";`
}

/** Where config.toml is declared as a store copy (a plain path, programs.codex), in a user's words. */
function storeDeclarations(set: DeclaredSet): string[] {
  const entry = set.entries.find((e) => e.entry === 'config.toml')
  return entry?.inStore ? entry.declarations.map((d) => declaredAt(d, set.repo)) : []
}

/** Whether this process may create files in `dir`; the error code when not. */
async function writable(dir: string): Promise<string | null> {
  try {
    await access(dir, constants.W_OK)
    return null
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES'
  }
}

export const writeTarget: Check = {
  id: 'write-target',
  title: CHECK_TITLES['write-target'],
  async run(ctx): Promise<Outcome> {
    const configToml = path.join(ctx.codexHome, 'config.toml')
    const chain = readChain(configToml)
    const why = unjudgeable(chain)
    if (why) return {status: 'skip', summary: `${why} (see the links check)`, details: {configToml, end: chain.end, final: chain.final}}

    // Codex ≥ 0.89 writes the final target by atomic rename: the folder must take a new file
    const target = await realpath(chain.final)
    const folder = path.dirname(target)
    const details = {configToml, chain: [configToml, ...chain.hops.map((h) => h.resolved)], target, folder, linked: chain.hops.length > 0}
    const what = chain.hops.length > 0 ? `config.toml → ${target} (${chain.hops.length} hop${chain.hops.length === 1 ? '' : 's'})` : 'config.toml (a regular file, written in place)'

    if (inNixStore(chain.final) || inNixStore(target)) {
      const set = await ctx.declared()
      const declared = storeDeclarations(set)
      const generated = set.entries.find((e) => e.entry === 'config.toml')?.inStore && set.entries.find((e) => e.entry === 'config.toml')?.source === null
      return {
        status: 'fail',
        summary: `${what} is in the read-only Nix store${declared.length > 0 ? ` (declared at ${declared.join(', ')})` : ''}: Codex cannot save settings`,
        details: {...details, declaredAt: declared},
        remediation: {
          text: generated
            ? `home-manager generates config.toml into the store (programs.codex settings, or text =): Codex cannot persist a setting (a model change, a trusted project). Keep config.toml in the repository and link it out of the store instead: ${outOfStoreLink(set)}`
            : `Link the repository's file out of the store in your home-manager configuration: ${outOfStoreLink(set)}`,
        },
      }
    }
    const denied = await writable(folder)
    if (denied) {
      const cause = denied === 'EROFS' ? 'is on a read-only file system' : `is not writable (${denied})`
      return {
        status: 'fail',
        summary: `the folder of ${what} ${cause}: Codex cannot save settings`,
        details: {...details, error: denied},
        remediation:
          denied === 'EROFS'
            ? {text: `Keep config.toml's target on a writable file system: ${folder} is mounted read-only.`}
            : {text: `Let your user create files in ${folder}.`, commands: [`chmod u+w ${shellQuote(folder)}`]},
      }
    }
    return {status: 'pass', summary: `${what}; its folder is writable`, details}
  },
}
