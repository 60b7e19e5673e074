import {type Home, inspectHome} from '../codex/home.js'
import {describeItem, findStrayState, moveCommands, planStrayMoves, type StrayItem} from '../repo/stray-state.js'
import {noDotfiles} from './shared.js'
import type {Check, Outcome} from './types.js'
import {listWords} from '../words.js'
import {CHECK_TITLES} from './titles.js'

const SHOWN = 6

function itemList(items: readonly StrayItem[]): string {
  const shown = items.slice(0, SHOWN).map(describeItem).join(', ')
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown
}

/** The verdict: secrets fail, other state warns; live state (Codex writes it into the repository right now) says so. */
export function strayVerdict(items: readonly StrayItem[], home: Home, folders: readonly string[]): Outcome {
  const codexDir = listWords(folders.length > 0 ? folders : ['the repository'])
  const details = {folders, codexHome: home.path, live: home.isCodexDir, items: items.map((item) => ({...item}))}
  if (items.length === 0) return {status: 'pass', summary: `${codexDir} ${folders.length > 1 ? 'hold' : 'holds'} no Codex runtime state`, details}
  const status = items.some((item) => item.secret) ? 'fail' : 'warn'
  const what = `${items.length} item${items.length === 1 ? '' : 's'} of Codex runtime state`

  if (home.isCodexDir) {
    const how = home.kind === 'repo-folder' ? 'CODEX_HOME is that folder' : 'through the CODEX_HOME link'
    return {
      status,
      summary: `LIVE: Codex writes its state into the repository (${how}): ${what} in ${codexDir}: ${itemList(items)}`,
      details,
      remediation:
        home.kind === 'repo-folder'
          ? {text: 'Point CODEX_HOME at a folder outside the repository (unset it to use ~/.codex), then run codex-doctor --fix to move each item there.', automatic: false}
          : {
              text: 'codex-doctor --fix migrates CODEX_HOME to a real folder (see codex-home) and moves each item into it; folders merge, nothing is deleted.',
              commands: ['codex-doctor --fix'],
              automatic: true,
            },
    }
  }

  const both = items.filter((item) => item.inCodexHome).length
  return {
    status,
    summary: `${what} in ${codexDir}, which Codex no longer uses from the repository: ${itemList(items)}`,
    details,
    remediation: {
      text:
        "codex-doctor --fix moves each item into CODEX_HOME; when both have one, CODEX_HOME's stays and the repository's goes to the backup; folders merge." +
        (both ? ` ${both} of them exist in both places: leave those to --fix; the commands below move the rest.` : ' The commands below do the same by hand.'),
      commands: moveCommands(items, home.path),
      automatic: true,
    },
  }
}

export const strayState: Check = {
  id: 'stray-state',
  title: CHECK_TITLES['stray-state'],
  // folders such as sessions/ or packages/ can hold many files, each counted
  timeoutMs: 30_000,
  async run(ctx) {
    if (!ctx.dotfiles) return noDotfiles(ctx)
    const set = await ctx.declared()
    const home = await inspectHome(ctx, set.codexDir)
    return strayVerdict(await findStrayState(ctx, home, set), home, set.sourceFolders.map((f) => f.dir))
  },
  async plan(ctx) {
    if (!ctx.dotfiles) return []
    const set = await ctx.declared()
    const home = await inspectHome(ctx, set.codexDir)
    // through the old directory link the destination IS the source: codex-home's migration moves them
    if (home.isCodexDir || (home.kind !== 'folder' && home.kind !== 'missing')) return []
    return planStrayMoves(await findStrayState(ctx, home, set), 'stray-state')
  },
}
