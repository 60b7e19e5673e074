/**
 * A fix is data: a check plans these, the engine orders and shows them, and only the
 * actions layer (a real or a dry-run "system") carries them out.
 */
export type Action =
  /** Make `path` a symlink whose target is `to` (written as given); anything in the way goes to the backup. */
  | {check: string; op: 'link'; path: string; to: string; note?: string; diff?: string}
  /** Move `path` to `to`. Folders merge file by file; an item present at both ends stays at `to` and the source's copy goes to the backup. */
  | {check: string; op: 'move'; path: string; to: string; note?: string}
  /** Create a real folder (and its parents; default mode 0755). A file or a link in the way (even a link to a folder) goes to the backup. */
  | {check: string; op: 'mkdir'; path: string; mode?: number; note?: string}
  /** Set a file's mode, e.g. 0o600 for a secret. A link fails: its target's mode is never changed through it. */
  | {check: string; op: 'chmod'; path: string; mode: number; note?: string}
  /** Replace a text file's content (created when missing, mode 0644; else the mode is kept); the old file goes to the backup. */
  | {check: string; op: 'edit'; path: string; content: string; note?: string; diff?: string}
  /** `git rm --cached` a path of the repository at `repo`; the file stays on disk. */
  | {check: string; op: 'untrack'; path: string; repo: string; note?: string}

export type ActionOp = Action['op']
export type ActionStatus = 'planned' | 'applied' | 'failed' | 'skipped'

/** An action as reported after planning or applying it (the JSON `fix.actions[]`). */
export interface ActionReport {
  check: string
  op: ActionOp
  path: string
  to?: string
  mode?: string
  note?: string
  /** link: how the file that was in the way differs from the repository's; edit: the change (unified diffs). */
  diff?: string
  /** Where what left its place went: the user's copy to carry a change over from. */
  backup?: string
  status: ActionStatus
  /** skipped: why there was nothing to do (already a link to it, nothing at the source…). */
  reason?: string
  error?: string
}
