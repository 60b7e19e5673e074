import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {codexHome} from '../../src/checks/codex-home.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import {classifyHome} from '../../src/codex/home.js'
import {links} from '../../src/checks/links.js'
import {strayState} from '../../src/checks/stray-state.js'
import type {Outcome} from '../../src/checks/types.js'
import {resolveContext} from '../../src/context/resolve.js'
import {run} from '../../src/process.js'
import {CODEX} from '../codex-bins.js'
import {AUTH, type Sandbox, type SandboxOptions, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

const context = (s: Sandbox, env = s.env, extra: {codexHome?: string; dotfiles?: string} = {}) =>
  resolveContext({env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false, ...extra})
const check = async (s: Sandbox, env = s.env, extra: {codexHome?: string; dotfiles?: string} = {}): Promise<Outcome> => codexHome.run(await context(s, env, extra))

/** `codex mcp list`: a read-only command that still loads CODEX_HOME and config.toml. */
const mcpList = (bin: string, env: NodeJS.ProcessEnv) => run(process.execPath, [bin, 'mcp', 'list'], {env, timeoutMs: 60_000})

describe('classifyHome', () => {
  it.each([
    ['dir', false, false, 'folder'],
    ['dir', false, null, 'folder'],
    ['dir', false, true, 'repo-folder'],
    ['dir', true, true, 'repo-link'],
    ['dir', true, false, 'outside-link'],
    ['dir', true, null, 'outside-link'],
    ['missing', false, false, 'missing'],
    ['missing', true, true, 'dangling'],
    ['loop', true, null, 'loop'],
    ['file', false, false, 'file'],
    ['file', true, true, 'file'],
  ] as const)('%s, linked %s, in repo %s → %s', (end, linked, inRepo, kind) => {
    expect(classifyHome(end, linked, inRepo)).toBe(kind)
  })
})

describe('the codex-home check', () => {
  it('passes on a real folder, saying where the path came from', async () => {
    const s = sandbox()
    const o = await check(s)
    expect(o).toMatchObject({status: 'pass', details: {path: s.codexHome, source: 'env', kind: 'folder', chain: []}})
    const flagged = await check(s, s.env, {codexHome: s.codexHome})
    expect(flagged.details).toMatchObject({source: 'flag'})
  })

  it('fails on the old layout: secrets in the repository, with the migration by hand that really works', async () => {
    const s = sandbox({layout: 'old', name: 'with space ü'})
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.summary).toMatch(/old layout/)
    expect(o.summary).toMatch(/secrets, sessions and logs live in the repository/)
    expect(o.summary).toContain('auth.json')
    expect(o.details).toMatchObject({kind: 'repo-link', chain: [`${s.codexHome} → ${s.codexDir}`], final: s.codexDir})
    expect(o.remediation).toMatchObject({automatic: true})
    expect(o.remediation!.text).toMatch(/^codex-doctor --fix migrates/)
    expect(JSON.stringify(o)).not.toContain(AUTH.trim().slice(10, 40))
    const commands = o.remediation!.commands!
    expect(commands[0]).toBe(`rm '${s.codexHome}'`)
    expect(commands).toContain(`ln -s '${path.join(s.codexDir, 'config.toml')}' '${path.join(s.codexHome, 'config.toml')}'`)

    // the commands, pasted into a shell, are the migration: every check then passes
    for (const command of commands) execFileSync('/bin/sh', ['-c', command], {env: s.env})
    const ctx = await context(s)
    for (const c of [codexHome, links, strayState]) expect((await c.run(ctx)).status, c.id).toBe('pass')
  })

  it('fails when the chain into the repository has several hops', async () => {
    const s = sandbox({layout: 'old'})
    const hop = s.p('hop')
    rmSync(s.codexHome)
    symlinkSync(s.codexDir, hop)
    symlinkSync(hop, s.codexHome)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.details!.chain).toEqual([`${s.codexHome} → ${hop}`, `${hop} → ${s.codexDir}`])
  })

  it('fails when CODEX_HOME is a real folder inside the repository', async () => {
    const s = sandbox()
    const o = await check(s, {...s.env, CODEX_HOME: s.codexDir}, {dotfiles: s.dotfiles})
    expect(o).toMatchObject({status: 'fail', details: {kind: 'repo-folder'}, remediation: {automatic: false}})
  })

  it('warns on a link to a folder outside the repository: Codex works, but it is not the layout', async () => {
    const s = sandbox({state: false})
    const elsewhere = s.p('elsewhere', 'codex')
    mkdirSync(elsewhere, {recursive: true})
    rmSync(s.codexHome, {recursive: true})
    symlinkSync(elsewhere, s.codexHome)
    const o = await check(s, s.env, {dotfiles: s.dotfiles})
    expect(o).toMatchObject({status: 'warn', details: {kind: 'outside-link', final: elsewhere}})
    expect(o.summary).toContain('Codex works')
    expect((await mcpList(CODEX.v089, s.env)).exitCode).toBe(0)
  })

  it('fails when $CODEX_HOME names a missing folder, as real Codex 0.89 and latest refuse to start', async () => {
    const s = sandbox({layout: 'unlinked', state: false})
    rmSync(s.codexHome, {recursive: true})
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.summary).toMatch(/does not exist: Codex exits with "failed to load configuration"/)
    expect(o.remediation).toMatchObject({commands: [`mkdir -p ${s.codexHome}`], automatic: true})
    for (const bin of [CODEX.v089, CODEX.latest]) {
      const result = await mcpList(bin, s.env)
      expect(result.exitCode, bin).not.toBe(0)
      expect(result.stderr).toMatch(/failed to (load configuration|resolve CODEX_HOME)/)
    }
  })

  it('only warns when the default ~/.codex is missing: real Codex starts without it', async () => {
    const s = sandbox({layout: 'unlinked', state: false})
    rmSync(s.codexHome, {recursive: true})
    const env = {...s.env, CODEX_HOME: undefined}
    const o = await check(s, env)
    expect(o).toMatchObject({status: 'warn', details: {source: 'default', kind: 'missing'}, remediation: {automatic: true}})
    for (const bin of [CODEX.v089, CODEX.latest]) expect((await mcpList(bin, env)).exitCode, bin).toBe(0)
  })

  it.each([
    ['a regular file', (s: Sandbox) => writeFileSync(s.codexHome, 'not a folder\n'), 'file', /is a regular file, not a folder/],
    ['a dangling link', (s: Sandbox) => symlinkSync(s.p('gone'), s.codexHome), 'dangling', /is a dangling link/],
    ['a link loop', (s: Sandbox) => (symlinkSync(s.p('loop-b'), s.codexHome), symlinkSync(s.codexHome, s.p('loop-b'))), 'loop', /is a link loop/],
    ['a link to a file', (s: Sandbox) => (writeFileSync(s.p('f'), 'x\n'), symlinkSync(s.p('f'), s.codexHome)), 'file', /is a link to a file/],
  ])('fails on %s, as real Codex does', async (_name, make, kind, summary) => {
    const s = sandbox({layout: 'unlinked', state: false})
    rmSync(s.codexHome, {recursive: true})
    make(s)
    const o = await check(s, s.env, {dotfiles: s.dotfiles})
    expect(o).toMatchObject({status: 'fail', details: {kind}})
    expect(o.summary).toMatch(summary)
    for (const bin of [CODEX.v089, CODEX.latest]) expect((await mcpList(bin, s.env)).exitCode, bin).not.toBe(0)
  })
})
