import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {classifyEntry, type EntryFacts, type EntryReport, links, repairCommands} from '../../src/checks/links.js'
import type {Outcome} from '../../src/checks/types.js'
import {resolveContext} from '../../src/context/resolve.js'
import {run} from '../../src/process.js'
import {CODEX} from '../codex-bins.js'
import {clobberConfig, CONFIG_TOML, danglingLink, homeManagerChain, loopLink, replaceWithLink, type Sandbox, type SandboxOptions, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox, env = s.env): Promise<Outcome> {
  return links.run(await resolveContext({env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false}))
}

const entries = (o: Outcome) => o.details!.entries as EntryReport[]
const entry = (o: Outcome, name: string) => entries(o).find((e) => e.entry === name)!
const states = (o: Outcome) => Object.fromEntries(entries(o).map((e) => [e.entry, e.state]))

/** Runs the remediation's commands as a user would paste them. */
function runCommands(o: Outcome, s: Sandbox) {
  for (const command of o.remediation?.commands ?? []) execFileSync('/bin/sh', ['-c', command], {env: s.env})
}

describe('classifyEntry', () => {
  const facts = (f: Partial<EntryFacts>): EntryFacts => ({repo: 'file', hops: 1, end: 'file', reachesRepo: true, ...f})
  it.each<[string, Partial<EntryFacts>, string]>([
    ['config.toml', {}, 'ok'],
    ['config.toml', {hops: 3}, 'ok'],
    ['config.toml', {hops: 0, end: 'missing', reachesRepo: false}, 'missing'],
    ['config.toml', {hops: 0, reachesRepo: false}, 'file-in-the-way'],
    ['prompts', {repo: 'dir', hops: 0, end: 'dir', reachesRepo: false}, 'file-in-the-way'],
    ['config.toml', {reachesRepo: false}, 'wrong-target'],
    ['config.toml', {end: 'missing', reachesRepo: false}, 'dangling'],
    ['config.toml', {end: 'loop', reachesRepo: false}, 'loop'],
    ['prompts', {repo: 'dir', end: 'file', reachesRepo: false}, 'kind-mismatch'],
    ['config.toml', {end: 'dir', reachesRepo: false}, 'kind-mismatch'],
    // the repository's config.toml is a folder: Codex fails even through a correct link
    ['config.toml', {repo: 'dir', end: 'dir'}, 'kind-mismatch'],
    ['config.toml', {repo: 'missing', end: 'missing', reachesRepo: false}, 'repo-entry-missing'],
    ['prompts', {repo: 'missing', hops: 0, end: 'missing', reachesRepo: false}, 'repo-entry-missing'],
  ])('%s with %j is %s', (name, f, state) => {
    expect(classifyEntry(name, facts(f))).toBe(state)
  })
})

describe('the links check', () => {
  it('passes on the new layout, with each entry ok', async () => {
    const s = sandbox()
    const o = await check(s)
    expect(o.status).toBe('pass')
    expect(states(o)).toEqual({'config.toml': 'ok', prompts: 'ok'})
    expect(entry(o, 'config.toml')).toMatchObject({
      path: path.join(s.codexHome, 'config.toml'),
      expected: path.join(s.codexDir, 'config.toml'),
      chain: [`${path.join(s.codexHome, 'config.toml')} → ${path.join(s.codexDir, 'config.toml')}`],
      final: path.join(s.codexDir, 'config.toml'),
    })
  })

  it('passes with relative (stow-style) links, shown as written', async () => {
    const s = sandbox({relative: true})
    const o = await check(s)
    expect(o.status).toBe('pass')
    expect(entry(o, 'prompts').chain).toEqual([`${path.join(s.codexHome, 'prompts')} → ../dotfiles/config/codex/prompts`])
  })

  it('passes through a three-hop home-manager chain and shows every hop', async () => {
    const s = sandbox()
    const [at, hmFiles, hmOut] = homeManagerChain(s)
    const o = await check(s)
    expect(o.status).toBe('pass')
    expect(entry(o, 'config.toml').chain).toEqual([`${at} → ${hmFiles}`, `${hmFiles} → ${hmOut}`, `${hmOut} → ${path.join(s.codexDir, 'config.toml')}`])
  })

  it('passes with spaces and non-ASCII in every path', async () => {
    const s = sandbox({name: 'with space ü'})
    expect((await check(s)).status).toBe('pass')
  })

  it('fails on a clobbered config.toml: file in the way, differs, and the commands keep the copy', async () => {
    const s = sandbox({name: 'with space ü'})
    clobberConfig(s)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(entry(o, 'config.toml')).toMatchObject({state: 'file-in-the-way', differs: true, finalKind: 'file'})
    expect(states(o).prompts).toBe('ok')
    expect(o.summary).toContain('Codex ≤ 0.87 replaced the link with a copy')
    expect(o.summary).toContain('differs')
    expect(o.summary).not.toContain('model_reasoning_effort')
    expect(o.remediation).toMatchObject({automatic: true})
    const at = path.join(s.codexHome, 'config.toml')
    expect(o.remediation!.commands).toEqual([`mv '${at}' '${at}.bak'`, `ln -sfn '${path.join(s.codexDir, 'config.toml')}' '${at}'`])
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
    expect(readFileSync(`${at}.bak`, 'utf8')).toContain('model_reasoning_effort')
  })

  it('says when the copy in the way has the same content', async () => {
    const s = sandbox()
    clobberConfig(s, CONFIG_TOML)
    const o = await check(s)
    expect(entry(o, 'config.toml')).toMatchObject({state: 'file-in-the-way', differs: false})
    expect(o.summary).toContain("same content as the repository's")
  })

  it('fails on a real prompts folder in the way, comparing the whole tree', async () => {
    const s = sandbox()
    const at = path.join(s.codexHome, 'prompts')
    unlinkSync(at)
    execFileSync('cp', ['-R', path.join(s.codexDir, 'prompts'), at])
    expect(entry(await check(s), 'prompts')).toMatchObject({state: 'file-in-the-way', differs: false, finalKind: 'dir'})
    writeFileSync(path.join(at, 'extra.md'), 'more\n')
    const o = await check(s)
    expect(entry(o, 'prompts')).toMatchObject({state: 'file-in-the-way', differs: true})
    // ln -sfn would put the link inside the folder: it is moved aside first
    expect(o.remediation!.commands![0]).toMatch(/^mv /)
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it('fails on a missing link, with the exact ln -sfn', async () => {
    const s = sandbox({name: 'with space ü'})
    unlinkSync(path.join(s.codexHome, 'prompts'))
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(states(o)).toEqual({'config.toml': 'ok', prompts: 'missing'})
    expect(o.summary).toBe('prompts is missing')
    expect(o.remediation!.commands).toEqual([`ln -sfn '${path.join(s.codexDir, 'prompts')}' '${path.join(s.codexHome, 'prompts')}'`])
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it('fails on a link to the wrong file (config.example.toml)', async () => {
    const s = sandbox()
    replaceWithLink(s, path.join(s.codexHome, 'config.toml'), path.join(s.codexDir, 'config.example.toml'))
    const o = await check(s)
    expect(entry(o, 'config.toml')).toMatchObject({state: 'wrong-target', final: path.join(s.codexDir, 'config.example.toml')})
    expect(o.summary).toContain('config.example.toml')
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it('fails on a dangling link', async () => {
    const s = sandbox()
    danglingLink(s)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(entry(o, 'config.toml')).toMatchObject({state: 'dangling', final: s.p('nowhere', 'config.toml')})
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it('fails on a link loop (a → b → a)', async () => {
    const s = sandbox()
    loopLink(s)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(entry(o, 'config.toml').state).toBe('loop')
    expect(o.summary).toContain('config.toml is a link loop')
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it('fails on a kind mismatch: prompts linked to a file', async () => {
    const s = sandbox()
    replaceWithLink(s, path.join(s.codexHome, 'prompts'), path.join(s.codexDir, 'prompts', 'hello.md'))
    const o = await check(s)
    expect(entry(o, 'prompts')).toMatchObject({state: 'kind-mismatch', finalKind: 'file', repoKind: 'dir'})
    expect(o.summary).toMatch(/prompts links to a file .*but the repository's prompts is a folder/)
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it("fails when the repository's config.toml is a folder, and cannot fix that alone", async () => {
    const s = sandbox()
    rmSync(path.join(s.codexDir, 'config.toml'))
    s.write(path.join(s.codexDir, 'config.toml', 'oops'), 'x\n')
    const o = await check(s)
    expect(entry(o, 'config.toml')).toMatchObject({state: 'kind-mismatch', repoKind: 'dir'})
    expect(o.remediation).toMatchObject({automatic: false})
  })

  it('fails when the repository has no config.toml (a fresh clone: it is gitignored), offering the example', async () => {
    const s = sandbox()
    rmSync(path.join(s.codexDir, 'config.toml'))
    const o = await check(s)
    expect(entry(o, 'config.toml')).toMatchObject({state: 'repo-entry-missing', example: path.join(s.codexDir, 'config.example.toml')})
    expect(o.summary).toContain(`the repository has no ${path.join(s.codexDir, 'config.toml')}`)
    expect(o.remediation).toMatchObject({automatic: false})
    runCommands(o, s)
    expect((await check(s)).status).toBe('pass')
  })

  it("fails on the old layout, pointing at codex-home's migration", async () => {
    const s = sandbox({layout: 'old'})
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(o.summary).toMatch(/CODEX_HOME is itself a link into the repository/)
    expect(o.summary).toContain('codex-home')
    expect(o.details).toMatchObject({home: 'repo-link', fixedBy: 'codex-home', homeChain: [`${s.codexHome} → ${s.codexDir}`]})
    expect(o.remediation).toMatchObject({automatic: true})
  })

  it('fails with every entry missing when CODEX_HOME does not exist yet; the commands create it first', async () => {
    const s = sandbox({layout: 'unlinked', state: false, name: 'with space ü'})
    rmSync(s.codexHome, {recursive: true})
    const ctx = await resolveContext({env: s.env, cwd: s.dotfiles, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
    const o = await links.run(ctx)
    expect(o.status).toBe('fail')
    expect(states(o)).toEqual({'config.toml': 'missing', prompts: 'missing'})
    expect(o.remediation!.commands![0]).toBe(`mkdir -p '${s.codexHome}'`)
    runCommands(o, s)
    expect((await links.run(ctx)).status).toBe('pass')
  })

  it('warns when nothing leads to a dotfiles repository: an unlinked CODEX_HOME is what this check is for', async () => {
    const s = sandbox({layout: 'unlinked'})
    const o = await check(s)
    expect(o.status).toBe('warn')
    expect(o.summary).toMatch(/no link in CODEX_HOME leads to a dotfiles repository/)
  })

  it('repair commands never overwrite a differing copy', () => {
    const base: EntryReport = {
      entry: 'config.toml',
      path: '/h/.codex/config.toml',
      state: 'file-in-the-way',
      expected: '/d/config.toml',
      chain: [],
      final: '/h/.codex/config.toml',
      finalKind: 'file',
      repoKind: 'file',
      differs: false,
      declaredAt: ['Codex reads it'],
      basis: 'default',
      via: 'default',
    }
    expect(repairCommands(base)).toEqual(['ln -sfn /d/config.toml /h/.codex/config.toml'])
    expect(repairCommands({...base, differs: true})[0]).toBe('mv /h/.codex/config.toml /h/.codex/config.toml.bak')
    // stow's links are relative, as stow makes them; home-manager's wait for a switch where it manages HOME
    expect(repairCommands({...base, via: 'stow', path: '/h/.codex/config.toml', expected: '/h/dotfiles/codex/.codex/config.toml'})).toEqual(['ln -sfn ../dotfiles/codex/.codex/config.toml /h/.codex/config.toml'])
    expect(repairCommands({...base, via: 'nix', basis: 'declared', homeManaged: true, differs: true})).toEqual(['mv /h/.codex/config.toml /h/.codex/config.toml.bak', 'home-manager switch'])
  })
})

describe('the links verdict matches what real Codex does to the links', () => {
  const mcpAdd = (bin: string, s: Sandbox) => run(process.execPath, [bin, 'mcp', 'add', 'codex-doctor-probe', '--', '/bin/true'], {env: s.env, timeoutMs: 60_000})

  it('Codex 0.87.0 replaces the linked config.toml with a copy: links then fails with file-in-the-way', async () => {
    const s = sandbox()
    expect((await check(s)).status).toBe('pass')
    const result = await mcpAdd(CODEX.v087, s)
    expect(result.exitCode, result.stderr).toBe(0)
    const o = await check(s)
    expect(o.status).toBe('fail')
    expect(entry(o, 'config.toml')).toMatchObject({state: 'file-in-the-way', differs: true})
    // the write went into the copy, not into the repository
    expect(readFileSync(path.join(s.codexDir, 'config.toml'), 'utf8')).toBe(CONFIG_TOML)
  })

  it('Codex 0.89.0 writes through the link: links still passes', async () => {
    const s = sandbox()
    const result = await mcpAdd(CODEX.v089, s)
    expect(result.exitCode, result.stderr).toBe(0)
    expect((await check(s)).status).toBe('pass')
    expect(readFileSync(path.join(s.codexDir, 'config.toml'), 'utf8')).toContain('codex-doctor-probe')
  })

  it('Codex 0.89.0 also writes through a three-hop chain: still passes', async () => {
    const s = sandbox()
    homeManagerChain(s)
    expect((await mcpAdd(CODEX.v089, s)).exitCode).toBe(0)
    expect((await check(s)).status).toBe('pass')
    expect(readFileSync(path.join(s.codexDir, 'config.toml'), 'utf8')).toContain('codex-doctor-probe')
  })
})
