import {chmod, mkdir, mkdtemp, realpath, rm, symlink, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {git} from '../process.js'

/** A throwaway machine in the old layout: ~/.codex linked to the repository, with years of state inside it. */
export interface DemoMachine {
  root: string
  home: string
  dotfiles: string
  codexDir: string
  codexHome: string
  env: NodeJS.ProcessEnv
}

const GITIGNORE_BEFORE = 'config/codex/*\n!config/codex/config.example.toml\n!config/codex/prompts\n'
/** The seed's home-manager module before step 2: the whole folder linked out of the store. */
const NIX_BEFORE = `{ config, dotfiles, ... }:
{
  # Codex (see codex-individual-symlinks-plan.md)
  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex";
}
`
const CONFIG = 'model = "gpt-5"\napproval_policy = "on-request"\n'

async function put(file: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true})
  await writeFile(file, content)
  await chmod(file, mode)
}

/** An environment in which nothing points outside a sandbox: HOME, CODEX_HOME, XDG_*, git's identity (the demo's, and the tests'). */
export function isolatedEnv(root: string, home: string, codexHome: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of ['PATH', 'LANG', 'LC_ALL', 'TMPDIR', 'TERM', 'FORCE_COLOR', 'NO_COLOR']) if (base[key] !== undefined) env[key] = base[key]
  return {
    ...env,
    HOME: home,
    CODEX_HOME: codexHome,
    XDG_STATE_HOME: path.join(root, 'state'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    XDG_CONFIG_HOME: path.join(root, 'config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'demo',
    GIT_AUTHOR_EMAIL: 'demo@example.com',
    GIT_COMMITTER_NAME: 'demo',
    GIT_COMMITTER_EMAIL: 'demo@example.com',
  }
}

/** Builds the old layout in the system temp folder, with `sessions` fake session files. */
export async function buildOldLayout(base: NodeJS.ProcessEnv, sessions = 24): Promise<DemoMachine> {
  const root = await realpath(await mkdtemp(path.join(base.TMPDIR || os.tmpdir(), 'codex-doctor-demo-')))
  const home = path.join(root, 'home')
  const dotfiles = path.join(home, 'dotfiles')
  const codexDir = path.join(dotfiles, 'config', 'codex')
  const codexHome = path.join(home, '.codex')
  const env = isolatedEnv(root, home, codexHome, base)
  // a machine that cannot be built (no git, an old git) leaves nothing behind in the temp folder
  try {
    await put(path.join(codexDir, 'config.example.toml'), CONFIG)
    await put(path.join(codexDir, 'config.toml'), CONFIG)
    await put(path.join(codexDir, 'prompts', 'review.md'), '---\ndescription: Review the staged diff\n---\nReview `git diff --staged`.\n')
    await put(path.join(dotfiles, '.gitignore'), GITIGNORE_BEFORE)
    await put(path.join(dotfiles, 'nix', 'home', 'shared', 'default.nix'), NIX_BEFORE)
    for (const args of [['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-q', '-m', 'dotfiles']]) {
      const result = await git(dotfiles, args, {env})
      if (result.exitCode !== 0) throw new Error(`git ${args[0]} failed in the demo sandbox: ${result.stderr.trim()}`)
    }

    // what Codex wrote through the directory link over the years: all of it inside the repository
    await put(path.join(codexDir, 'auth.json'), '{"OPENAI_API_KEY":"sk-demo-not-a-real-key"}\n', 0o600)
    await put(path.join(codexDir, 'history.jsonl'), '{"session_id":"1","ts":1767225600,"text":"explain this repo"}\n', 0o600)
    await put(path.join(codexDir, 'version.json'), '{"latest_version":"0.89.0"}\n')
    await put(path.join(codexDir, 'log', 'codex-tui.log'), 'INFO codex started\n')
    for (let i = 0; i < sessions; i++) {
      const day = String((i % 28) + 1).padStart(2, '0')
      await put(path.join(codexDir, 'sessions', '2026', '01', day, `rollout-2026-01-${day}T10-00-00-${i}.jsonl`), `{"type":"session_meta","id":"${i}"}\n`)
    }
    await symlink(codexDir, codexHome)
  } catch (error) {
    await rm(root, {recursive: true, force: true})
    throw error
  }
  return {root, home, dotfiles, codexDir, codexHome, env}
}
