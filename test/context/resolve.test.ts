import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {resolveContext} from '../../src/context/resolve.js'
import {UsageError} from '../../src/errors.js'
import {CODEX} from '../codex-bins.js'
import {homeManagerChain, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

const resolve = (s: Sandbox, extra: Partial<Parameters<typeof resolveContext>[0]> = {}) =>
  resolveContext({env: s.env, cwd: s.root, checkIds: CHECK_IDS, ...extra})

describe('resolving the context', () => {
  it('finds the dotfiles through the config.toml link (new layout)', async () => {
    const s = sandbox()
    const ctx = await resolve(s)
    expect(ctx).toMatchObject({codexHome: s.codexHome, codexHomeSource: 'env', dotfiles: s.dotfiles, dotfilesSource: 'link-chain', minVersion: '0.88.0'})
    expect((await ctx.declared()).codexDir).toBe(s.codexDir)
    expect(ctx.stateDir).toBe(path.join(s.root, 'state', 'codex-doctor'))
    expect(ctx.cacheDir).toBe(path.join(s.root, 'cache', 'codex-doctor'))
  })

  it('finds them through CODEX_HOME itself in the old layout', async () => {
    const s = sandbox({layout: 'old'})
    expect(await resolve(s)).toMatchObject({dotfiles: s.dotfiles, dotfilesSource: 'link-chain'})
  })

  it('finds them through a three-hop home-manager chain and stow-style relative links', async () => {
    const hm = sandbox()
    homeManagerChain(hm)
    expect((await resolve(hm)).dotfiles).toBe(hm.dotfiles)
    const stow = sandbox({relative: true, name: 'with space ü'})
    expect((await resolve(stow)).dotfiles).toBe(stow.dotfiles)
  })

  it('finds them through any link in CODEX_HOME, a skill linked one level down, or a stow package\'s relative links', async () => {
    const s = sandbox({bare: true})
    mkdirSync(s.codexHome, {recursive: true})
    s.write(path.join(s.dotfiles, 'skills', 'greeter', 'SKILL.md'), '---\nname: greeter\ndescription: x\n---\n')
    s.link(path.join(s.codexHome, 'skills', 'greeter'), path.join(s.dotfiles, 'skills', 'greeter'))
    expect(await resolve(s)).toMatchObject({dotfiles: s.dotfiles, dotfilesSource: 'link-chain'})

    const t = sandbox({bare: true})
    t.write(path.join(t.dotfiles, 'ai-config', 'codex', 'hooks.json'), '{}')
    t.link(path.join(t.codexHome, 'hooks.json'), '../dotfiles/ai-config/codex/hooks.json')
    const ctx = await resolve(t)
    expect(ctx).toMatchObject({dotfiles: t.dotfiles, dotfilesSource: 'link-chain'})
    expect((await ctx.declared()).codexDir).toBe(path.join(t.dotfiles, 'ai-config', 'codex'))
  })

  it('from the current work tree: one that holds a stow package or a Nix file naming .codex counts, any other does not', async () => {
    const s = sandbox({bare: true})
    expect(await resolve(s, {cwd: s.dotfiles})).toMatchObject({dotfiles: null})
    s.write(path.join(s.dotfiles, 'codex', '.codex', 'AGENTS.md'), '# hi\n')
    expect(await resolve(s, {cwd: s.dotfiles})).toMatchObject({dotfiles: s.dotfiles, dotfilesSource: 'cwd'})
    const t = sandbox({bare: true})
    t.write(path.join(t.dotfiles, 'home.nix'), '{ home.file.".codex/config.toml".source = ./c; }\n')
    expect(await resolve(t, {cwd: t.dotfiles})).toMatchObject({dotfiles: t.dotfiles, dotfilesSource: 'cwd'})
  })

  it('falls back to the current work tree when it holds the codex folder', async () => {
    const s = sandbox({layout: 'unlinked'})
    expect(await resolve(s, {cwd: path.join(s.dotfiles, 'config')})).toMatchObject({dotfiles: s.dotfiles, dotfilesSource: 'cwd'})
    expect(await resolve(s)).toMatchObject({dotfiles: null, dotfilesSource: null})
  })

  it('prefers --dotfiles, then $DOTFILES; --codex-home over $CODEX_HOME; ~ expands', async () => {
    const s = sandbox()
    const other = path.join(s.home, 'other')
    mkdirSync(other)
    expect(await resolve(s, {dotfiles: '~/other'})).toMatchObject({dotfiles: other, dotfilesSource: 'flag'})
    expect(await resolve(s, {env: {...s.env, DOTFILES: other}})).toMatchObject({dotfiles: other, dotfilesSource: 'env'})
    expect(await resolve(s, {codexHome: '~/elsewhere'})).toMatchObject({codexHome: path.join(s.home, 'elsewhere'), codexHomeSource: 'flag'})
    const {CODEX_HOME: _, ...noCodexHome} = s.env
    expect(await resolve(s, {env: noCodexHome})).toMatchObject({codexHome: path.join(s.home, '.codex'), codexHomeSource: 'default'})
  })

  it('reads codex-doctor.toml at the dotfiles root', async () => {
    const s = sandbox()
    writeFileSync(path.join(s.dotfiles, 'codex-doctor.toml'), 'min_version = "0.100.0"\nlinks = ["config.toml", "prompts", "skills"]\n')
    const ctx = await resolve(s)
    expect(ctx.minVersion).toBe('0.100.0')
    expect(ctx.config.links?.map((l) => l.target)).toEqual(['config.toml', 'prompts', 'skills'])
    expect(ctx.configFile).toBe(path.join(s.dotfiles, 'codex-doctor.toml'))
    expect((await resolve(s, {minVersion: '0.90.0'})).minVersion).toBe('0.90.0')
  })

  it('rejects a bad codex-doctor.toml, a bad --min-version and a --dotfiles that is not a folder', async () => {
    const s = sandbox()
    writeFileSync(path.join(s.dotfiles, 'codex-doctor.toml'), 'links = ["config.toml"]\nlnks = []\n')
    await expect(resolve(s)).rejects.toThrow(new UsageError(`${path.join(s.dotfiles, 'codex-doctor.toml')}:2: unknown key "lnks" (known: min_version, codex_dir, links, skip, extra_state)`))
    await expect(resolve(s, {minVersion: 'latest'})).rejects.toThrow(UsageError)
    await expect(resolve(s, {dotfiles: path.join(s.home, 'nope')})).rejects.toThrow(/is not a folder/)
  })

  it('runs codex --version once, however many checks ask', async () => {
    const s = sandbox()
    const ctx = await resolve(s, {codexBin: CODEX.v089})
    const [a, b] = await Promise.all([ctx.codex(), ctx.codex()])
    expect(a).toBe(b)
    expect(a).toMatchObject({version: '0.89.0', install: 'npm', error: null})
  })
})
