/**
 * Seed steps 2 and 3 with the users' own tools: a real ansible-playbook makes the old layout,
 * codex-doctor fails naming the file, --fix rewrites it, the real tool accepts the result and
 * applies it again, codex-doctor passes, and undo gives the file back byte for byte. The same for
 * the seed's old Nix line, checked by a real nix-instantiate --parse. And a config.toml that a
 * Nix declaration puts in the (read-only) store is named by file and line.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {CODEX} from '../codex-bins.js'
import {ANSIBLE_NEW, ANSIBLE_OLD, AUTH, CONFIG_TOML, NIX_NEW, NIX_OLD, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()
const ARGS = ['--codex-bin', CODEX.v116, '--no-probe']

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

/** The tool's own environment: HOME and its temp and state folders in the sandbox. */
function toolEnv(s: Sandbox): NodeJS.ProcessEnv {
  const ansibleHome = path.join(s.root, 'ansible-home')
  mkdirSync(ansibleHome, {recursive: true})
  return {...s.env, ANSIBLE_HOME: ansibleHome, ANSIBLE_LOCAL_TEMP: path.join(ansibleHome, 'tmp'), ANSIBLE_NOCOLOR: '1', ANSIBLE_PYTHON_INTERPRETER: 'auto_silent'}
}

const PLAYBOOK = `- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    home_dir: "{{ lookup('env', 'HOME') }}"
    dotfiles_dir: "{{ home_dir }}/dotfiles"
  tasks:
    - import_tasks: all_config.yml
`

function playbook(s: Sandbox, ...extra: string[]) {
  return spawnSync('ansible-playbook', ['-i', 'localhost,', ...extra, path.join(s.dotfiles, 'ansible', 'site.yml')], {env: toolEnv(s), encoding: 'utf8', timeout: 120_000})
}

/** Codex's state written through the old link, as years of use leave it. */
function oldState(s: Sandbox): void {
  s.write(path.join(s.codexDir, 'auth.json'), AUTH, 0o600)
  s.write(path.join(s.codexDir, 'history.jsonl'), '{"ts":1}\n', 0o600)
  s.write(path.join(s.codexDir, 'sessions', '2026', '01', '02', 'rollout-1.jsonl'), '{"id":1}\n')
}

describe.runIf(has('ansible-playbook') || process.env.CI)('seed step 3 with a real ansible-playbook', () => {
  it('old task → fail naming it → --fix rewrites it → syntax-check and a second playbook run pass → all pass → undo restores it', () => {
    const s = sandbox({layout: 'unlinked', state: false, oldGitignore: true})
    rmSync(s.codexHome, {recursive: true, force: true})
    s.write(path.join(s.dotfiles, 'ansible', 'site.yml'), PLAYBOOK)
    s.write(path.join(s.dotfiles, 'ansible', 'all_config.yml'), ANSIBLE_OLD)
    s.commit('ansible')
    const first = playbook(s)
    expect(first.status, first.stdout + first.stderr).toBe(0)
    expect(readlinkSync(s.codexHome)).toBe(s.codexDir)
    oldState(s)

    const before = cliJson(ARGS, s.env)
    expect(before.status).toBe(1)
    expect(before.json.checks.ansible.status).toBe('fail')
    expect(before.json.checks.ansible.summary).toMatch(/^ansible\/all_config\.yml:1 links the whole ~\/\.codex folder/)

    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.stderr).toBe('')
    expect(fix.status, fix.stdout).toBe(0)
    expect(readFileSync(path.join(s.dotfiles, 'ansible', 'all_config.yml'), 'utf8')).toBe(ANSIBLE_NEW)
    expect(lstatSync(s.codexHome).isDirectory()).toBe(true)

    const check = playbook(s, '--syntax-check')
    expect(check.status, check.stdout + check.stderr).toBe(0)
    // the old task would fail on a real folder; the new ones apply cleanly and change nothing
    const second = playbook(s)
    expect(second.status, second.stdout + second.stderr).toBe(0)
    expect(second.stdout).toMatch(/changed=0/)

    const after = cliJson(ARGS, s.env)
    expect(after.json.checks.ansible.status).toBe('pass')
    expect(after.status, JSON.stringify(Object.fromEntries(Object.entries(after.json.checks as Record<string, {status: string; summary: string}>).map(([k, v]) => [k, `${v.status}: ${v.summary}`])))).toBe(0)

    const undo = cli(['undo'], s.env)
    expect(undo.status, undo.stdout + undo.stderr).toBe(0)
    expect(readFileSync(path.join(s.dotfiles, 'ansible', 'all_config.yml'), 'utf8')).toBe(ANSIBLE_OLD)
    expect(readlinkSync(s.codexHome)).toBe(s.codexDir)
  })
})

describe.runIf(has('nix-instantiate') || process.env.CI)('seed step 2 with a real nix-instantiate', () => {
  it('old line → fail naming it → --dry-run shows the diff → --fix rewrites it → nix-instantiate --parse → all pass → undo restores it', () => {
    const s = sandbox({layout: 'old'})
    const nixFile = path.join(s.dotfiles, 'nix', 'home', 'shared', 'default.nix')
    s.write(nixFile, NIX_OLD)
    s.commit('nix')

    const before = cliJson(ARGS, s.env)
    expect(before.json.checks.nix.status).toBe('fail')
    expect(before.json.checks.nix.summary).toMatch(/^nix\/home\/shared\/default\.nix:3 links the whole ~\/\.codex folder/)

    const dry = cli(['--fix', '--dry-run', ...ARGS], s.env)
    expect(dry.stdout).toContain('-  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";')
    expect(dry.stdout).toContain('+    ".codex/config.toml".source =')
    expect(readFileSync(nixFile, 'utf8')).toBe(NIX_OLD)

    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.stderr).toBe('')
    expect(fix.status, fix.stdout).toBe(0)
    expect(readFileSync(nixFile, 'utf8')).toBe(NIX_NEW)
    const parsed = spawnSync('nix-instantiate', ['--parse', nixFile], {encoding: 'utf8'})
    expect(parsed.status, parsed.stderr).toBe(0)

    const after = cliJson(ARGS, s.env)
    expect(after.json.checks.nix).toMatchObject({status: 'pass'})
    expect(after.status).toBe(0)

    const undo = cli(['undo'], s.env)
    expect(undo.status, undo.stdout + undo.stderr).toBe(0)
    expect(readFileSync(nixFile, 'utf8')).toBe(NIX_OLD)
  })
})

describe.runIf(process.getuid?.() === 0)('config.toml declared into the Nix store', () => {
  const made: string[] = []
  afterEach(() => {
    for (const dir of made.splice(0)) {
      if (existsSync(dir)) execFileSync('chmod', ['-R', 'u+w', dir])
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('write-target and nix name the declaring file and line; a read-only prompts copy is fine', () => {
    const s = sandbox({layout: 'unlinked', state: false})
    const store = `/nix/store/${path.basename(s.root).replace(/[^a-z0-9]/gi, '').toLowerCase().padEnd(32, '0').slice(0, 32)}-home-manager-files`
    made.push(store)
    mkdirSync(path.join(store, '.codex', 'prompts'), {recursive: true})
    writeFileSync(path.join(store, '.codex', 'config.toml'), CONFIG_TOML)
    writeFileSync(path.join(store, '.codex', 'prompts', 'hello.md'), 'Say hello.\n')
    execFileSync('chmod', ['-R', 'a-w', store])
    symlinkSync(path.join(store, '.codex', 'config.toml'), path.join(s.codexHome, 'config.toml'))
    symlinkSync(path.join(store, '.codex', 'prompts'), path.join(s.codexHome, 'prompts'))
    s.write(
      path.join(s.dotfiles, 'home.nix'),
      '{ config, ... }:\n{\n  home.file.".codex/prompts".source = ./config/codex/prompts;\n  # the trap\n  home.file.".codex/config.toml".source = ./config/codex/config.toml;\n}\n',
    )
    s.commit('nix')
    chmodSync(store, 0o555)
    const run = cliJson([...ARGS, '--dotfiles', s.dotfiles], s.env)
    expect(run.status).toBe(1)
    expect(run.json.checks['write-target']).toMatchObject({status: 'fail'})
    expect(run.json.checks['write-target'].summary).toMatch(/read-only Nix store \(declared at home\.nix:5\)/)
    expect(run.json.checks.nix.status).toBe('fail')
    expect(run.json.checks.nix.summary).toMatch(/^home\.nix:5 puts ~\/\.codex\/config\.toml into the read-only Nix store/)
    const entries = run.json.checks.links.details.entries as {entry: string; state: string}[]
    expect(Object.fromEntries(entries.map((e) => [e.entry, e.state]))).toEqual({'config.toml': 'in-store', prompts: 'in-store'})
  })
})
