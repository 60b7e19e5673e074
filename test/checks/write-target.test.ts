import {execFileSync} from 'node:child_process'
import {symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {inNixStore, writeTarget} from '../../src/checks/write-target.js'
import {resolveContext} from '../../src/context/resolve.js'
import {runCheck} from '../../src/engine/run-checks.js'
import {clobberConfig, homeManagerChain, replaceWithLink, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {mountTmpfs} from '../tmpfs.js'

const sandbox = sandboxesPerTest()
let mounts: string[] = []
// after hooks run last-registered first: the tmpfs is unmounted before its sandbox is removed
afterEach(() => {
  for (const dir of mounts) execFileSync('umount', [dir])
  mounts = []
})

const check = async (s: Sandbox) => runCheck(writeTarget, await resolveContext({env: s.env, cwd: s.home, checkIds: CHECK_IDS, probe: false}))

/** A tmpfs at `dir`, unmounted after the test; null, or why it cannot be mounted. */
function tmpfsAt(dir: string): string | null {
  const why = mountTmpfs(dir, '1m')
  if (why === null) mounts.push(dir)
  return why
}

describe('inNixStore', () => {
  it.each([
    ['/nix/store/abc-home-manager-files/.codex/config.toml', true],
    ['/nix/store', true],
    ['/nix/var/nix/profiles/per-user/ann/config.toml', false],
    ['/nix/storefront/config.toml', false],
    ['/home/ann/nix/store/config.toml', false],
    ['/home/ann/dotfiles/config/codex/config.toml', false],
  ])('%s → %s', (p, inside) => {
    expect(inNixStore(p)).toBe(inside)
  })
})

describe('write-target', () => {
  it('passes the new layout: a link to the repository, whose folder is writable', async () => {
    const s = sandbox()
    const result = await check(s)
    const configToml = path.join(s.codexHome, 'config.toml')
    const target = path.join(s.codexDir, 'config.toml')
    expect(result.status).toBe('pass')
    expect(result.summary).toBe(`config.toml → ${target} (1 hop); its folder is writable`)
    expect(result.details).toMatchObject({configToml, chain: [configToml, target], target, folder: s.codexDir, linked: true})
  })

  it('passes a three-hop home-manager chain and shows every hop', async () => {
    const s = sandbox()
    const chain = homeManagerChain(s)
    const target = path.join(s.codexDir, 'config.toml')
    const result = await check(s)
    expect(result.status).toBe('pass')
    expect(result.summary).toContain('(3 hops)')
    expect(result.details.chain).toEqual([...chain, target])
  })

  it('passes stow-style relative links in folders with spaces', async () => {
    const s = sandbox({relative: true, name: 'with space ü'})
    const result = await check(s)
    expect(result).toMatchObject({status: 'pass', details: {target: path.join(s.codexDir, 'config.toml')}})
  })

  it('passes a regular config.toml, which Codex writes in place (the links check flags it)', async () => {
    const s = sandbox()
    clobberConfig(s)
    const result = await check(s)
    expect(result).toMatchObject({status: 'pass', summary: 'config.toml (a regular file, written in place); its folder is writable', details: {linked: false}})
  })

  it('fails a target on a read-only file system', async (t) => {
    const s = sandbox()
    const ro = s.p('read-only')
    const why = tmpfsAt(ro)
    if (why) return t.skip(`cannot mount a tmpfs here (${why})`)
    writeFileSync(path.join(ro, 'config.toml'), 'model = "gpt-5"\n')
    execFileSync('mount', ['-o', 'remount,ro', ro])
    replaceWithLink(s, path.join(s.codexHome, 'config.toml'), path.join(ro, 'config.toml'))
    const result = await check(s)
    expect(result.status).toBe('fail')
    expect(result.summary).toBe(`the folder of config.toml → ${path.join(ro, 'config.toml')} (1 hop) is on a read-only file system: Codex cannot save settings`)
    expect(result.details).toMatchObject({folder: ro, error: 'EROFS'})
    expect(result.remediation?.text).toContain(ro)
  })

  it('skips a dangling link and says why', async () => {
    const s = sandbox()
    const gone = path.join(s.codexDir, 'config.toml')
    unlinkSync(gone)
    const result = await check(s)
    expect(result).toMatchObject({status: 'skip', summary: `config.toml is a dangling link: ${gone} does not exist (see the links check)`})
  })

  it('skips a missing config.toml, a loop and a link to a folder, each saying why', async () => {
    const s = sandbox()
    const at = path.join(s.codexHome, 'config.toml')
    unlinkSync(at)
    expect(await check(s)).toMatchObject({status: 'skip', summary: 'config.toml does not exist (see the links check)'})

    symlinkSync(s.p('loop-b'), s.p('loop-a'))
    symlinkSync(s.p('loop-a'), s.p('loop-b'))
    symlinkSync(s.p('loop-a'), at)
    expect(await check(s)).toMatchObject({status: 'skip', summary: expect.stringMatching(/^config\.toml is a link loop/)})

    replaceWithLink(s, at, s.codexDir)
    expect(await check(s)).toMatchObject({status: 'skip', summary: `config.toml leads to a folder (${s.codexDir}), not a file (see the links check)`})
  })

  it('passes the old layout, where config.toml sits in the repository through the linked CODEX_HOME', async () => {
    const s = sandbox({layout: 'old'})
    const result = await check(s)
    expect(result).toMatchObject({status: 'pass', details: {target: path.join(s.codexDir, 'config.toml'), linked: false}})
  })
})
