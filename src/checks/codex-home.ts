import path from 'node:path'

import type {Action} from '../actions/types.js'
import {statOrUndefined} from '../context/chain.js'
import type {Context, Source} from '../context/types.js'
import {homeManagerFiles} from '../declared/home-manager.js'
import type {DeclaredSet} from '../declared/set.js'
import type {LiveCodexScan} from '../platform/live-codex.js'
import type {Via} from '../declared/types.js'
import {type Home, hopLines, inspectHome} from '../codex/home.js'
import {findStrayState, moveCommands, planStrayMoves, type StrayItem} from '../repo/stray-state.js'
import type {Check, Outcome} from './types.js'
import {listSome, listWords, shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

const SET_BY: Record<Source, string> = {
  flag: '--codex-home',
  env: '$CODEX_HOME',
  default: 'the default',
  'link-chain': 'a link chain',
  cwd: 'the current folder',
}

/** The plan's steps 2–5 by hand, for the old layout: the link out, a real folder in, state moved, entries linked. */
export function migrationCommands(codexHome: string, entries: readonly {path: string; source: string}[], stray: readonly StrayItem[]): string[] {
  const q = shellQuote
  const folders = [...new Set(entries.map((e) => path.dirname(e.path)).filter((d) => d !== codexHome))]
  // the items' destinations are computed through the link; after `rm` they name the new folder
  return [
    `rm ${q(codexHome)}`,
    `mkdir -p ${q(codexHome)}`,
    ...moveCommands(stray, codexHome),
    ...folders.map((dir) => `mkdir -p ${q(dir)}`),
    ...entries.map((e) => `ln -s ${q(e.source)} ${q(e.path)}`),
    ...stray.filter((item) => item.secret && item.kind === 'file').map((item) => `chmod 600 ${q(item.destination)}`),
  ]
}

/** What the migration links: every entry of the set whose source the repository holds (store copies are a switch's to make). */
export function migrationEntries(set: DeclaredSet): {entry: string; path: string; source: string; via: Via}[] {
  const out: {entry: string; path: string; source: string; via: Via}[] = []
  for (const e of set.entries) {
    if (e.inStore || e.outsideRepo || !e.source) continue
    if (statOrUndefined(e.source)) out.push({entry: e.entry, path: e.path, source: e.source, via: e.declarations[0]?.origin.via ?? 'default'})
  }
  return out
}

/** The verdict on CODEX_HOME; `stray` is the runtime state the migration would move, `entries` what it links (old layout only). */
export function homeVerdict(
  home: Home,
  ctx: Pick<Context, 'codexHomeSource' | 'dotfiles'>,
  stray: readonly StrayItem[] = [],
  entries: readonly {entry: string; path: string; source: string}[] = [],
): Outcome {
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
            `codex-doctor --fix migrates: ${p} becomes a real folder, the runtime state moves out of the repository into it (nothing is deleted; what exists in both places goes to the backup), and ${entries.length > 0 ? listSome(entries.map((e) => e.entry), 6) : 'the entries'} are linked one by one. ` +
            'The Nix or Ansible files that made the link are rewritten too (see the nix and ansible checks), or the next switch would put it back. The commands below are the same migration by hand.',
          commands: migrationCommands(p, entries, stray),
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
            summary: `${p} does not exist yet: Codex creates it when it first writes there, but until then there is nowhere to link ${entries.length > 0 ? listSome(entries.map((e) => e.entry), 6) : 'the entries'}`,
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
 * folder takes its place, the runtime state moves into it, and each declared entry is linked.
 */
export async function planMigration(ctx: Context, home: Home, set: DeclaredSet): Promise<Action[]> {
  if (home.kind === 'missing') return [{check: 'codex-home', op: 'mkdir', path: ctx.codexHome}]
  if (home.kind !== 'repo-link' || !home.isCodexDir || !set.codexDir) return []
  // home-manager makes the links Nix declares (the nix check rewrites the folder's declaration): a link of ours would stand in its way
  const byHomeManager = set.folderLinks.some((d) => d.origin.via === 'nix') && (await homeManagerFiles(ctx.home, ctx.env)) !== null
  const entries = migrationEntries(set)
  const linked = entries.map((e) => e.entry)
  // state inside a folder that gets linked whole (skills/.system under skills) is reached through that link: it stays
  const stray = (await findStrayState(ctx, home, set)).filter((item) => !linked.some((entry) => item.name === entry || item.name.startsWith(entry + '/')))
  return [
    {check: 'codex-home', op: 'mkdir', path: ctx.codexHome, note: 'a real folder in place of the link into the repository (the link goes to the backup)'},
    ...planStrayMoves(stray, 'codex-home'),
    ...(byHomeManager ? [] : entries.map((e): Action => ({check: 'codex-home', op: 'link', path: e.path, to: e.via === 'stow' ? path.relative(path.dirname(e.path), e.source) : e.source}))),
  ]
}

/** A running Codex that uses CODEX_HOME's state is named in the verdict: --fix will not move anything while it runs. */
export function withRunningCodex(verdict: Outcome, scan: LiveCodexScan, lines: string[]): Outcome {
  const details = {...verdict.details, runningCodex: {live: scan.live.map((c) => ({pid: c.pid, command: c.command, holds: c.holds})), uninspectable: scan.uninspectable, blind: scan.blind}}
  if (scan.live.length === 0) return {...verdict, details}
  const running = `Codex is running on this state (${scan.live.map((c) => `pid ${c.pid}`).join(', ')}): quit it before --fix`
  return {
    ...verdict,
    status: verdict.status === 'pass' ? 'warn' : verdict.status,
    summary: `${verdict.summary}; ${running}`,
    details,
    remediation: {...(verdict.remediation ?? {text: ''}), text: `${lines.join(' ')} ${verdict.remediation?.text ?? ''}`.trim()},
  }
}

export const codexHome: Check = {
  id: 'codex-home',
  title: CHECK_TITLES['codex-home'],
  async run(ctx) {
    const set = await ctx.declared()
    const home = await inspectHome(ctx, set.codexDir)
    const verdict =
      home.kind === 'repo-link' && home.isCodexDir
        ? homeVerdict(home, ctx, await findStrayState(ctx, home, set), migrationEntries(set))
        : homeVerdict(home, ctx, [], home.kind === 'missing' ? migrationEntries(set) : [])
    // Codex writes its state into the repository here: a running one would be raced by the migration
    if (!home.real || (home.kind !== 'repo-link' && home.kind !== 'repo-folder')) return verdict
    // loaded only here: a healthy machine has nothing for a running Codex to race
    const {findLiveCodex, scanLines} = await import('../platform/live-codex.js')
    const scan = await findLiveCodex([home.real], {home: ctx.home})
    return withRunningCodex(verdict, scan, scanLines(scan))
  },
  async plan(ctx) {
    const set = await ctx.declared()
    return planMigration(ctx, await inspectHome(ctx, set.codexDir), set)
  },
}
