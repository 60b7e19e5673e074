/**
 * Builds the declared link set from everything the user wrote (codex-doctor.toml, Nix, Ansible,
 * stow packages) and what exists, once per look at the disk.
 */
import {existsSync, readdirSync} from 'node:fs'
import path from 'node:path'

import {CODEX_READS} from '../codex-facts.js'
import {SKILLS_SCAN_DEPTH} from '../codex/skills.js'
import {statOrUndefined} from '../context/chain.js'
import {DEFAULT_CODEX_DIR, type DoctorConfig} from '../context/config.js'
import {readFile, realpath, stat} from '../fs-now.js'
import {filesWith, type RepoFacts} from '../repo/facts.js'
import type {AnsibleEnvironment} from './ansible.js'
import {readConfigLinks} from './config.js'
import {readObserved} from './observed.js'
import {chooseCodexDir, type DeclaredSet, mergeDeclarations} from './set.js'
import {readStow} from './stow.js'
import type {Declaration, ReadProblem} from './types.js'

export interface DeclaredInput {
  codexHome: string
  home: string
  /** The dotfiles root, or null when none was found (then only what exists in CODEX_HOME is known). */
  dotfiles: string | null
  config: DoctorConfig
  configFile: string | null
  repo: RepoFacts | null
  env: NodeJS.ProcessEnv
}

/** Layouts seen in the wild, tried in this order when nothing else names the codex folder; config/codex last (SPEC). */
export const KNOWN_CODEX_DIRS = ['codex', 'ai-config/codex', '.config/shared/codex', '.config/codex', 'config/codex']

const MAX_FILE_BYTES = 1024 * 1024

async function readSmall(file: string): Promise<string | null> {
  try {
    // the size first: a generated file of hundreds of MB is not read at all
    if ((await stat(file)).size > MAX_FILE_BYTES) return null
    const buffer = await readFile(file)
    return buffer.length > MAX_FILE_BYTES ? null : buffer.toString('utf8')
  } catch {
    return null
  }
}

/** A folder that holds at least one entry Codex reads. */
function holdsCodexEntries(dir: string): boolean {
  for (const name of Object.keys(CODEX_READS)) if (statOrUndefined(path.join(dir, name))) return true
  return false
}

/** The first known layout in the repository that holds Codex entries, or null. */
export function findCodexDir(repo: string): string | null {
  for (const rel of KNOWN_CODEX_DIRS) {
    const dir = path.join(repo, ...rel.split('/'))
    if (holdsCodexEntries(dir)) return dir
  }
  return null
}

/** The codex folder when nothing points at one: a known layout that holds Codex entries, else config/codex (SPEC's last default). */
export function guessCodexDir(repo: string): string {
  return findCodexDir(repo) ?? path.join(repo, ...DEFAULT_CODEX_DIR.split('/'))
}

function folderNames(dir: string): string[] {
  try {
    return readdirSync(dir, {withFileTypes: true})
      .filter((d) => !d.name.startsWith('.') && (d.isDirectory() || d.isSymbolicLink()))
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
}

/** A folder holding a SKILL.md somewhere (a little deeper than Codex looks, so one too deep is still named): a skill, not a draft. */
export function holdsSkill(dir: string, depth = 0): boolean {
  if (depth > SKILLS_SCAN_DEPTH + 1) return false
  try {
    const entries = readdirSync(dir, {withFileTypes: true})
    if (entries.some((d) => d.name === 'SKILL.md')) return true
    return entries.some((d) => !d.name.startsWith('.') && d.isDirectory() && holdsSkill(path.join(dir, d.name), depth + 1))
  } catch {
    return false
  }
}

/**
 * When nothing declares anything: every entry Codex reads that the codex folder holds; skills one
 * by one (Codex writes its own skills/.system into CODEX_HOME/skills, so that folder stays real).
 */
export function defaultDeclarations(codexDir: string | null, codexHome: string, observed: readonly Declaration[]): Declaration[] {
  if (!codexDir) return []
  const origin = {via: 'default' as const, file: null, line: null}
  const out: Declaration[] = []
  const skillsLinked = observed.some((d) => d.target === path.join(codexHome, 'skills'))
  for (const name of Object.keys(CODEX_READS)) {
    const source = path.join(codexDir, name)
    if (!statOrUndefined(source)) continue
    if (name === 'skills' && !skillsLinked) {
      for (const skill of folderNames(source).filter((name) => holdsSkill(path.join(source, name)))) out.push({target: path.join(codexHome, 'skills', skill), source: path.join(source, skill), origin})
      continue
    }
    out.push({target: path.join(codexHome, name), source, origin})
  }
  return out
}

export function dirKinds(dir: string): Record<string, 'directory' | 'regular' | 'symlink' | 'unknown'> | null {
  try {
    return Object.fromEntries(
      readdirSync(dir, {withFileTypes: true}).map((d) => [d.name, d.isDirectory() ? 'directory' : d.isFile() ? 'regular' : d.isSymbolicLink() ? 'symlink' : 'unknown'] as const),
    )
  } catch {
    return null
  }
}

async function readNix(repo: RepoFacts, input: DeclaredInput, root: string): Promise<{declarations: Declaration[]; problems: ReadProblem[]}> {
  const files: {file: string; text: string}[] = []
  for (const rel of filesWith(repo, ['.nix'])) {
    const file = path.join(repo.root, rel)
    const text = await readSmall(file)
    // a cheap filter: whatever declares a Codex link names codex somewhere
    if (text !== null && text.includes('codex')) files.push({file, text})
  }
  if (files.length === 0) return {declarations: [], problems: []}
  // the Nix reader is loaded only for a repository whose Nix files may declare Codex links
  const {readNixDeclarations} = await import('./nix.js')
  return readNixDeclarations(files, {repo: root, home: input.home, codexHome: input.codexHome, readDir: dirKinds, exists: existsSync})
}

/** What the Ansible reader needs of the repository: its YAML files, read when asked. */
export function ansibleEnvironment(repo: RepoFacts, root: string, home: string, codexHome: string): AnsibleEnvironment {
  return {
    repo: root,
    home,
    codexHome,
    files: filesWith(repo, ['.yml', '.yaml']),
    readText: readSmall,
    exists: existsSync,
    listDir: (dir) => {
      try {
        return readdirSync(dir).sort()
      } catch {
        return null
      }
    },
  }
}

async function readAnsible(repo: RepoFacts, input: DeclaredInput, root: string): Promise<{declarations: Declaration[]; problems: ReadProblem[]}> {
  const env = ansibleEnvironment(repo, root, input.home, input.codexHome)
  if (env.files.length === 0) return {declarations: [], problems: []}
  const {readAnsibleDeclarations} = await import('./ansible.js')
  return readAnsibleDeclarations(env)
}

export async function readDeclaredSet(input: DeclaredInput): Promise<DeclaredSet> {
  const {codexHome, config} = input
  const root = input.dotfiles ? await realpath(input.dotfiles).catch(() => input.dotfiles!) : null
  const observed = root ? await readObserved(codexHome, root) : []
  const declared: Declaration[] = []
  const problems: ReadProblem[] = []
  if (root) {
    if (config.links && input.configFile) declared.push(...(await readConfigLinks(config.links, input.configFile, root, codexHome)))
    if (input.repo) {
      // the readers see the repository under its real path, as the link chains do
      const facts = {...input.repo, root}
      const [nix, ansible, stow] = await Promise.all([readNix(facts, input, root), readAnsible(facts, input, root), readStow(facts, input.home, codexHome, config.extra_state)])
      declared.push(...nix.declarations, ...ansible.declarations, ...stow)
      problems.push(...nix.problems, ...ansible.problems)
    }
  }
  const codexDir = root
    ? chooseCodexDir({
        codexHome,
        repo: root,
        declared,
        observed,
        setting: config.codex_dir ? path.join(root, ...config.codex_dir.split('/')) : null,
        fallback: guessCodexDir(root),
      })
    : null
  const defaults = defaultDeclarations(codexDir, codexHome, observed)
  return mergeDeclarations({codexHome, repo: root, declared, observed, problems, defaults, codexDir})
}
