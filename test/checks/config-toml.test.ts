import {mkdirSync, rmSync, symlinkSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {configToml, parseToml} from '../../src/checks/config-toml.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import type {Outcome} from '../../src/checks/types.js'
import {resolveContext} from '../../src/context/resolve.js'
import {run} from '../../src/process.js'
import {CODEX} from '../codex-bins.js'
import {danglingLink, homeManagerChain, loopLink, type Sandbox, type SandboxOptions, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

const check = async (s: Sandbox): Promise<Outcome> =>
  configToml.run(await resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, dotfiles: s.dotfiles, checkIds: CHECK_IDS, probe: false}))

/** `codex mcp list` loads config.toml and nothing else of note: its exit code is Codex's own verdict on the file. */
const codexLoads = async (bin: string, s: Sandbox) => run(process.execPath, [bin, 'mcp', 'list'], {env: s.env, timeoutMs: 60_000})

describe('parseToml', () => {
  it.each([
    ['model = "gpt-5\n', 1, 15],
    ['model = "gpt-5"\n[a\n', 2, 3],
    ['a = 1\n\nb = = 2\n', 3, 5],
    ['[t]\nx = 1\n[t]\n', 3, 2],
  ])('%j fails at %i:%i', (text, line, column) => {
    expect(parseToml(text)).toMatchObject({line, column})
  })

  it('counts top-level keys and keeps no excerpt of the file', () => {
    expect(parseToml('a = 1\n[b]\nc = 2\n')).toEqual({keys: 2})
    const problem = parseToml('token = "sk-SECRET\n')
    expect(JSON.stringify(problem)).not.toContain('sk-SECRET')
  })
})

describe('the config-toml check', () => {
  it('passes on a good config.toml, naming the final file', async () => {
    const s = sandbox()
    const o = await check(s)
    expect(o).toMatchObject({status: 'pass', details: {keys: 2, final: path.join(s.codexDir, 'config.toml')}})
  })

  it('follows a three-hop chain to the file it reads', async () => {
    const s = sandbox({name: 'with space ü'})
    homeManagerChain(s)
    const o = await check(s)
    expect(o.status).toBe('pass')
    expect(o.details).toMatchObject({final: path.join(s.codexDir, 'config.toml')})
    expect(o.details!.chain).toHaveLength(3)
  })

  it.each([
    ['an unterminated string', 'model = "gpt-5\n', 1, 15],
    ['an unclosed table', 'model = "gpt-5"\n[a\n', 2, 3],
  ])('fails on %s with the line and column, and real Codex 0.89 and latest reject the same place', async (_name, text, line, column) => {
    const s = sandbox()
    const final = path.join(s.codexDir, 'config.toml')
    s.write(final, text)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.summary).toMatch(new RegExp(`^${final.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:${column}: `))
    expect(o.details).toMatchObject({line, column})
    expect(o.remediation!.commands).toEqual([`\${EDITOR:-vi} +${line} ${final}`])

    const v089 = await codexLoads(CODEX.v089, s)
    expect(v089.exitCode).not.toBe(0)
    expect(v089.stderr).toContain(`line ${line}, column ${column}`)
    const latest = await codexLoads(CODEX.latest, s)
    expect(latest.exitCode).not.toBe(0)
    expect(latest.stderr).toContain(`config.toml:${line}:${column}:`)
  })

  it('skips when there is no config.toml or the link dangles: Codex starts with its defaults', async () => {
    const s = sandbox()
    unlinkSync(path.join(s.codexHome, 'config.toml'))
    expect(await check(s)).toMatchObject({status: 'skip', summary: 'no config.toml; see links'})
    danglingLink(s)
    const o = await check(s)
    expect(o.status).toBe('skip')
    expect(o.summary).toMatch(/does not exist\); see links$/)
    expect((await codexLoads(CODEX.v089, s)).exitCode).toBe(0)
  })

  it('fails on a link loop, which stops real Codex ("Symbolic link loop")', async () => {
    const s = sandbox()
    loopLink(s)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.summary).toContain('Symbolic link loop')
    const result = await codexLoads(CODEX.v089, s)
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('Symbolic link loop')
  })

  it('fails on a link to a folder, which stops real Codex', async () => {
    const s = sandbox()
    const folder = s.p('a-folder')
    mkdirSync(folder)
    rmSync(path.join(s.codexHome, 'config.toml'))
    symlinkSync(folder, path.join(s.codexHome, 'config.toml'))
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.summary).toContain('a folder')
    expect((await codexLoads(CODEX.v089, s)).exitCode).not.toBe(0)
  })
})
