import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ansible, fileTasks, scanAnsible} from '../../src/checks/ansible.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {addProvisioning, ANSIBLE_NEW, ANSIBLE_OLD, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox) {
  const ctx = await resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
  return ansible.run(ctx)
}

const ENTRIES = ['config.toml', 'prompts']
const scan = (text: string) => scanAnsible([{file: '/r/site.yml', text}], ENTRIES, 'config/codex')

describe('reading Ansible tasks (pure)', () => {
  it('the plan\'s "Before" is a whole-folder link whose replacement is exactly the plan\'s "After"', () => {
    const {folderLinks, entryLinks} = scan(ANSIBLE_OLD)
    expect(entryLinks).toEqual([])
    expect(folderLinks).toEqual([{file: '/r/site.yml', line: 1, endLine: 5, text: ANSIBLE_OLD.trimEnd(), replacement: ANSIBLE_NEW.trimEnd()}])
  })

  it('the plan\'s "After" links config.toml and prompts one by one (the directory task is no link)', () => {
    expect(scan(ANSIBLE_NEW).entryLinks.map((e) => [e.line, e.entry])).toEqual([
      [7, 'config.toml'],
      [13, 'prompts'],
    ])
    expect(scan(ANSIBLE_NEW).folderLinks).toEqual([])
  })

  it.each([
    ['FQCN, other key order, single quotes, trailing slash', `- ansible.builtin.file:\n    src: '{{ dotfiles_dir }}/config/codex'\n    dest: '{{ home_dir }}/.codex/'\n    state: link\n  name: link codex\n`],
    ['k=v arguments with {{ }}', `- name: codex\n  file: src={{ dotfiles }}/config/codex dest={{ ansible_env.HOME }}/.codex state=link force=yes\n`],
    ['a flow mapping', `- name: codex\n  ansible.legacy.file: {state: link, path: "~/.codex", src: "/d/config/codex"}\n`],
    ['nested in a block of a play, with comments', `- hosts: all\n  tasks:\n    - block:\n        # the old way\n        - name: codex folder # trailing comment\n          file:\n            state: link   # a link\n            dest: "{{ home_dir }}/.codex"\n            src: "{{ dotfiles_dir }}/config/codex"\n          become: false\n`],
  ])('%s: found', (_, text) => {
    expect(scan(text).folderLinks).toHaveLength(1)
  })

  it('keeps the original indentation, module name and quotes in the replacement', () => {
    const text = `    - name: codex folder\n      ansible.builtin.file:\n        state: link\n        dest: '{{ home }}/.codex'\n        src: '{{ repo }}/config/codex'\n`
    const [folder] = scan(text).folderLinks
    expect(folder!.replacement.split('\n').slice(0, 5)).toEqual([
      '    - name: Ensure ~/.codex directory exists',
      '      ansible.builtin.file:',
      '        state: directory',
      "        path: '{{ home }}/.codex'",
      "        mode: '0755'",
    ])
    expect(folder!.replacement).toContain("        dest: '{{ home }}/.codex/prompts'\n        src: '{{ repo }}/config/codex/prompts'")
  })

  it('not links: a commented-out task, state: directory, another folder; a loop over entries counts per entry', () => {
    expect(scan(`# - file: state=link dest=~/.codex src=/d\n- file:\n    state: directory\n    path: ~/.codex\n- file: state=link dest=~/.codexrc src=/d/rc\n`)).toEqual({folderLinks: [], entryLinks: []})
    const looped = scan(`- name: codex entries\n  file:\n    state: link\n    dest: "{{ home_dir }}/.codex/{{ item }}"\n    src: "{{ dotfiles_dir }}/config/codex/{{ item }}"\n  loop:\n    - config.toml\n    - prompts\n`)
    expect(looped.entryLinks.map((e) => e.entry)).toEqual(['config.toml', 'prompts'])
    expect(fileTasks(`- file: {state: link, dest: x}\n`)[0]!.args.state!.value).toBe('link')
  })
})

describe('ansible in a sandbox', () => {
  it('the old task fails with the plan\'s step-3 block', async () => {
    const s = sandbox()
    addProvisioning(s, 'old')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('ansible/all_config.yml:1 links the whole ~/.codex folder; link its entries one by one')
    expect(outcome.details).toMatchObject({replacement: ANSIBLE_NEW.trimEnd(), folderLinks: [{file: path.join(s.dotfiles, 'ansible', 'all_config.yml'), line: 1, endLine: 5}]})
    expect(outcome.remediation?.text).toContain('In ansible/all_config.yml, replace lines 1-5 with:')
  })

  it('the new tasks pass', async () => {
    const s = sandbox()
    addProvisioning(s, 'new')
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.summary).toBe('ansible/all_config.yml links ~/.codex entry by entry: config.toml, prompts')
  })

  it('no Ansible file: skip', async () => {
    const outcome = await check(sandbox())
    expect(outcome.status).toBe('skip')
    expect(outcome.summary).toBe('no Ansible file links .codex')
  })
})
