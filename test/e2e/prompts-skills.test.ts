/**
 * Codex ≥ 0.117 no longer loads custom prompts. --fix turns each managed prompt into a skill in
 * the repository (the prompt stays), links it into CODEX_HOME/skills/<name>, and declares the new
 * link where the user declares links; then the real Codex lists the skill, prompts passes, and
 * undo takes it all back.
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CODEX, LATEST_VERSION} from '../codex-bins.js'
import {codexSkillsList} from '../codex/app-server.js'
import {ANSIBLE_NEW, type Sandbox, sandboxesPerTest, snapshot} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

const REVIEW = '---\ndescription: "Review: the staged diff"\n---\nReview `git diff --staged` and list the risks.\n'

/** The user's world, without the repository's .git (git's index holds timestamps). */
const world = (s: Sandbox) => Object.fromEntries(Object.entries(snapshot(s.home)).filter(([p]) => !p.includes('.git/') && !p.endsWith('.git')))

describe.each([
  ['0.117.0', CODEX.v117],
  [LATEST_VERSION, CODEX.latest],
])('prompts → skills on Codex %s', (_version, bin) => {
  const ARGS = ['--codex-bin', bin, '--no-probe']

  it('what exists declares the prompts: a skill per prompt, linked one by one; Codex lists them; prompts passes; undo restores everything', async () => {
    const s = sandbox()
    s.write(path.join(s.codexDir, 'prompts', 'review.md'), REVIEW)
    s.commit('prompts')
    const before = world(s)
    const initial = cliJson(ARGS, s.env)
    expect(initial.json.checks.prompts).toMatchObject({status: 'warn', remediation: {automatic: true}})
    expect(initial.json.checks.prompts.summary).toMatch(/hello\.md, review\.md have no skill yet/)

    const dry = cliJson(['--fix', '--dry-run', ...ARGS], s.env)
    expect((dry.json.fix.actions as {op: string; path: string}[]).filter((a) => a.op === 'edit').map((a) => path.relative(s.dotfiles, a.path))).toEqual([
      'config/codex/skills/hello/SKILL.md',
      'config/codex/skills/review/SKILL.md',
    ])

    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.stderr).toBe('')
    expect(fix.status, fix.stdout).toBe(0)
    for (const name of ['hello', 'review']) {
      expect(readlinkSync(path.join(s.codexHome, 'skills', name))).toBe(path.join(s.codexDir, 'skills', name))
      expect(readFileSync(path.join(s.codexDir, 'skills', name, 'SKILL.md'), 'utf8')).toContain(name === 'hello' ? 'Say hello to $1.' : 'Review `git diff --staged`')
    }
    // the prompts stay
    expect(readdirSync(path.join(s.codexDir, 'prompts')).sort()).toEqual(['hello.md', 'review.md'])

    const after = cliJson(ARGS, s.env)
    expect(after.json.checks.prompts.status, after.json.checks.prompts.summary).toBe('pass')
    expect(after.json.checks.skills.status).toBe('pass')
    expect(after.json.checks.links.status).toBe('pass')

    // the real Codex sees both skills through links like ours, with the prompts' descriptions
    // (in a throwaway CODEX_HOME: Codex writes its own skills/.system wherever it runs)
    const probeHome = path.join(s.root, 'probe-home')
    mkdirSync(path.join(probeHome, 'skills'), {recursive: true})
    for (const name of readdirSync(path.join(s.codexHome, 'skills'))) symlinkSync(readlinkSync(path.join(s.codexHome, 'skills', name)), path.join(probeHome, 'skills', name))
    const listed = await codexSkillsList(bin, probeHome, s.env)
    expect(listed.skills.filter((k) => k.scope === 'user').map((k) => [k.name, k.description]).sort()).toEqual([
      ['hello', 'Say hello (arguments: NAME)'],
      ['review', 'Review: the staged diff'],
    ])

    const undo = cli(['undo'], s.env)
    expect(undo.status, undo.stdout + undo.stderr).toBe(0)
    expect(world(s)).toEqual(before)
  })

  it('codex-doctor.toml declares them: the new links are added to its list', () => {
    const s = sandbox()
    s.write(path.join(s.dotfiles, 'codex-doctor.toml'), '# what I link\nlinks = ["config.toml", "prompts"]\n')
    s.commit('config')
    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.status, fix.stdout + fix.stderr).toBe(0)
    expect(readFileSync(path.join(s.dotfiles, 'codex-doctor.toml'), 'utf8')).toBe('# what I link\nlinks = ["config.toml", "prompts", "skills/hello"]\n')
    const after = cliJson(ARGS, s.env)
    expect(after.json.checks.prompts.status).toBe('pass')
    expect(after.json.checks.links.status).toBe('pass')
    const declared = (after.json.checks.links.details.entries as {entry: string; declaredAt: string[]}[]).find((e) => e.entry === 'skills/hello')
    expect(declared?.declaredAt).toEqual(['codex-doctor.toml:2'])
  })
})

describe('prompts → skills where Nix declares the prompts', () => {
  it('the Nix file gets a declaration per skill in its own style, and nix-instantiate still parses it', () => {
    const s = sandbox()
    const nix = path.join(s.dotfiles, 'home.nix')
    s.write(
      nix,
      '{ config, dotfiles, ... }:\nlet\n  oos = config.lib.file.mkOutOfStoreSymlink;\nin\n{\n  home.file = {\n    ".codex/config.toml".source = oos "${dotfiles}/config/codex/config.toml";\n    ".codex/prompts".source = oos "${dotfiles}/config/codex/prompts";\n  };\n}\n',
    )
    s.commit('nix')
    const ARGS = ['--codex-bin', CODEX.latest, '--no-probe']
    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.status, fix.stdout + fix.stderr).toBe(0)
    const text = readFileSync(nix, 'utf8')
    expect(text).toContain('".codex/skills/hello".source = oos "${dotfiles}/config/codex/skills/hello";')
    if (has('nix-instantiate') || process.env.CI) expect(spawnSync('nix-instantiate', ['--parse', nix], {encoding: 'utf8'}).status).toBe(0)
    const after = cliJson(ARGS, s.env)
    expect(after.json.checks.prompts.status).toBe('pass')
    expect(after.json.checks.nix.status).toBe('pass')
    expect(after.json.checks.links.status).toBe('pass')
  })
})

describe('prompts → skills where Ansible declares the prompts', () => {
  it('the task file gets a link task per skill after the prompts task, and ansible-playbook --syntax-check still accepts it', () => {
    const s = sandbox()
    const tasks = path.join(s.dotfiles, 'ansible', 'all_config.yml')
    s.write(tasks, ANSIBLE_NEW)
    s.commit('ansible')
    const ARGS = ['--codex-bin', CODEX.latest, '--no-probe']
    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.status, fix.stdout + fix.stderr).toBe(0)
    expect(readFileSync(tasks, 'utf8')).toBe(`${ANSIBLE_NEW.trimEnd()}\n\n- name: codex skill hello is symlinked\n  file:\n    state: link\n    dest: "{{ home_dir }}/.codex/skills/hello"\n    src: "{{ dotfiles_dir }}/config/codex/skills/hello"\n`)
    const after = cliJson(ARGS, s.env)
    expect(after.json.checks.prompts.status).toBe('pass')
    expect(after.json.checks.ansible.status).toBe('pass')
    expect(after.json.checks.links.status).toBe('pass')
    if (has('ansible-playbook') || process.env.CI) {
      const wrapper = s.write(path.join(s.dotfiles, 'ansible', 'site.yml'), '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - import_tasks: all_config.yml\n')
      const check = spawnSync('ansible-playbook', ['--syntax-check', '-i', 'localhost,', wrapper], {env: {...s.env, ANSIBLE_HOME: path.join(s.root, 'ansible-home'), ANSIBLE_LOCAL_TEMP: path.join(s.root, 'ansible-tmp')}, encoding: 'utf8'})
      expect(check.status, check.stderr).toBe(0)
    }
  })
})
