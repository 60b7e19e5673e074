/**
 * The secrets Codex writes (auth.json, .credentials.json, history.jsonl): which ones git tracks or
 * would add in the folders that hold declared sources, which some commit added (asked only when a
 * secret is there to ask about), and the modes of CODEX_HOME's. A secret's content is never read.
 */
import path from 'node:path'

import {SECRET_FILES} from '../codex-facts.js'
import {statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import type {DeclaredSet} from '../declared/set.js'
import {git} from '../process.js'
import {globEscape, repoPath, type RepoFacts} from './facts.js'
import {byCodePoint} from '../words.js'

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

/** `:(glob)<folder>/**\/<name>` for every secret name and folder: a secret at any depth of a folder holding sources. */
function secretPathspecs(folders: readonly string[]): string[] {
  return folders.flatMap((rel) => SECRET_FILES.map((name) => `:(glob)${rel === '' ? '' : `${globEscape(rel)}/`}**/${globEscape(name)}`))
}

const HISTORY_LIMIT = 200

/** Which of those paths some commit added, with the commits (short ids), newest first; bounded. */
async function addedInHistory(repo: string, specs: readonly string[], env: NodeJS.ProcessEnv): Promise<{path: string; commits: string[]}[]> {
  const log = await git(repo, ['-c', 'core.quotePath=false', 'log', '--all', `--max-count=${HISTORY_LIMIT}`, '--diff-filter=A', '--format=format:@%h', '--name-only', '--', ...specs], {env})
  if (log.exitCode !== 0) return []
  const commits = new Map<string, string[]>()
  let commit = ''
  for (const line of log.stdout.split('\n')) {
    if (line.startsWith('@')) commit = line.slice(1)
    else if (line.trim() !== '' && commit) commits.set(line, [...(commits.get(line) ?? []), commit])
  }
  return [...commits].sort(([a], [b]) => byCodePoint(a, b)).map(([p, ids]) => ({path: path.join(repo, p), commits: ids}))
}

async function gitSecrets(set: DeclaredSet, facts: RepoFacts, env: NodeJS.ProcessEnv): Promise<Pick<SecretsState, 'tracked' | 'everCommitted' | 'unignored'>> {
  const repo = facts.root
  const folders = set.sourceFolders.map((f) => repoPath(set.repo!, f.dir))
  const inFolders = (f: string) => folders.some((rel) => rel === '' || f.startsWith(rel + '/'))
  const isSecretFile = (f: string) => (SECRET_FILES as readonly string[]).includes(path.posix.basename(f))
  const candidates = facts.files.filter((f) => isSecretFile(f) && inFolders(f))
  const tracked = candidates.filter((f) => facts.tracked.has(f))
  const unignored = candidates.filter((f) => !facts.tracked.has(f))
  // the history is asked only when a secret is there to ask about: its cost grows with the history's length
  let present = candidates.length > 0
  for (const dir of set.sourceFolders) for (const name of SECRET_FILES) present ||= statOrUndefined(path.join(dir.dir, name), false) !== undefined
  const everCommitted = present ? await addedInHistory(repo, secretPathspecs(folders), env) : []
  return {
    tracked: tracked.sort().map((p) => path.join(repo, p)),
    everCommitted: everCommitted.filter((e) => e.commits.length > 0),
    unignored: unignored.sort().map((p) => path.join(repo, p)),
  }
}

/** Modes of CODEX_HOME's secret files (links followed: the old layout keeps them in the repository). */
function wrongModes(codexHome: string): SecretsState['modes'] {
  const modes: SecretsState['modes'] = []
  for (const name of SECRET_FILES) {
    const file = path.join(codexHome, name)
    const st = statOrUndefined(file)
    if (st?.isFile() && (st.mode & 0o777) !== 0o600) modes.push({path: file, mode: (st.mode & 0o777).toString(8).padStart(3, '0')})
  }
  return modes
}

export async function readSecrets(ctx: Context): Promise<SecretsState> {
  const modes = wrongModes(ctx.codexHome)
  const [set, facts] = await Promise.all([ctx.declared(), ctx.repo()])
  const fromGit = set.repo && facts?.git ? await gitSecrets(set, {...facts, root: set.repo}, ctx.env) : null
  return {
    repo: fromGit ? set.repo : null,
    gitignorePath: fromGit && set.repo ? path.join(set.repo, '.gitignore') : null,
    tracked: fromGit?.tracked ?? [],
    everCommitted: fromGit?.everCommitted ?? [],
    unignored: fromGit?.unignored ?? [],
    modes,
  }
}
