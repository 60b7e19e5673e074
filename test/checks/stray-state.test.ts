import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {strayState} from '../../src/checks/stray-state.js'
import {findStatePaths, type StrayItem} from '../../src/repo/stray-state.js'
import type {Outcome} from '../../src/checks/types.js'
import {RUNTIME_STATE} from '../../src/codex-facts.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {AUTH, type Sandbox, type SandboxOptions, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

const check = async (s: Sandbox): Promise<Outcome> =>
  strayState.run(await resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false}))
const items = (o: Outcome) => o.details!.items as StrayItem[]
const names = (o: Outcome) => items(o).map((item) => item.name)

describe('findStatePaths', () => {
  it('matches globs, nested patterns, and enters only folders that lead to one', async () => {
    const s = sandbox({state: false})
    for (const file of ['state_5.sqlite', 'state_5.sqlite-wal', 'logs.sqlite-shm', 'x.lock', 'skills/.system/a/SKILL.md', 'skills/mine/SKILL.md', 'plugins/cache/p.bin', 'plugins/mine.toml', 'notes/sessions/x']) {
      s.write(path.join(s.codexDir, file), 'x\n')
    }
    await expect(findStatePaths(s.codexDir, RUNTIME_STATE)).resolves.toEqual(['logs.sqlite-shm', 'plugins/cache', 'skills/.system', 'state_5.sqlite', 'state_5.sqlite-wal', 'x.lock'])
  })
})

describe('the stray-state check', () => {
  it('fails on the old layout, secrets first, and says the state is live', async () => {
    const s = sandbox({layout: 'old'})
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(names(o)).toEqual(['auth.json', 'history.jsonl', 'sessions', 'log', 'version.json'])
    expect(items(o)[0]).toMatchObject({name: 'auth.json', kind: 'file', secret: true, bytes: AUTH.length, path: path.join(s.codexDir, 'auth.json')})
    expect(items(o)[2]).toMatchObject({name: 'sessions', kind: 'dir', secret: false, files: 1})
    expect(o.details).toMatchObject({live: true})
    expect(o.summary).toMatch(/^LIVE: Codex writes its state into the repository \(through the CODEX_HOME link\)/)
    expect(o.remediation).toMatchObject({automatic: true})
    expect(JSON.stringify(o)).not.toContain('sk-test-SECRET')
  })

  it('passes on the new layout', async () => {
    const s = sandbox()
    expect(await check(s)).toMatchObject({status: 'pass', details: {items: []}})
  })

  it('warns on leftover sessions/ and version.json, which CODEX_HOME already has', async () => {
    const s = sandbox()
    s.write(path.join(s.codexDir, 'sessions', '2025', '12', '31', 'rollout-0.jsonl'), '{"id":0}\n')
    s.write(path.join(s.codexDir, 'version.json'), '{}\n')
    const o = await check(s)
    expect(o.status).toBe('warn')
    expect(o.summary).toMatch(/2 items of Codex runtime state in .*, which Codex no longer uses from the repository: sessions\/ \(1 file\), version\.json/)
    expect(items(o).map((item) => [item.name, item.inCodexHome])).toEqual([['sessions', true], ['version.json', true]])
    expect(o.remediation!.text).toMatch(/CODEX_HOME's stays and the repository's goes to the backup; folders merge/)
    expect(o.remediation!.commands).toEqual([])
  })

  it('gives mv commands for what CODEX_HOME lacks, which clear the repository when run', async () => {
    const s = sandbox({state: false, name: 'with space ü'})
    s.write(path.join(s.codexDir, 'sessions', 'r.jsonl'), '{}\n')
    s.write(path.join(s.codexDir, 'skills', '.system', 'x', 'SKILL.md'), 'x\n')
    const o = await check(s)
    expect(o.status).toBe('warn')
    expect(o.remediation!.commands).toEqual([
      `mv '${path.join(s.codexDir, 'sessions')}' '${s.codexHome}/'`,
      `mkdir -p '${path.join(s.codexHome, 'skills')}' && mv '${path.join(s.codexDir, 'skills', '.system')}' '${path.join(s.codexHome, 'skills')}/'`,
    ])
    for (const command of o.remediation!.commands!) execFileSync('/bin/sh', ['-c', command])
    expect(await check(s)).toMatchObject({status: 'pass'})
    expect(existsSync(path.join(s.codexHome, 'skills', '.system', 'x', 'SKILL.md'))).toBe(true)
  })

  it('fails on a secret left in the repository of the new layout', async () => {
    const s = sandbox()
    s.write(path.join(s.codexDir, '.credentials.json'), '{"t":"SECRET-2"}\n', 0o600)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(items(o)[0]).toMatchObject({name: '.credentials.json', secret: true, inCodexHome: false})
    expect(o.summary).not.toMatch(/LIVE/)
  })

  it('matches *.sqlite with its -wal and -shm', async () => {
    const s = sandbox()
    for (const name of ['state_5.sqlite', 'state_5.sqlite-wal', 'state_5.sqlite-shm']) s.write(path.join(s.codexDir, name), 'db')
    const o = await check(s)
    expect(o.status).toBe('warn')
    expect(names(o)).toEqual(['state_5.sqlite', 'state_5.sqlite-wal', 'state_5.sqlite-shm'])
  })

  it("adds the repository's extra_state from codex-doctor.toml", async () => {
    const s = sandbox()
    writeFileSync(path.join(s.dotfiles, 'codex-doctor.toml'), 'extra_state = ["notes.db", "cache2/*.bin"]\n')
    s.write(path.join(s.codexDir, 'notes.db'), 'n')
    s.write(path.join(s.codexDir, 'cache2', 'a.bin'), 'b')
    s.write(path.join(s.codexDir, 'cache2', 'keep.txt'), 'k')
    const o = await check(s)
    expect(o.status).toBe('warn')
    expect(names(o)).toEqual(['notes.db', 'cache2/a.bin'])
  })

  it('lists a linked state folder as a link and never follows it', async () => {
    const s = sandbox()
    const big = s.p('elsewhere', 'packages')
    mkdirSync(big, {recursive: true})
    writeFileSync(path.join(big, 'codex'), 'binary')
    symlinkSync(big, path.join(s.codexDir, 'packages'))
    const o = await check(s)
    expect(items(o)).toEqual([expect.objectContaining({name: 'packages', kind: 'link', target: big})])
    expect(items(o)[0]).not.toHaveProperty('files')
  })

  it('skips without a dotfiles repository', async () => {
    const s = sandbox({layout: 'unlinked'})
    expect((await check(s)).status).toBe('skip')
  })
})
