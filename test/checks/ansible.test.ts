/** The ansible check on real repositories: its verdicts, and the rewrite it plans. */
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ansible} from '../../src/checks/ansible.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {ANSIBLE_NEW, ANSIBLE_OLD, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()
const context = (s: Sandbox) => resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
const check = async (s: Sandbox) => ansible.run(await context(s))
const tasks = (s: Sandbox) => path.join(s.dotfiles, 'ansible', 'all_config.yml')

describe('the ansible check', () => {
  it('the seed\'s old task fails naming file and line; --fix plans the seed\'s "After", with its diff', async () => {
    const s = sandbox()
    s.write(tasks(s), ANSIBLE_OLD)
    s.commit('ansible')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('ansible/all_config.yml:1 links the whole ~/.codex folder; link its entries one by one')
    expect(outcome.remediation).toMatchObject({automatic: true})
    const actions = await ansible.plan!(await context(s), {} as never)
    expect(actions).toEqual([expect.objectContaining({check: 'ansible', op: 'edit', path: tasks(s), content: ANSIBLE_NEW, diff: expect.stringContaining('+- name: codex prompts are symlinked')})])
  })

  it('one task per entry passes', async () => {
    const s = sandbox()
    s.write(tasks(s), ANSIBLE_NEW)
    s.commit('ansible')
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.summary).toBe('ansible/all_config.yml links ~/.codex entry by entry: config.toml, prompts')
  })

  it('a folder task --fix cannot rewrite (a loop) says why, and nothing is planned', async () => {
    const s = sandbox()
    s.write(tasks(s), '- name: codex\n  file:\n    state: link\n    dest: "{{ item }}"\n    src: "{{ dotfiles_dir }}/config/codex"\n  loop: ["~/.codex"]\n')
    s.commit('ansible')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.remediation).toMatchObject({automatic: false, text: expect.stringMatching(/cannot rewrite ansible\/all_config\.yml/)})
    expect(await ansible.plan!(await context(s), {} as never)).toEqual([])
  })

  it('no Ansible file declares anything: skip', async () => {
    const outcome = await check(sandbox())
    expect(outcome).toMatchObject({status: 'skip', summary: 'no Ansible file declares a link in ~/.codex'})
  })
})
