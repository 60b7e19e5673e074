/** The real Codex releases pinned as devDependencies (see package.json), by what they show. */
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = (alias: string) => path.join(root, 'node_modules', alias, 'bin', 'codex.js')

export const CODEX = {
  /** Last npm release before the fix: replaces a linked config.toml with a regular file. */
  v087: bin('codex-0.87'),
  /** First npm release that follows link chains. */
  v089: bin('codex-0.89'),
  /** Last release that loads custom prompts. */
  v116: bin('codex-0.116'),
  /** First release without custom prompts. */
  v117: bin('codex-0.117'),
  /** The newest release. */
  latest: bin('codex-latest'),
} as const

export const LATEST_VERSION = '0.169.0'
export const REPO_ROOT = root
