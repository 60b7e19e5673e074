/** Every check's id and title, in the order results are shown: all that `codex-doctor checks` loads. */
export const CHECK_TITLES = {
  'codex-version': 'Codex version',
  'codex-home': 'CODEX_HOME is a real folder, not a link into the repository',
  links: 'Each declared entry in CODEX_HOME links to the repository',
  'write-target': 'config.toml can be rewritten',
  'write-probe': 'Codex keeps a linked config.toml',
  'config-toml': 'config.toml parses as TOML',
  prompts: 'Custom prompts load (or, on Codex ≥ 0.117, have become skills)',
  skills: 'Skills load',
  'stray-state': "Codex's runtime state lives in CODEX_HOME, not in the repository",
  secrets: 'Secrets stay out of git and private',
  gitignore: 'The repository ignores the live config.toml',
  nix: 'Nix links ~/.codex entry by entry, config.toml out of the store',
  ansible: 'Ansible links ~/.codex entry by entry',
} as const

export const CHECK_IDS: readonly string[] = Object.keys(CHECK_TITLES)
