/** How the repository's Nix (home-manager) files link ~/.codex: the whole folder (seed step 2 "Before") or entry by entry ("After"). */
import {existsSync} from 'node:fs'

import {dirKinds} from '../declared/read.js'
import {provisioningCheck} from './provisioning.js'

export const nix = provisioningCheck(
  'nix',
  async (_ctx, where, file, text, folder, entries) => (await import('../declared/nix.js')).rewriteNixFolderLink({file, text}, {...where, readDir: dirKinds, exists: existsSync}, folder, entries),
  {
    step: 'Seed step 2: link each entry with mkOutOfStoreSymlink instead of the folder.',
    entryFix:
      'Keep config.toml in the repository and link it out of the store: home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/<codex folder>/config.toml"; a plain path (or programs.codex settings) is copied into the read-only Nix store, where Codex cannot write.',
    run: 'switch (home-manager switch)',
  },
)
