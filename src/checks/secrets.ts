/**
 * Secrets Codex writes (auth.json, .credentials.json, history.jsonl) must never be in git and must
 * be readable by their owner only. Only names, paths, commit ids and modes are ever looked at:
 * a secret's content is never read.
 */
import path from 'node:path'

import type {Action} from '../actions/types.js'
import type {Context} from '../context/types.js'
import {repoPath} from '../repo/facts.js'
import {planGitignoreEdits} from '../repo/gitignore.js'
import {readSecrets, type SecretsState} from '../repo/secrets.js'
import type {Check, Outcome} from './types.js'
import {listSome, shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

/** Files that hold a credential (history.jsonl holds prompts, not a key: no rotation for it). */
const CREDENTIALS = new Set(['auth.json', '.credentials.json'])

/** The verdict (pure). A secret only in history passes (nothing left to untrack) but says to rotate it. */
export function judgeSecrets(state: SecretsState): Outcome {
  const repo = state.repo
  const rel = (p: string) => (repo ? repoPath(repo, p) : p)
  const details = {
    repo,
    gitignorePath: state.gitignorePath,
    tracked: state.tracked,
    everCommitted: state.everCommitted,
    unignored: state.unignored,
    modes: state.modes,
  }
  const leakedCredentials = state.everCommitted.filter((e) => CREDENTIALS.has(path.basename(e.path)))
  const historyText =
    state.everCommitted.length === 0
      ? ''
      : (leakedCredentials.length > 0
          ? ` Git history still holds ${listSome(leakedCredentials.map((e) => rel(e.path)))}: rotate the credential (codex logout, then codex login; revoke an API key at platform.openai.com/api-keys).`
          : ` Git history still holds ${listSome(state.everCommitted.map((e) => rel(e.path)))}.`) +
        ` To purge it from history: git filter-repo --invert-paths ${state.everCommitted.map((e) => `--path ${shellQuote(rel(e.path))}`).join(' ')} (rewrites every commit; force-push, then re-clone elsewhere).`
  const rotate = leakedCredentials.length > 0 ? ['codex logout', 'codex login'] : []
  const ignore = [...new Set([...state.tracked, ...state.unignored])]
  const fixCommands = [
    ...state.tracked.map((p) => `git -C ${shellQuote(repo!)} rm --cached -- ${shellQuote(rel(p))}`),
    ...ignore.map((p) => `printf '%s\\n' ${shellQuote(rel(p))} >> ${shellQuote(state.gitignorePath!)}`),
    ...state.modes.map((m) => `chmod 600 ${shellQuote(m.path)}`),
  ]

  const problems = [
    ...(state.tracked.length > 0 ? [`git tracks ${listSome(state.tracked.map(rel))}`] : []),
    ...state.modes.map((m) => `${m.path} is mode 0${m.mode} (must be 0600)`),
  ]
  if (problems.length > 0) {
    return {
      status: 'fail',
      summary: problems.join('; '),
      details,
      remediation: {
        text:
          [
            ...(state.tracked.length > 0 ? ['Untrack each secret (the file stays on disk) and ignore it.'] : []),
            ...(state.modes.length > 0 ? ['Make each secret in CODEX_HOME readable by you only (0600).'] : []),
          ].join(' ') + historyText,
        commands: [...fixCommands, ...rotate],
        automatic: true,
      },
    }
  }
  if (state.unignored.length > 0) {
    return {
      status: 'warn',
      summary: `${listSome(state.unignored.map(rel))} ${state.unignored.length === 1 ? 'is' : 'are'} not ignored: git add -A would commit ${state.unignored.length === 1 ? 'it' : 'them'}`,
      details,
      remediation: {text: 'Ignore each secret in .gitignore (or move it out of the repository into CODEX_HOME).' + historyText, commands: [...fixCommands, ...rotate], automatic: true},
    }
  }
  const modes = state.repo ? 'no secret is tracked' : 'no repository to look in'
  if (state.everCommitted.length > 0) {
    const what = leakedCredentials.length > 0 ? `${listSome(leakedCredentials.map((e) => rel(e.path)))}: rotate it (codex logout, then codex login)` : listSome(state.everCommitted.map((e) => rel(e.path)))
    return {
      status: 'pass',
      summary: `${modes}, but git history still holds ${what}`,
      details,
      remediation: {text: historyText.trim(), commands: rotate},
    }
  }
  return {status: 'pass', summary: `${modes}; none in CODEX_HOME is readable by others`, details}
}

/** Untrack each tracked secret (it stays on disk), make CODEX_HOME's secrets 0600; the ignore lines are gitignore's shared edit. */
export function planSecrets(state: SecretsState): Action[] {
  return [
    // a tracked credential is in the history for good: the advice to rotate it goes with the fix, not after it
    ...state.tracked.map((p): Action => ({
      check: 'secrets',
      op: 'untrack',
      repo: state.repo!,
      path: p,
      note: CREDENTIALS.has(path.basename(p)) ? 'the file stays on disk; git history keeps it: rotate the credential (codex logout, then codex login)' : 'the file stays on disk',
    })),
    ...state.modes.map((m): Action => ({check: 'secrets', op: 'chmod', path: m.path, mode: 0o600, note: `was 0${m.mode}`})),
  ]
}

export const secrets: Check = {
  id: 'secrets',
  title: CHECK_TITLES['secrets'],
  async run(ctx: Context) {
    return judgeSecrets(await readSecrets(ctx))
  },
  async plan(ctx: Context) {
    const state = await readSecrets(ctx)
    return [...planSecrets(state), ...(await planGitignoreEdits(ctx, 'secrets', [...state.tracked, ...state.unignored]))]
  },
}
