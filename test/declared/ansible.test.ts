/** What Ansible files declare about ~/.codex, read from real repositories, and the rewrites, checked by the real ansible-playbook. */
import {spawnSync} from 'node:child_process'
import {realpathSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {addAnsibleLinks, ansibleSyntaxCheck, freeFormArgs, readAnsibleDeclarations, rewriteAnsibleFolderLink} from '../../src/declared/ansible.js'
import {ansibleEnvironment} from '../../src/declared/read.js'
import {readRepoFacts} from '../../src/repo/facts.js'
import {ANSIBLE_NEW, ANSIBLE_OLD, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

async function envOf(s: Sandbox) {
  const repo = realpathSync(s.dotfiles)
  return ansibleEnvironment(await readRepoFacts(repo, s.env), repo, s.home, s.codexHome)
}

/** The declarations as [entry under CODEX_HOME ('' for the folder), source relative to the repository, line]. */
async function read(s: Sandbox) {
  const env = await envOf(s)
  const {declarations, problems} = await readAnsibleDeclarations(env)
  return {
    found: declarations.map((d) => [path.relative(s.codexHome, d.target), d.source === null ? null : path.relative(env.repo, d.source), d.origin.line]),
    declarations,
    problems,
    env,
  }
}

const write = (s: Sandbox, rel: string, text: string) => s.write(path.join(s.dotfiles, ...rel.split('/')), text)

describe('reading Ansible files', () => {
  it('the seed\'s "Before" is the whole-folder link; its "After" links config.toml and prompts (the directory task is no link)', async () => {
    const s = sandbox()
    write(s, 'ansible/all_config.yml', ANSIBLE_OLD)
    expect((await read(s)).found).toEqual([['', 'config/codex', 1]])
    write(s, 'ansible/all_config.yml', ANSIBLE_NEW)
    expect((await read(s)).found).toEqual([
      ['config.toml', 'config/codex/config.toml', 7],
      ['prompts', 'config/codex/prompts', 13],
    ])
  })

  it.each([
    ['FQCN, other key order, single quotes, trailing slash', `- ansible.builtin.file:\n    src: '{{ dotfiles_dir }}/config/codex'\n    dest: '{{ home_dir }}/.codex/'\n    state: link\n  name: link codex\n`],
    ['k=v arguments with {{ }}', `- name: codex\n  file: src={{ dotfiles }}/config/codex dest={{ ansible_env.HOME }}/.codex state=link force=yes\n`],
    ['a flow mapping', `- name: codex\n  ansible.legacy.file: {state: link, path: "~/.codex", src: "{{ lookup('env', 'HOME') }}/dotfiles/config/codex"}\n`],
    ['nested in a block of a play, with comments', `- hosts: all\n  tasks:\n    - block:\n        # the old way\n        - name: codex folder # trailing comment\n          file:\n            state: link   # a link\n            dest: "{{ home_dir }}/.codex"\n            src: "{{ dotfiles_dir }}/config/codex"\n          become: false\n`],
    ['arguments under args:', `- name: codex\n  file:\n  args:\n    state: link\n    dest: "{{ ansible_user_dir }}/.codex"\n    src: "{{ playbook_dir }}/../config/codex"\n`],
  ])('%s: the whole-folder link is found', async (_, text) => {
    const s = sandbox()
    write(s, 'ansible/site.yml', text)
    expect((await read(s)).found).toEqual([['', 'config/codex', expect.any(Number)]])
  })

  it('not links: a commented-out task, state: directory, another folder', async () => {
    const s = sandbox()
    write(s, 'ansible/site.yml', `# - file: state=link dest=~/.codex src=/d\n- file:\n    state: directory\n    path: ~/.codex\n- file: state=link dest=~/.codexrc src={{ dotfiles }}/rc\n`)
    expect((await read(s)).found).toEqual([])
  })

  it('variables from the play, vars_files and group_vars/all; a loop over literal items and over a variable', async () => {
    const s = sandbox()
    write(s, 'ansible/group_vars/all.yml', 'home_dir: "{{ lookup(\'env\', \'HOME\') }}"\n')
    write(s, 'ansible/vars/codex.yml', 'codex_entries:\n  - config.toml\n  - prompts\n')
    write(
      s,
      'ansible/site.yml',
      `- hosts: localhost\n  vars:\n    dotfiles_dir: "{{ home_dir }}/${path.basename(s.dotfiles)}"\n    codex_src: "{{ dotfiles_dir }}/config/codex"\n  vars_files:\n    - vars/codex.yml\n  tasks:\n    - name: each entry\n      file:\n        state: link\n        dest: "{{ home_dir }}/.codex/{{ item }}"\n        src: "{{ codex_src }}/{{ item }}"\n      loop: "{{ codex_entries }}"\n    - name: agents\n      file: state=link dest={{ home_dir }}/.codex/{{ entry }} src={{ codex_src }}/{{ entry }}\n      with_items: [AGENTS.md]\n      loop_control:\n        loop_var: entry\n`,
    )
    const {found, problems} = await read(s)
    expect(problems).toEqual([])
    expect(found).toEqual([
      ['config.toml', 'config/codex/config.toml', 8],
      ['prompts', 'config/codex/prompts', 8],
      ['AGENTS.md', 'config/codex/AGENTS.md', 14],
    ])
  })

  it('a role: its defaults and vars, reached through the play that lists it, and a task file it imports', async () => {
    const s = sandbox()
    write(s, 'ansible/roles/codex/defaults/main.yml', 'codex_home: "~/.codex"\ncodex_repo: "{{ lookup(\'env\', \'HOME\') }}/dotfiles/config/codex"\n')
    write(s, 'ansible/roles/codex/tasks/main.yml', '- import_tasks: links.yml\n')
    write(s, 'ansible/roles/codex/tasks/links.yml', '- name: config\n  ansible.builtin.file:\n    state: link\n    src: "{{ codex_repo }}/config.toml"\n    dest: "{{ codex_home | expanduser }}/config.toml"\n')
    write(s, 'ansible/site.yml', '- hosts: localhost\n  roles:\n    - codex\n')
    expect((await read(s)).found).toEqual([['config.toml', 'config/codex/config.toml', 1]])
  })

  it('a variable that cannot be resolved is named, and the declaration kept without a source; a file that does not parse is named', async () => {
    const s = sandbox()
    write(s, 'ansible/site.yml', '- name: codex\n  file:\n    state: link\n    dest: "~/.codex/hooks.json"\n    src: "{{ somewhere }}/not/in/the/repo/hooks.json"\n')
    write(s, 'ansible/broken.yml', '- name: broken\n  file: {state: link, dest: [unclosed\n')
    write(s, '.github/workflows/ci.yml', 'on: [push]\njobs: {build: {runs-on: x\n')
    const {found, problems, declarations} = await read(s)
    expect(found).toEqual([['hooks.json', null, 1]])
    expect(declarations[0]!.unresolved).toBe('`somewhere` is not known')
    expect(problems.map((p) => [path.relative(s.dotfiles, p.file), p.line])).toEqual([
      ['ansible/broken.yml', expect.any(Number)],
      ['ansible/site.yml', 1],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))))
  })

  it('free-form arguments keep quotes and {{ }} together', () => {
    expect(freeFormArgs('state=link dest="{{ a }}/x y" src={{ b | default("c d") }}/z force=yes')).toEqual({state: 'link', dest: '{{ a }}/x y', src: '{{ b | default("c d") }}/z', force: 'yes'})
  })
})

describe('rewriting the whole-folder task (seed step 3)', () => {
  const ENTRIES = (s: Sandbox, names = ['config.toml', 'prompts']) => names.map((n) => ({target: path.join(s.codexHome, n), source: path.join(realpathSync(s.codexDir), n)}))

  async function rewrite(s: Sandbox, rel: string, text: string, names?: string[]) {
    const file = write(s, rel, text)
    const {declarations, env} = await read(s)
    const folder = declarations.find((d) => d.target === s.codexHome)!
    return rewriteAnsibleFolderLink(realpathSync(file), text, folder, ENTRIES(s, names), env)
  }

  it('the seed\'s "Before" becomes exactly its "After"', async () => {
    const s = sandbox()
    expect(await rewrite(s, 'ansible/all_config.yml', ANSIBLE_OLD)).toEqual({text: ANSIBLE_NEW})
  })

  it('keeps indentation, module name, quotes, other keys and everything around it, byte for byte (CRLF too)', async () => {
    const s = sandbox()
    const before = `# my play\r\n- hosts: localhost\r\n  tasks:\r\n    - name: git\r\n      file: {state: link, dest: ~/.gitconfig, src: /x}\r\n    - name: codex folder\r\n      ansible.builtin.file:\r\n        state: link\r\n        dest: '{{ home }}/.codex'\r\n        src: '{{ repo }}/config/codex'\r\n      become: false\r\n\r\n    # after\r\n    - debug: msg=done\r\n`
    const result = await rewrite(s, 'ansible/site.yml', before.replace('{{ home }}', '~').replace('{{ repo }}', `${realpathSync(s.dotfiles)}`))
    if ('error' in result) throw new Error(result.error)
    const lines = result.text.split('\r\n')
    expect(lines.slice(0, 5)).toEqual(['# my play', '- hosts: localhost', '  tasks:', '    - name: git', '      file: {state: link, dest: ~/.gitconfig, src: /x}'])
    expect(lines.slice(5, 11)).toEqual(['    - name: Ensure ~/.codex directory exists', '      ansible.builtin.file:', '        state: directory', "        path: '~/.codex'", "        mode: '0755'", '      become: false'])
    expect(result.text).toContain(`        dest: '~/.codex/prompts'\r\n        src: '${realpathSync(s.dotfiles)}/config/codex/prompts'\r\n      become: false`)
    expect(result.text.endsWith('\r\n\r\n    # after\r\n    - debug: msg=done\r\n')).toBe(true)
  })

  it('k=v tasks stay k=v', async () => {
    const s = sandbox()
    const result = await rewrite(s, 'ansible/tasks.yml', '- name: codex\n  file: state=link dest={{ home_dir }}/.codex src={{ dotfiles_dir }}/config/codex\n')
    expect(result).toEqual({
      text:
        '- name: Ensure ~/.codex directory exists\n  file: state=directory path={{ home_dir }}/.codex mode=0755\n\n- name: codex config.toml is symlinked\n  file: state=link dest={{ home_dir }}/.codex/config.toml src={{ dotfiles_dir }}/config/codex/config.toml\n\n- name: codex prompts are symlinked\n  file: state=link dest={{ home_dir }}/.codex/prompts src={{ dotfiles_dir }}/config/codex/prompts\n',
    })
  })

  it.runIf(has('ansible-playbook') || process.env.CI)('the real ansible-playbook --syntax-check accepts every rewrite, and refuses a broken file', async () => {
    const s = sandbox()
    write(s, 'ansible/site.yml', '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - import_tasks: all_config.yml\n')
    const result = await rewrite(s, 'ansible/all_config.yml', ANSIBLE_OLD)
    if ('error' in result) throw new Error(result.error)
    const file = path.join(realpathSync(s.dotfiles), 'ansible', 'all_config.yml')
    expect(await ansibleSyntaxCheck(file, result.text, s.env)).toEqual({ok: true})
    expect(await ansibleSyntaxCheck(file, '- name: x\n  file: {state: link\n', s.env)).toMatchObject({ok: false, message: expect.stringMatching(/^ERROR!/)})
  })
})

describe('adding link tasks next to one (prompts → skills)', () => {
  it('a task per new skill, in the style of the prompts task, after it', async () => {
    const s = sandbox()
    const file = realpathSync(write(s, 'ansible/all_config.yml', ANSIBLE_NEW))
    const {declarations, env} = await read(s)
    const like = declarations.find((d) => d.target.endsWith('prompts'))!
    const skill = {target: path.join(s.codexHome, 'skills', 'hello'), source: path.join(realpathSync(s.codexDir), 'skills', 'hello')}
    const result = await addAnsibleLinks(file, ANSIBLE_NEW, like, [skill], env)
    expect(result).toEqual({
      text: `${ANSIBLE_NEW.trimEnd()}\n\n- name: codex skill hello is symlinked\n  file:\n    state: link\n    dest: "{{ home_dir }}/.codex/skills/hello"\n    src: "{{ dotfiles_dir }}/config/codex/skills/hello"\n`,
    })
  })
})
