/**
 * Secrets Codex writes (auth.json, .credentials.json, history.jsonl) must never be in git and must
 * be readable by their owner only. Only names, paths, commit ids and modes are ever looked at:
 * a secret's content is never read.
 */
import path from 'node:path'

import {SECRET_FILES} from '../codex-facts.js'
import {statOrUndefined} from '../context/chain.js'
import type {Action} from '../actions/types.js'
import type {Context} from '../context/types.js'
import {git} from '../process.js'
import {planGitignoreEdits} from './gitignore.js'
import {globEscape, nulList, repoPath, trackedFiles} from './repo-files.js'
import {listSome, shellQuote} from './shared.js'
import type {Check, Outcome} from './types.js'

/** Files that hold a credential (history.jsonl holds prompts, not a key: no rotation for it). */
const CREDENTIALS = new Set(['auth.json', '.credentials.json'])

export interface SecretsState {
  repo: string | null
  /** `<repo>/.gitignore`, where an ignore line for a secret goes. */
  gitignorePath: string | null
  /** Absolute paths of secret files git tracks now. */
  tracked: string[]
  /** Secret files that some commit added, tracked now or not, with those commits (short ids). */
  everCommitted: {path: string; commits: string[]}[]
  /** Secret files on disk in the repository that are neither tracked nor ignored: `git add -A` would commit them. */
  unignored: string[]
  /** CODEX_HOME's secret files whose mode is not 0600, as an octal string (`644`). */
  modes: {path: string; mode: string}[]
}

/** `:(glob)<codex dir>/**\/<name>` for every secret name: the secret at any depth of the codex folder. */
function secretPathspecs(codexDirRel: string): string[] {
  return SECRET_FILES.map((name) => `:(glob)${globEscape(codexDirRel)}/**/${globEscape(name)}`)
}

async function gitSecrets(repo: string, codexDir: string, env: NodeJS.ProcessEnv): Promise<Pick<SecretsState, 'tracked' | 'everCommitted' | 'unignored'> | null> {
  const specs = secretPathspecs(repoPath(repo, codexDir))
  const tracked = await trackedFiles(repo, specs, env)
  if (tracked === null) return null
  const untracked = await git(repo, ['ls-files', '-z', '--others', '--exclude-standard', '--', ...specs], {env})
  const added = await git(repo, ['log', '--all', '--diff-filter=A', '--format=', '--name-only', '-z', '--', ...specs], {env})
  const paths = [...new Set(nulList(added.stdout).map((p) => p.trim()).filter(Boolean))].sort()
  const everCommitted = await Promise.all(
    paths.map(async (p) => {
      const log = await git(repo, ['log', '--all', '--format=%h', '--diff-filter=A', '--', `:(literal)${p}`], {env})
      return {path: path.join(repo, p), commits: log.stdout.split('\n').filter(Boolean)}
    }),
  )
  return {
    tracked: tracked.sort().map((p) => path.join(repo, p)),
    everCommitted: everCommitted.filter((e) => e.commits.length > 0),
    unignored: nulList(untracked.stdout).sort().map((p) => path.join(repo, p)),
  }
}

/** Modes of CODEX_HOME's secret files (links followed: the old layout keeps them in the repository). */
async function wrongModes(codexHome: string): Promise<SecretsState['modes']> {
  const modes: SecretsState['modes'] = []
  for (const name of SECRET_FILES) {
    const file = path.join(codexHome, name)
    const st = await statOrUndefined(file)
    if (st?.isFile() && (st.mode & 0o777) !== 0o600) modes.push({path: file, mode: (st.mode & 0o777).toString(8).padStart(3, '0')})
  }
  return modes
}

export async function readSecrets(ctx: Context): Promise<SecretsState> {
  const modes = await wrongModes(ctx.codexHome)
  const fromGit = ctx.dotfiles && ctx.codexDir ? await gitSecrets(ctx.dotfiles, ctx.codexDir, ctx.env) : null
  return {
    repo: fromGit ? ctx.dotfiles : null,
    gitignorePath: fromGit && ctx.dotfiles ? path.join(ctx.dotfiles, '.gitignore') : null,
    tracked: fromGit?.tracked ?? [],
    everCommitted: fromGit?.everCommitted ?? [],
    unignored: fromGit?.unignored ?? [],
    modes,
  }
}


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
    ...state.tracked.map((p): Action => ({check: 'secrets', op: 'untrack', repo: state.repo!, path: p, note: 'the file stays on disk'})),
    ...state.modes.map((m): Action => ({check: 'secrets', op: 'chmod', path: m.path, mode: 0o600, note: `was 0${m.mode}`})),
  ]
}

export const secrets: Check = {
  id: 'secrets',
  title: 'Secrets stay out of git and private',
  async run(ctx: Context) {
    return judgeSecrets(await readSecrets(ctx))
  },
  async plan(ctx: Context) {
    const state = await readSecrets(ctx)
    return [...planSecrets(state), ...(await planGitignoreEdits(ctx, 'secrets', [...state.tracked, ...state.unignored]))]
  },
}
