/**
 * What CODEX_HOME is (a real folder, the old directory link, …), shared by the codex-home,
 * links and stray-state checks, and how a link chain is shown in their details.
 */
import {type Chain, type ChainEnd, isInside, readChain} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {realpath} from '../fs-now.js'

export type HomeKind =
  | 'folder' // a real folder outside the repository: the layout we want
  | 'repo-folder' // a real folder inside the repository ($CODEX_HOME set to a path in it)
  | 'repo-link' // a link (chain) ending inside the repository: the old layout
  | 'outside-link' // a link to a folder elsewhere: Codex works, but it is not the layout
  | 'missing'
  | 'dangling'
  | 'loop'
  | 'file' // a regular file, or a link to one
  | 'other' // a socket, a device…

export interface Home {
  path: string
  kind: HomeKind
  chain: Chain
  /** The real path CODEX_HOME resolves to, when it resolves. */
  real: string | null
  /** CODEX_HOME resolves to the repository's codex folder itself: Codex writes its state there. */
  isCodexDir: boolean
}

/** The verdict on CODEX_HOME from its chain; `inRepo` is null when there is no repository to compare with. */
export function classifyHome(end: ChainEnd, linked: boolean, inRepo: boolean | null): HomeKind {
  switch (end) {
    case 'dir':
      if (inRepo) return linked ? 'repo-link' : 'repo-folder'
      return linked ? 'outside-link' : 'folder'
    case 'missing':
      return linked ? 'dangling' : 'missing'
    case 'loop':
      return 'loop'
    case 'file':
      return 'file'
    case 'other':
      return 'other'
  }
}

export async function realpathOrNull(p: string | null): Promise<string | null> {
  if (p === null) return null
  try {
    return await realpath(p)
  } catch {
    return null
  }
}

/** CODEX_HOME's chain and verdict. Read afresh each time (a few lstat calls): the re-check after --fix must see the new disk. */
export async function inspectHome(ctx: Pick<Context, 'codexHome' | 'dotfiles'>, codexDirOf?: string | null): Promise<Home> {
  const chain = readChain(ctx.codexHome)
  const real = chain.end === 'dir' || chain.end === 'file' ? await realpathOrNull(chain.final) : null
  const [repo, codexDir] = await Promise.all([realpathOrNull(ctx.dotfiles), realpathOrNull(codexDirOf ?? null)])
  const inRepo = real && repo ? isInside(real, repo) : repo ? false : null
  return {
    path: ctx.codexHome,
    kind: classifyHome(chain.end, chain.hops.length > 0, inRepo),
    chain,
    real,
    isCodexDir: real !== null && codexDir !== null && real === codexDir,
  }
}

/** Each hop of a chain as `path → target` (the target as written in the link). */
export function hopLines(chain: Chain): string[] {
  return chain.hops.map((hop) => `${hop.path} → ${hop.target}`)
}
