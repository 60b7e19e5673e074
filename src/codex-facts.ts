/** What Codex itself does, as measured on the real npm builds (SPEC: "Facts about Codex"). */

/** Last npm release that replaced a linked config.toml with a regular file. */
export const LAST_CLOBBERING_VERSION = '0.87.0'
/** The first release that no longer loads custom prompts. */
export const PROMPTS_REMOVED_IN = '0.117.0'

/** Secrets Codex writes into CODEX_HOME (history holds every prompt typed): never tracked, never printed, always 0600. */
export const SECRET_FILES = ['auth.json', '.credentials.json', 'history.jsonl'] as const

/** Runtime state Codex writes into CODEX_HOME, secrets first. Names are top-level entries; `*` globs one segment. */
export const RUNTIME_STATE = [
  ...SECRET_FILES,
  'sessions',
  'archived_sessions',
  'log',
  'shell_snapshots',
  'tmp',
  '.tmp',
  'version.json',
  'internal_storage.json',
  'models_cache.json',
  'installation_id',
  'session_index.jsonl',
  'mention_usage.json',
  'app-server-daemon',
  'app-server-control',
  'packages',
  'cache',
  '*.sqlite',
  '*.sqlite-wal',
  '*.sqlite-shm',
  '*.lock',
  'plugins/cache',
  'skills/.system',
] as const

/**
 * Entries of CODEX_HOME that Codex reads as configuration (global instructions, prompts, hooks,
 * skills, exec-policy rules), with the kind Codex needs each to be: through the old directory link
 * it saw all of them, so the migration links each one the repository holds, not only config.toml.
 */
export const CODEX_READS = {
  'config.toml': 'file',
  'AGENTS.md': 'file',
  'AGENTS.override.md': 'file',
  'hooks.json': 'file',
  prompts: 'dir',
  rules: 'dir',
  skills: 'dir',
} as const satisfies Record<string, 'file' | 'dir'>

export type CodexEntry = keyof typeof CODEX_READS

/** The kind Codex needs at a path under CODEX_HOME (`skills/<name>` is a skill folder), or undefined when it does not care. */
export function codexKind(entry: string): 'file' | 'dir' | undefined {
  if (/^skills\/[^/]+$/.test(entry)) return 'dir'
  return (CODEX_READS as Record<string, 'file' | 'dir'>)[entry]
}

/** Whether a path relative to CODEX_HOME (or to the repository's codex folder) is one of `patterns`. */
export function matchesState(rel: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    if (!pattern.includes('*')) return rel === pattern
    const re = new RegExp(`^${pattern.split('*').map((s) => s.replaceAll(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`)
    return re.test(rel)
  })
}

export function isSecret(rel: string): boolean {
  return (SECRET_FILES as readonly string[]).includes(rel)
}
