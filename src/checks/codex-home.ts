import path from 'node:path'

import type {Action} from '../actions/types.js'
import {CODEX_READS} from '../codex-facts.js'
import {statOrUndefined} from '../context/chain.js'
import type {Context, Source} from '../context/types.js'
import {type Home, hopLines, inspectHome, listWords} from './layout.js'
import {shellQuote} from './shared.js'
import {findStrayState, moveCommands, planStrayMoves, type StrayItem} from './stray-state.js'
import type {Check, Outcome} from './types.js'

const SET_BY: Record<Source, string> = {
  flag: '--codex-home',
  env: '$CODEX_HOME',
  default: 'the default',
  'link-chain': 'a link chain',
  cwd: 'the current folder',
}

/** The plan's steps 2–5 by hand, for the old layout: the link out, a real folder in, state moved, entries linked. */
export function migrationCommands(codexHome: string, codexDir: string, entries: readonly string[], stray: readonly StrayItem[]): string[] {
  const q = shellQuote
  // the items' destinations are computed through the link; after `rm` they name the new folder
  return [
    `rm ${q(codexHome)}`,
    `mkdir -p ${q(codexHome)}`,
    ...moveCommands(stray, codexHome),
    ...entries.map((entry) => `ln -s ${q(path.join(codexDir, entry))} ${q(path.join(codexHome, entry))}`),
    ...stray.filter((item) => item.secret && item.kind === 'file').map((item) => `chmod 600 ${q(item.destination)}`),
  ]
}

/** The verdict on CODEX_HOME; `stray` is the runtime state the migration would move (old layout only). */
export function homeVerdict(home: Home, ctx: Pick<Context, 'codexHomeSource' | 'codexDir' | 'dotfiles' | 'config'>, stray: readonly StrayItem[] = []): Outcome {
  const p = home.path
  const q = shellQuote
  const details = {path: p, source: ctx.codexHomeSource, kind: home.kind, chain: hopLines(home.chain), final: home.chain.final}
  const setBy = SET_BY[ctx.codexHomeSource]
  const replaceLink = [`rm ${q(p)}`, `mkdir -p ${q(p)}`]
  switch (home.kind) {
    case 'folder':
      return {status: 'pass', summary: `${p} is a real folder`, details}

    case 'repo-link': {
      const secrets = stray.filter((item) => item.secret).map((item) => item.name)
      return {
        status: 'fail',
        summary:
          `old layout: ${p} is a link into the dotfiles repository (${home.real}), so Codex's secrets, sessions and logs live in the repository` +
          (secrets.length ? ` (${listWords(secrets)} among them)` : ''),
        details: {...details, stray: stray.map((item) => item.name)},
        remediation: {
          text:
            `codex-doctor --fix migrates: ${p} becomes a real folder, the runtime state moves out of the repository into it (nothing is deleted; what exists in both places goes to the backup), and ${listWords(ctx.config.links)} are linked one by one. ` +
            'Change the Nix or Ansible files that made the link too (see the nix and ansible checks), or the next switch puts it back. The commands below are the same migration by hand.',
          commands: ctx.codexDir ? migrationCommands(p, ctx.codexDir, ctx.config.links, stray) : [],
          automatic: true,
        },
      }
    }

    case 'repo-folder':
      return {
        status: 'fail',
        summary: `${p} (set by ${setBy}) is a folder inside the dotfiles repository, so Codex's secrets, sessions and logs live in the repository`,
        details,
        remediation: {
          text: 'Point CODEX_HOME at a folder outside the repository (unset it to use ~/.codex), then run codex-doctor --fix to move the state and link the entries.',
          commands: ['unset CODEX_HOME', 'codex-doctor --fix'],
          automatic: false,
        },
      }

    case 'outside-link':
      return {
        status: 'warn',
        summary: `${p} is a link to ${home.real}: Codex works, but the layout wants a real folder${ctx.dotfiles ? '' : ' (no dotfiles repository to compare with)'}`,
        details,
        remediation: {
          text: `Make ${p} a real folder (move the linked folder's content into it), or leave it if the link is deliberate.`,
          commands: [`rm ${q(p)} && mkdir ${q(p)} && cp -Rp ${q(home.real + '/.')} ${q(p + '/')}`],
          automatic: false,
        },
      }

    case 'missing':
      // measured: with $CODEX_HOME missing, 0.87–0.89 exit 1 "failed to load configuration: No such file or directory",
      // later releases "CODEX_HOME points to …, but that path does not exist"; a missing default ~/.codex is fine (mcp list exits 0)
      return ctx.codexHomeSource === 'default'
        ? {
            status: 'warn',
            summary: `${p} does not exist yet: Codex creates it when it first writes there, but until then there is nowhere to link ${listWords(ctx.config.links)}`,
            details,
            remediation: {text: `Create it; codex-doctor --fix does, and links the entries.`, commands: [`mkdir -p ${q(p)}`], automatic: true},
          }
        : {
            status: 'fail',
            summary: `${p} (set by ${setBy}) does not exist: Codex exits with "failed to load configuration" until it does`,
            details,
            remediation: {text: 'Create it, or point CODEX_HOME at the folder you meant.', commands: [`mkdir -p ${q(p)}`], automatic: true},
          }

    case 'dangling':
      return {
        status: 'fail',
        summary: `${p} is a dangling link (its chain ends at ${home.chain.final}, which does not exist): Codex fails to load its configuration`,
        details,
        remediation: {text: 'Point the link at the right folder, or replace it with a real folder:', commands: replaceLink, automatic: false},
      }

    case 'loop':
      return {
        status: 'fail',
        summary: `${p} is a link loop: Codex fails with "Symbolic link loop"`,
        details,
        remediation: {text: 'Replace the looping link with a real folder:', commands: replaceLink, automatic: false},
      }

    case 'file':
    case 'other': {
      const what = home.kind === 'file' ? 'a file' : 'neither a file nor a folder'
      const is = home.chain.hops.length ? `a link to ${what} (${home.chain.final})` : home.kind === 'file' ? 'a regular file' : what
      return {
        status: 'fail',
        summary: `${p} is ${is}, not a folder: Codex fails with "Not a directory"`,
        details,
        remediation: {text: `Move it aside and make ${p} a real folder:`, commands: [`mv ${q(p)} ${q(p + '.bak')}`, `mkdir -p ${q(p)}`], automatic: false},
      }
    }
  }
}

/**
 * The migration (plan steps 2–5) as actions: the directory link leaves for the backup and a real
 * folder takes its place, the runtime state moves into it, and each managed entry is linked.
 */
export async function planMigration(ctx: Context, home: Home): Promise<Action[]> {
  const codexDir = ctx.codexDir
  if (home.kind === 'missing') return [{check: 'codex-home', op: 'mkdir', path: ctx.codexHome}]
  if (home.kind !== 'repo-link' || !home.isCodexDir || !codexDir) return []
  const entries: string[] = []
  for (const entry of new Set([...ctx.config.links, ...CODEX_READS])) if (await statOrUndefined(path.join(codexDir, entry))) entries.push(entry)
  // state inside a folder that gets linked (skills/.system) is reached through that link: it stays
  const stray = (await findStrayState(ctx, home)).filter((item) => !entries.includes(item.name.split('/')[0]!))
  return [
    {check: 'codex-home', op: 'mkdir', path: ctx.codexHome, note: 'a real folder in place of the link into the repository (the link goes to the backup)'},
    ...planStrayMoves(stray, 'codex-home'),
    ...entries.map((entry): Action => ({check: 'codex-home', op: 'link', path: path.join(ctx.codexHome, entry), to: path.join(codexDir, entry)})),
  ]
}

export const codexHome: Check = {
  id: 'codex-home',
  title: 'CODEX_HOME is a real folder, not a link into the repository',
  async run(ctx) {
    const home = await inspectHome(ctx)
    const stray = home.kind === 'repo-link' && home.isCodexDir ? await findStrayState(ctx, home) : []
    return homeVerdict(home, ctx, stray)
  },
  async plan(ctx) {
    return planMigration(ctx, await inspectHome(ctx))
  },
}
