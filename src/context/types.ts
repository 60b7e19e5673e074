import type {DeclaredSet} from '../declared/set.js'
import type {RepoFacts} from '../repo/facts.js'
import type {TempDir} from './codex.js'
import type {DoctorConfig} from './config.js'

export type InstallMethod = 'npm' | 'pnpm' | 'bun' | 'homebrew' | 'nix' | 'other'

/** What we learned about the codex binary, once per run. */
export interface CodexInfo {
  /** The path we run: `--codex-bin`, or the first `codex` on PATH; null when none was found. */
  bin: string | null
  /** `bin` with every link resolved; the install method and the probe cache key come from it. */
  realPath: string | null
  /** Semver string (`0.89.0`, `0.90.0-alpha.1`) or null when it could not be read. */
  version: string | null
  /** First line of stdout of `codex --version`, kept for the report. */
  rawVersion: string | null
  /** Why `version` is null: not found, timed out, exited non-zero, garbage output. */
  error: string | null
  install: InstallMethod
  /** The version came from the cache (the same binary answered before). */
  cached?: boolean
  /** The temp folder Codex ran in, when it is not $TMPDIR (which was missing or unwritable). */
  temp?: TempDir
}

export type Source = 'flag' | 'env' | 'default' | 'link-chain' | 'cwd'

export interface Context {
  /** The user's home folder (`HOME`), used to shorten paths to `~`. */
  home: string
  /** Absolute path of CODEX_HOME as configured, links not resolved. */
  codexHome: string
  codexHomeSource: Source
  /** Root of the dotfiles git work tree; null when it could not be found. */
  dotfiles: string | null
  dotfilesSource: Source | null
  config: DoctorConfig
  /** Path of the codex-doctor.toml that was read, if any. */
  configFile: string | null
  minVersion: string
  /** `false` with `--no-probe`. */
  probe: boolean
  /** `--fix --dry-run`: nothing may be written, not even the write probe's cached verdict. */
  readOnly: boolean
  /** `$XDG_STATE_HOME/codex-doctor`: journals, backups, lock. */
  stateDir: string
  /** `$XDG_CACHE_HOME/codex-doctor`: the write probe's cached verdicts. */
  cacheDir: string
  env: NodeJS.ProcessEnv
  /** Memoised: runs `codex --version` at most once per run (and once per binary, cached), shared by every check. */
  codex(): Promise<CodexInfo>
  /** Memoised: the binary codex() runs and its real path, found without running it; null when there is none. */
  codexBinary(): Promise<{bin: string; realPath: string} | null>
  /** The temp folder for throwaway CODEX_HOMEs: $TMPDIR, else /tmp, else one under the cache folder; memoised. */
  tempDir(): Promise<TempDir>
  /** What git says about the dotfiles repository (one `git ls-files`), null without one; memoised until refresh(). */
  repo(): Promise<RepoFacts | null>
  /** The declared link set every check reads; memoised until refresh(). */
  declared(): Promise<DeclaredSet>
  /** --fix changed the disk: the next repo() and declared() look again. */
  refresh(): void
}
