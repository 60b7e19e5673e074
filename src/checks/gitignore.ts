/** The check: the repository must ignore the live config.toml (Codex ≥ 0.89 rewrites it through the link) and nothing broader. */
import path from 'node:path'

import type {Context} from '../context/types.js'
import {gitignoreState, type GitignoreState, planGitignoreEdits, sharedRule} from '../repo/gitignore.js'
import {readSecrets} from '../repo/secrets.js'
import {repoPath} from '../repo/facts.js'
import {noDotfiles} from './shared.js'
import type {Check, Outcome} from './types.js'
import {shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

/** The verdict (pure). */
export function judgeGitignore(state: GitignoreState): Outcome {
  const line = state.line
  const where = repoPath(state.repo, state.gitignorePath)
  const suggestedLines = state.oldLines.length > 0 ? [line] : state.ignoredBy && sharedRule(state.ignoredBy) ? [] : [line]
  const details = {
    gitignorePath: state.gitignorePath,
    /** The codex folder relative to that .gitignore's folder: simplifyGitignore(text, prefix) gives the new content. */
    prefix: state.prefix,
    config: path.join(state.repo, state.config),
    configTracked: state.configTracked,
    ignoredBy: state.ignoredBy,
    oldLines: state.oldLines,
    suggestedLines,
    tracked: state.tracked,
    ...(state.oldLines.length > 0 ? {wouldShow: state.wouldShow} : {}),
  }
  const append = `printf '%s\\n' ${shellQuote(line)} >> ${shellQuote(state.gitignorePath)}`

  if (state.configTracked) {
    return {
      status: 'fail',
      summary: `git tracks ${state.config}: every setting Codex writes through the link would be committed`,
      details,
      remediation: {
        text: `Untrack it (the file stays on disk) and ignore it; keep a config.example.toml tracked for reference. --fix leaves this to you: it never untracks a file you track.`,
        commands: [`git -C ${shellQuote(state.repo)} rm --cached -- ${shellQuote(state.config)}`, ...(state.ignoredBy ? [] : [append])],
        automatic: false,
      },
    }
  }
  if (!state.ignoredBy) {
    return {
      status: 'fail',
      summary: `nothing ignores ${state.config}: git add -A would commit the live config`,
      details,
      remediation: {text: `Add the line ${line} to ${where}.`, commands: [append], automatic: true},
    }
  }
  if (state.oldLines.length > 0) {
    const shown = state.wouldShow.length > 0 ? ` Once simplified, git would no longer ignore ${state.wouldShow.map((p) => repoPath(state.repo, p)).join(', ')}: move that state into CODEX_HOME first (the stray-state check does).` : ''
    return {
      status: 'warn',
      summary: `${where} ignores all of ${path.posix.dirname(state.config)} with exceptions; ${line} is all it needs`,
      details,
      remediation: {
        text: `In ${where}, replace ${state.oldLines.length === 1 ? 'line' : 'lines'} ${state.oldLines.map((l) => l.line).join(', ')} (${state.oldLines.map((l) => l.text).join(' ')}) with the single line ${line}.${shown} Files tracked today stay tracked.`,
        commands: [],
        automatic: true,
      },
    }
  }
  if (!sharedRule(state.ignoredBy)) {
    return {
      status: 'warn',
      summary: `only ${state.ignoredBy.source} ignores ${state.config}: other clones of the repository would commit it`,
      details,
      remediation: {text: `Add the line ${line} to ${where}.`, commands: [append], automatic: true},
    }
  }
  return {status: 'pass', summary: `${state.config} is ignored (${state.ignoredBy.source}:${state.ignoredBy.line}: ${state.ignoredBy.pattern})`, details}
}

export const gitignore: Check = {
  id: 'gitignore',
  title: CHECK_TITLES['gitignore'],
  async run(ctx: Context) {
    if (!ctx.dotfiles) return noDotfiles(ctx)
    if (!(await ctx.repo())?.git) return {status: 'skip', summary: `${ctx.dotfiles} is not a git work tree`}
    const state = await gitignoreState(ctx)
    if (!state) return {status: 'skip', summary: 'no config.toml of the repository is declared or linked'}
    return judgeGitignore(state)
  },
  async plan(ctx: Context) {
    const {tracked, unignored} = await readSecrets(ctx)
    return planGitignoreEdits(ctx, 'gitignore', [...tracked, ...unignored])
  },
}
