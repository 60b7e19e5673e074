/**
 * The declared link set: what the user's own files say CODEX_HOME should link, entry by entry.
 * Every reader (codex-doctor.toml, Nix, Ansible, stow, the links that exist) produces
 * Declarations; merge.ts turns them into the one DeclaredSet every check reads.
 */

/** Who declared a link. `observed`: only the link on disk says so; `default`: nothing declares, Codex reads it. */
export type Via = 'codex-doctor.toml' | 'nix' | 'ansible' | 'stow' | 'observed' | 'default'

/** Where a declaration stands: the file and its 1-based line (null for observed and default ones). */
export interface Origin {
  via: Via
  file: string | null
  line: number | null
}

/** One declared link: `target` (absolute) should be a link whose chain ends at `source` (absolute). */
export interface Declaration {
  /** Absolute path of the link: CODEX_HOME itself (the whole-folder link of the old layout) or a path inside it. */
  target: string
  /** Absolute path the link's chain must end at; null when it could not be resolved (see `unresolved`). */
  source: string | null
  origin: Origin
  /** The source is copied into the Nix store (a plain path without mkOutOfStoreSymlink, programs.codex): read-only. */
  inStore?: boolean
  /** A real folder whose files are each linked is as good as a link to the folder (stow --no-folding, home.file recursive). */
  unfolded?: boolean
  /** Why `source` is null: the variables or expressions that could not be resolved, in the user's words. */
  unresolved?: string
}

/** Something a reader could not read or understand: the rest of the file (and the run) goes on. */
export interface ReadProblem {
  via: Via
  file: string
  line: number | null
  message: string
}

/** What one reader found in the repository. */
export interface ReaderResult {
  declarations: Declaration[]
  problems: ReadProblem[]
}
