/**
 * Builds a throwaway HOME with a dotfiles git repository and a CODEX_HOME in any layout.
 * Everything lives under one temp folder; `env` points HOME, CODEX_HOME, XDG_* there, so
 * nothing a test runs can reach the real ~/.codex.
 */
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, readFileSync, lstatSync, readdirSync, readlinkSync, existsSync, unlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach} from 'vitest'

import {isolatedEnv} from '../src/demo/old-layout.js'

export type Layout =
  /** The target: CODEX_HOME a real folder, config.toml and prompts linked one by one, state in CODEX_HOME. */
  | 'new'
  /** The old way: CODEX_HOME is a link to the repository's codex folder, state inside the repository. */
  | 'old'
  /** A repository but nothing linked: CODEX_HOME exists, empty. */
  | 'unlinked'

export interface SandboxOptions {
  layout?: Layout
  /** A word put in every folder name, e.g. 'with space ü' to test quoting and non-ASCII paths. */
  name?: string
  /** Old-style .gitignore (`config/codex/*` with exceptions) instead of the simple one. */
  oldGitignore?: boolean
  /** Use relative link targets as GNU stow does. */
  relative?: boolean
  /** Put runtime state (auth.json, history, sessions…) where the layout keeps it. Default true. */
  state?: boolean
  /** An empty dotfiles repository and no CODEX_HOME: the test lays out its own files. */
  bare?: boolean
}

export interface Sandbox {
  root: string
  home: string
  codexHome: string
  dotfiles: string
  codexDir: string
  env: NodeJS.ProcessEnv
  /** Path inside the sandbox root. */
  p(...parts: string[]): string
  write(file: string, content: string, mode?: number): string
  link(at: string, target: string): string
  git(...args: string[]): string
  commit(message?: string): void
  cleanup(): void
}

export const CONFIG_TOML = 'model = "gpt-5"\napproval_policy = "on-request"\n'
export const PROMPT = '---\ndescription: Say hello\nargument-hint: NAME\n---\nSay hello to $1.\n'
export const AUTH = '{"OPENAI_API_KEY":"sk-test-SECRET-never-print-me"}\n'

export function gitIn(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: repo},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export function makeSandbox(options: SandboxOptions = {}): Sandbox {
  const {layout = 'new', name = '', oldGitignore = layout === 'old', relative = false, state = true, bare = false} = options
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-test-')))
  const suffix = name ? ` ${name}` : ''
  const home = path.join(root, `home${suffix}`)
  const dotfiles = path.join(home, `dotfiles${suffix}`)
  const codexDir = path.join(dotfiles, 'config', 'codex')
  const codexHome = path.join(home, '.codex')
  const p = (...parts: string[]) => path.join(root, ...parts)

  const write = (file: string, content: string, mode = 0o644) => {
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, content)
    chmodSync(file, mode)
    return file
  }
  const link = (at: string, target: string) => {
    mkdirSync(path.dirname(at), {recursive: true})
    symlinkSync(relative && path.isAbsolute(target) ? path.relative(path.dirname(at), target) : target, at)
    return at
  }
  const git = (...args: string[]) => gitIn(dotfiles, ...args)

  mkdirSync(home, {recursive: true})
  mkdirSync(dotfiles, {recursive: true})
  execFileSync('git', ['init', '-q', '-b', 'main', dotfiles])
  const made = {root, home, codexHome, dotfiles, codexDir, env: sandboxEnv(root, home, codexHome), p, write, link, git}
  if (bare) {
    write(path.join(dotfiles, 'README.md'), '# dotfiles\n')
    const sandbox: Sandbox = {...made, commit: commitWith(git), cleanup: () => rmSync(root, {recursive: true, force: true})}
    sandbox.commit('initial')
    return sandbox
  }
  write(path.join(codexDir, 'config.example.toml'), CONFIG_TOML)
  write(path.join(codexDir, 'config.toml'), CONFIG_TOML)
  write(path.join(codexDir, 'prompts', 'hello.md'), PROMPT)
  write(
    path.join(dotfiles, '.gitignore'),
    oldGitignore ? 'config/codex/*\n!config/codex/config.example.toml\n!config/codex/prompts\n' : 'config/codex/config.toml\n',
  )
  write(path.join(dotfiles, 'README.md'), '# dotfiles\n')

  const stateRoot = layout === 'old' ? codexDir : codexHome
  if (layout === 'old') {
    link(codexHome, codexDir)
  } else {
    mkdirSync(codexHome, {recursive: true})
    if (layout === 'new') {
      link(path.join(codexHome, 'config.toml'), path.join(codexDir, 'config.toml'))
      link(path.join(codexHome, 'prompts'), path.join(codexDir, 'prompts'))
    }
  }
  if (state) {
    write(path.join(stateRoot, 'auth.json'), AUTH, 0o600)
    write(path.join(stateRoot, 'history.jsonl'), '{"ts":1,"text":"hello"}\n', 0o600)
    write(path.join(stateRoot, 'sessions', '2026', '01', '02', 'rollout-1.jsonl'), '{"id":1}\n')
    write(path.join(stateRoot, 'log', 'codex-tui.log'), 'log line\n')
    write(path.join(stateRoot, 'version.json'), '{"latest_version":"0.89.0"}\n')
  }

  const sandbox: Sandbox = {...made, commit: commitWith(git), cleanup: () => rmSync(root, {recursive: true, force: true})}
  sandbox.commit('initial')
  return sandbox
}

function commitWith(git: (...args: string[]) => string) {
  return (message = 'dotfiles') => {
    git('add', '-A')
    git('commit', '-q', '--allow-empty', '-m', message)
  }
}

/** An environment that keeps every tool inside the sandbox, the same one the demo uses, without color. */
export function sandboxEnv(root: string, home: string, codexHome: string): NodeJS.ProcessEnv {
  const {FORCE_COLOR: _force, TERM: _term, ...env} = isolatedEnv(root, home, codexHome, process.env)
  return {...env, NO_COLOR: '1'}
}

// ---- mutators: each turns a healthy sandbox into one of the broken states users hit ----

/** What Codex 0.87 does: the link replaced by a regular 0600 file (here with a local change). */
export function clobberConfig(s: Sandbox, content = CONFIG_TOML + 'model_reasoning_effort = "high"\n'): void {
  const at = path.join(s.codexHome, 'config.toml')
  unlinkSync(at)
  s.write(at, content, 0o600)
}

/** home-manager style: ~/.codex/config.toml → home-files/.codex/config.toml → hm-out → repo (three hops). */
export function homeManagerChain(s: Sandbox, entry = 'config.toml'): string[] {
  const at = path.join(s.codexHome, entry)
  const hmFiles = s.p('nix', 'store', 'abc-home-manager-files', '.codex', entry)
  const hmOut = s.p('nix', 'store', 'def-hm_out-of-store', entry)
  rmSync(at, {force: true, recursive: false})
  mkdirSync(path.dirname(hmFiles), {recursive: true})
  mkdirSync(path.dirname(hmOut), {recursive: true})
  symlinkSync(path.join(s.codexDir, entry), hmOut)
  symlinkSync(hmOut, hmFiles)
  symlinkSync(hmFiles, at)
  return [at, hmFiles, hmOut]
}

export function replaceWithLink(s: Sandbox, at: string, target: string): void {
  rmSync(at, {force: true, recursive: true})
  symlinkSync(target, at)
}

/**
 * Lists every path under `dir` with type, mode, link target, a file's time and content: a
 * fingerprint for "unchanged". `micros`: times cut to the microsecond, what a copy across file
 * systems keeps (`utimes` takes seconds as a float); where a move is a rename, exact times apply.
 */
export function snapshot(dir: string, times: 'exact' | 'micros' = 'exact'): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name)
      const rel = path.relative(dir, full)
      const st = lstatSync(full, {bigint: true})
      const mode = (st.mode & 0o7777n).toString(8)
      const time = times === 'micros' ? `${st.mtimeNs / 1000n}µs` : `${st.mtimeNs}ns`
      if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(full)}`
      else if (st.isDirectory()) {
        out[rel] = `dir ${mode}`
        walk(full)
      } else out[rel] = `file ${mode} ${time} ${readFileSync(full).toString('base64')}`
    }
  }
  if (existsSync(dir)) walk(dir)
  return out
}

/** The plan's Nix and Ansible files (step 2 and 3), before or after the change. */
export const NIX_OLD = `{ config, dotfiles, ... }:
{
  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex";
}
`
export const NIX_NEW = `{ config, dotfiles, ... }:
{
  home.file = {
    ".codex/config.toml".source =
      config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/config.toml";
    ".codex/prompts".source =
      config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/prompts";
  };
}
`
export const ANSIBLE_OLD = `- name: codex folder is symlinked
  file:
    state: link
    dest: "{{ home_dir }}/.codex"
    src: "{{ dotfiles_dir }}/config/codex"
`
export const ANSIBLE_NEW = `- name: Ensure ~/.codex directory exists
  file:
    state: directory
    path: "{{ home_dir }}/.codex"
    mode: '0755'

- name: codex config.toml is symlinked
  file:
    state: link
    dest: "{{ home_dir }}/.codex/config.toml"
    src: "{{ dotfiles_dir }}/config/codex/config.toml"

- name: codex prompts are symlinked
  file:
    state: link
    dest: "{{ home_dir }}/.codex/prompts"
    src: "{{ dotfiles_dir }}/config/codex/prompts"
`

/** Adds nix/home/shared/default.nix and ansible/all_config.yml in the old or new style, committed. */
export function addProvisioning(s: Sandbox, style: 'old' | 'new'): void {
  s.write(path.join(s.dotfiles, 'nix', 'home', 'shared', 'default.nix'), style === 'old' ? NIX_OLD : NIX_NEW)
  s.write(path.join(s.dotfiles, 'ansible', 'all_config.yml'), style === 'old' ? ANSIBLE_OLD : ANSIBLE_NEW)
  s.commit(`provisioning (${style})`)
}

/** A valid skill in the repository's codex folder: skills/<name>/SKILL.md. */
export function addSkill(s: Sandbox, name = 'greeter', frontMatter = `name: ${name}\ndescription: Greets people by name`): string {
  return s.write(path.join(s.codexDir, 'skills', name, 'SKILL.md'), `---\n${frontMatter}\n---\n\nGreet the user.\n`)
}

/** A link loop at CODEX_HOME/<entry>: entry → <entry>.loop → entry (Codex fails with "Symbolic link loop"). */
export function loopLink(s: Sandbox, entry = 'config.toml'): string[] {
  const at = path.join(s.codexHome, entry)
  const other = path.join(s.codexHome, `${entry}.loop`)
  rmSync(at, {force: true, recursive: true})
  symlinkSync(other, at)
  symlinkSync(at, other)
  return [at, other]
}

/** CODEX_HOME/<entry> as a link to a path that does not exist. */
export function danglingLink(s: Sandbox, entry = 'config.toml'): string {
  const at = path.join(s.codexHome, entry)
  replaceWithLink(s, at, s.p('nowhere', entry))
  return at
}

/** A sandbox maker for a test file: every sandbox it makes is removed after each test. */
export function sandboxesPerTest(): (options?: SandboxOptions) => Sandbox {
  let made: Sandbox[] = []
  afterEach(() => {
    for (const s of made) s.cleanup()
    made = []
  })
  return (options) => {
    const s = makeSandbox(options)
    made.push(s)
    return s
  }
}
