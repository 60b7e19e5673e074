/**
 * Layouts people really use, each healthy (every check passes, exit 0, no --dotfiles needed) and
 * then broken in the ways the issue found passing as healthy. Real git, real links, real stow,
 * the real CLI and a real Codex (0.116, the last that loads prompts).
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, symlinkSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CODEX} from '../codex-bins.js'
import {AUTH, CONFIG_TOML, PROMPT, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()
const ARGS = ['--codex-bin', CODEX.v116, '--no-probe']

const SKILL = (name: string) => `---\nname: ${name}\ndescription: The ${name} skill\n---\n\nDo the ${name} thing.\n`
const HOOKS = '{"hooks": {}}\n'

type Check = {status: string; summary: string; details: Record<string, unknown>}
const statuses = (json: {checks: Record<string, Check>}) => Object.fromEntries(Object.entries(json.checks).map(([id, c]) => [id, c.status]))

/** A repository folder holding what Codex reads, committed, its live config.toml ignored. */
function codexFolder(s: Sandbox, rel: string, entries: readonly string[] = ['config.toml', 'prompts', 'AGENTS.md', 'hooks.json', 'rules']): string {
  const dir = path.join(s.dotfiles, ...rel.split('/'))
  for (const entry of entries) {
    if (entry === 'config.toml') s.write(path.join(dir, 'config.toml'), CONFIG_TOML)
    if (entry === 'prompts') s.write(path.join(dir, 'prompts', 'hello.md'), PROMPT)
    if (entry === 'AGENTS.md') s.write(path.join(dir, 'AGENTS.md'), '# Global instructions\n')
    if (entry === 'hooks.json') s.write(path.join(dir, 'hooks.json'), HOOKS)
    if (entry === 'rules') s.write(path.join(dir, 'rules', 'default.rules'), 'prefix_rule(pattern=["ls"], decision="allow")\n')
  }
  s.write(path.join(s.dotfiles, '.gitignore'), `${rel}/config.toml\n`)
  s.commit('codex')
  return dir
}

/** CODEX_HOME as Codex leaves it: a real folder with its own state. */
function codexHomeWithState(s: Sandbox): void {
  s.write(path.join(s.codexHome, 'auth.json'), AUTH, 0o600)
  s.write(path.join(s.codexHome, 'history.jsonl'), '{"ts":1}\n', 0o600)
  s.write(path.join(s.codexHome, 'sessions', '2026', '01', '01', 'rollout-1.jsonl'), '{"id":1}\n')
  s.write(path.join(s.codexHome, 'skills', '.system', 'plan', 'SKILL.md'), SKILL('plan'))
}

function linkAll(s: Sandbox, dir: string, entries: readonly string[], relative = false): void {
  for (const entry of entries) {
    const target = path.join(dir, entry)
    s.link(path.join(s.codexHome, entry), relative ? path.relative(s.codexHome, target) : target)
  }
}

const ENTRIES = ['config.toml', 'prompts', 'AGENTS.md', 'hooks.json', 'rules']

describe.each([
  ['ai-config/codex', false],
  ['codex', true],
  ['.config/shared/codex', false],
  ['config/codex', true],
])('a repository keeping Codex in %s (relative links: %s)', (rel, relative) => {
  it('is healthy without --dotfiles; state left in that folder is found; a dangling or missing entry fails', () => {
    const s = sandbox({bare: true})
    const dir = codexFolder(s, rel)
    codexHomeWithState(s)
    linkAll(s, dir, ENTRIES, relative)

    const healthy = cliJson(ARGS, s.env)
    expect(healthy.json.context.dotfiles).toBe(s.dotfiles)
    expect(statuses(healthy.json), JSON.stringify(healthy.json.checks.links.summary)).toMatchObject({links: 'pass', 'stray-state': 'pass', gitignore: 'pass', secrets: 'pass', prompts: 'pass'})
    expect(healthy.status).toBe(0)
    const listed = (healthy.json.checks.links.details.entries as {entry: string; state: string}[]).map((e) => [e.entry, e.state])
    expect(listed).toEqual(ENTRIES.map((e) => [e, 'ok']).sort())

    // state Codex once wrote into that folder
    s.write(path.join(dir, 'history.jsonl'), '{"old":1}\n', 0o600)
    s.write(path.join(dir, 'sessions', '2025', '12', '31', 'rollout-0.jsonl'), '{"old":0}\n')
    const stray = cliJson(ARGS, s.env)
    expect(stray.json.checks['stray-state'].status).toBe('fail')
    expect(stray.json.checks['stray-state'].summary).toContain(dir)
    rmSync(path.join(dir, 'history.jsonl'))
    rmSync(path.join(dir, 'sessions'), {recursive: true})

    // the repository lost hooks.json: its link dangles
    rmSync(path.join(dir, 'hooks.json'))
    const gone = cliJson(ARGS, s.env)
    expect(gone.status).toBe(1)
    expect(gone.json.checks.links.status).toBe('fail')
    expect(gone.json.checks.links.summary).toMatch(/hooks\.json/)
  })
})

describe('GNU stow packages', () => {
  function stowPackage(s: Sandbox): string {
    const pkg = path.join(s.dotfiles, 'codex', '.codex')
    s.write(path.join(pkg, 'config.toml'), CONFIG_TOML)
    s.write(path.join(pkg, 'AGENTS.md'), '# Global instructions\n')
    s.write(path.join(pkg, 'prompts', 'hello.md'), PROMPT)
    s.write(path.join(pkg, 'prompts', 'review.md'), PROMPT)
    s.write(path.join(s.dotfiles, '.gitignore'), 'codex/.codex/config.toml\n')
    s.commit('stow package')
    return pkg
  }
  const stow = (s: Sandbox, ...flags: string[]) => execFileSync('stow', [...flags, '-d', s.dotfiles, '-t', s.home, 'codex'], {env: s.env, stdio: 'pipe'})

  it.each([[[]], [['--no-folding']]])('stow %j into a CODEX_HOME Codex already made: healthy; a file stow never linked fails', (flags) => {
    const s = sandbox({bare: true})
    const pkg = stowPackage(s)
    codexHomeWithState(s)
    stow(s, ...flags)
    const healthy = cliJson(ARGS, s.env)
    expect(healthy.json.context.dotfiles).toBe(s.dotfiles)
    expect(statuses(healthy.json)).toMatchObject({links: 'pass', 'stray-state': 'pass', gitignore: 'pass', prompts: 'pass'})
    expect(healthy.status).toBe(0)
    const entries = healthy.json.checks.links.details.entries as {entry: string; state: string; declaredAt: string[]}[]
    expect(entries.map((e) => e.entry)).toEqual(['AGENTS.md', 'config.toml', 'prompts'])
    expect(entries.every((e) => e.declaredAt.join() === 'stow package codex')).toBe(true)
    if (flags.length > 0) expect(entries.find((e) => e.entry === 'prompts')?.state).toBe('unfolded')

    // a new entry in the package that was never stowed
    s.write(path.join(pkg, 'hooks.json'), HOOKS)
    const unstowed = cliJson(ARGS, s.env)
    expect(unstowed.status).toBe(1)
    expect(unstowed.json.checks.links.summary).toMatch(/hooks\.json is missing/)
  })
})

describe('skills linked one by one from a repository-wide skills/ folder', () => {
  it('each link is an entry; Codex\'s own skills/.system stays; a linked skill without SKILL.md fails', () => {
    const s = sandbox({bare: true})
    const dir = codexFolder(s, 'config/codex', ['config.toml', 'prompts'])
    for (const name of ['greeter', 'reviewer']) s.write(path.join(s.dotfiles, 'skills', name, 'SKILL.md'), SKILL(name))
    s.commit('skills')
    codexHomeWithState(s)
    linkAll(s, dir, ['config.toml', 'prompts'])
    for (const name of ['greeter', 'reviewer']) s.link(path.join(s.codexHome, 'skills', name), path.join(s.dotfiles, 'skills', name))

    const healthy = cliJson(ARGS, s.env)
    expect(statuses(healthy.json)).toMatchObject({links: 'pass', skills: 'pass', 'stray-state': 'pass'})
    expect((healthy.json.checks.links.details.entries as {entry: string}[]).map((e) => e.entry)).toEqual(['config.toml', 'prompts', 'skills/greeter', 'skills/reviewer'])

    rmSync(path.join(s.dotfiles, 'skills', 'reviewer', 'SKILL.md'))
    s.write(path.join(s.dotfiles, 'skills', 'reviewer', 'notes.md'), 'todo\n')
    const broken = cliJson(ARGS, s.env)
    expect(broken.status).toBe(1)
    expect(broken.json.checks.skills.status).toBe('fail')
    expect(broken.json.checks.skills.summary).toMatch(/reviewer/)
  })
})

/** The machine: Nix declares config.toml, hooks.json, prompts and AGENTS.md from config/codex, and each skill from skills/. */
const NIX_DECLARING = `{ config, dotfiles, ... }:
let
  oos = config.lib.file.mkOutOfStoreSymlink;
  skills = [ "greeter" "reviewer" ];
in
{
  home.file = {
    ".codex/config.toml".source = oos "\${dotfiles}/config/codex/config.toml";
    ".codex/hooks.json".source = oos "\${dotfiles}/config/codex/hooks.json";
    ".codex/prompts".source = oos "\${dotfiles}/config/codex/prompts";
    ".codex/AGENTS.md".source = oos "\${dotfiles}/config/codex/AGENTS.md";
  } // builtins.listToAttrs (map (name: {
    name = ".codex/skills/\${name}";
    value.source = oos "\${dotfiles}/skills/\${name}";
  }) skills);
}
`

describe('what Nix declares is what gets verified', () => {
  function nixMachine(): Sandbox {
    const s = sandbox({bare: true})
    const dir = codexFolder(s, 'config/codex', ['config.toml', 'prompts', 'AGENTS.md', 'hooks.json'])
    for (const name of ['greeter', 'reviewer']) s.write(path.join(s.dotfiles, 'skills', name, 'SKILL.md'), SKILL(name))
    s.write(path.join(s.dotfiles, 'nix', 'home.nix'), NIX_DECLARING)
    s.commit('nix')
    codexHomeWithState(s)
    linkAll(s, dir, ['config.toml', 'prompts', 'AGENTS.md', 'hooks.json'])
    for (const name of ['greeter', 'reviewer']) s.link(path.join(s.codexHome, 'skills', name), path.join(s.dotfiles, 'skills', name))
    return s
  }

  it('healthy: every declared entry is listed with the line that declares it', () => {
    const s = nixMachine()
    const healthy = cliJson(ARGS, s.env)
    expect(statuses(healthy.json)).toMatchObject({links: 'pass', skills: 'pass', nix: 'pass'})
    expect(healthy.status).toBe(0)
    const entries = healthy.json.checks.links.details.entries as {entry: string; declaredAt: string[]}[]
    expect(entries.map((e) => [e.entry, e.declaredAt])).toEqual([
      ['AGENTS.md', ['nix/home.nix:11']],
      ['config.toml', ['nix/home.nix:8']],
      ['hooks.json', ['nix/home.nix:9']],
      ['prompts', ['nix/home.nix:10']],
      ['skills/greeter', [expect.stringMatching(/^nix\/home\.nix:1[23]$/)]],
      ['skills/reviewer', [expect.stringMatching(/^nix\/home\.nix:1[23]$/)]],
    ])
  })

  it.each<[string, (s: Sandbox) => void, string, RegExp]>([
    ['a dangling hooks.json link', (s) => {
      unlinkSync(path.join(s.codexHome, 'hooks.json'))
      symlinkSync(path.join(s.root, 'nowhere', 'hooks.json'), path.join(s.codexHome, 'hooks.json'))
    }, 'links', /hooks\.json is a dangling link .*declared at nix\/home\.nix:9/],
    ['a declared AGENTS.md never linked', (s) => unlinkSync(path.join(s.codexHome, 'AGENTS.md')), 'links', /AGENTS\.md is missing \(declared at nix\/home\.nix:11\)/],
    ['a declared source deleted from the repository', (s) => {
      s.git('rm', '-q', 'config/codex/hooks.json')
      s.commit('drop hooks')
    }, 'links', /hooks\.json is declared at nix\/home\.nix:9, but the repository has no .*hooks\.json/],
    ['a linked skill without SKILL.md', (s) => {
      s.git('rm', '-q', 'skills/reviewer/SKILL.md')
      mkdirSync(path.join(s.dotfiles, 'skills', 'reviewer'), {recursive: true})
    }, 'skills', /reviewer/],
  ])('%s fails (exit 1), naming the declaration', (_, breakIt, check, summary) => {
    const s = nixMachine()
    breakIt(s)
    const broken = cliJson(ARGS, s.env)
    expect(broken.status).toBe(1)
    expect(broken.json.checks[check].status).toBe('fail')
    expect(broken.json.checks[check].summary).toMatch(summary)
  })
})
