import {ansible} from './ansible.js'
import {codexHome} from './codex-home.js'
import {codexVersion} from './codex-version.js'
import {configToml} from './config-toml.js'
import {gitignore} from './gitignore.js'
import {links} from './links.js'
import {nix} from './nix.js'
import {prompts} from './prompts.js'
import {secrets} from './secrets.js'
import {skills} from './skills.js'
import {strayState} from './stray-state.js'
import type {Check} from './types.js'
import {writeProbe} from './write-probe.js'
import {writeTarget} from './write-target.js'

/** Every check, in the order results are shown (and fixes are applied). */
export const CHECKS: readonly Check[] = [
  codexVersion,
  codexHome,
  links,
  writeTarget,
  writeProbe,
  configToml,
  prompts,
  skills,
  strayState,
  secrets,
  gitignore,
  nix,
  ansible,
]

export {CHECK_IDS, CHECK_TITLES} from './titles.js'
