import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {codexCommand, firstLine, installMethod, parseVersion, upgradeCommand, VERSION_TIMEOUT_MS} from '../../src/context/codex.js'
import {resolvePackageJson} from '../../src/context/binary-cache.js'
import {DEFAULT_TIMEOUT_MS} from '../../src/engine/run-checks.js'

describe('parseVersion', () => {
  it.each([
    ['codex-cli 0.89.0\n', '0.89.0'],
    ['codex-cli 0.169.0', '0.169.0'],
    ['codex-cli 0.90.0-alpha.1\n', '0.90.0-alpha.1'],
    ['  codex-cli   1.2.3  \n', '1.2.3'],
    ['WARNING: something\ncodex-cli 0.89.0\n', '0.89.0'],
  ])('reads %j as %s', (stdout, version) => {
    expect(parseVersion(stdout)).toBe(version)
  })

  it.each(['', 'codex 0.89.0', 'codex-cli', 'codex-cli banana', 'codex-cli 0.89', 'Usage: codex [OPTIONS]'])('rejects %j', (stdout) => {
    expect(parseVersion(stdout)).toBeNull()
  })
})

describe('installMethod, from the real path of the binary', () => {
  it.each([
    // npm, wherever its global prefix is
    ['/usr/local/lib/node_modules/@openai/codex/bin/codex.js', 'npm'],
    ['/usr/lib/node_modules/@openai/codex/bin/codex.js', 'npm'],
    ['/home/ann/.npm-global/lib/node_modules/@openai/codex/bin/codex.js', 'npm'],
    ['/home/ann/.nvm/versions/node/v22.12.0/lib/node_modules/@openai/codex/bin/codex.js', 'npm'],
    ['/usr/local/lib/node_modules/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex', 'npm'],
    ['/usr/local/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex', 'npm'],
    // Homebrew's node puts npm's global packages under Homebrew's prefix: still npm
    ['/opt/homebrew/lib/node_modules/@openai/codex/bin/codex.js', 'npm'],
    ['/home/linuxbrew/.linuxbrew/lib/node_modules/@openai/codex/bin/codex.js', 'npm'],
    ['C:\\Users\\ann\\AppData\\Roaming\\npm\\node_modules\\@openai\\codex\\bin\\codex.js', 'npm'],
    // the aliased devDependencies of this repository
    ['/work/main/node_modules/codex-0.87/bin/codex.js', 'npm'],
    // pnpm's content-addressed global store
    ['/home/ann/.local/share/pnpm/global/5/.pnpm/@openai+codex@0.89.0/node_modules/@openai/codex/bin/codex.js', 'pnpm'],
    ['/Users/ann/Library/pnpm/global/5/.pnpm/@openai+codex@0.89.0/node_modules/@openai/codex/bin/codex.js', 'pnpm'],
    // bun
    ['/home/ann/.bun/install/global/node_modules/@openai/codex/bin/codex.js', 'bun'],
    // Homebrew cask and formula
    ['/opt/homebrew/Caskroom/codex/0.89.0/codex-aarch64-apple-darwin', 'homebrew'],
    ['/usr/local/Caskroom/codex/0.89.0/codex-x86_64-apple-darwin', 'homebrew'],
    ['/opt/homebrew/Cellar/codex/0.89.0/bin/codex', 'homebrew'],
    ['/home/linuxbrew/.linuxbrew/Cellar/codex/0.89.0/bin/codex', 'homebrew'],
    ['/home/linuxbrew/.linuxbrew/Caskroom/codex/0.89.0/codex-x86_64-unknown-linux-musl', 'homebrew'],
    // Nix, including a store path that holds an npm layout
    ['/nix/store/0123456789abcdfghijklmnpqrsvwxyz-codex-0.89.0/bin/codex', 'nix'],
    ['/nix/store/0123456789abcdfghijklmnpqrsvwxyz-codex-0.89.0/lib/node_modules/@openai/codex/bin/codex.js', 'nix'],
    // anything else
    ['/usr/local/bin/codex', 'other'],
    ['/home/ann/.local/bin/codex', 'other'],
    ['/home/ann/src/codex/codex-rs/target/release/codex', 'other'],
  ])('%s → %s', (realPath, method) => {
    expect(installMethod(realPath)).toBe(method)
  })

  it('gives an upgrade command for each method', () => {
    expect(upgradeCommand('npm')).toBe('npm install -g @openai/codex@latest')
    expect(upgradeCommand('pnpm')).toBe('pnpm add -g @openai/codex@latest')
    expect(upgradeCommand('bun')).toBe('bun add -g @openai/codex@latest')
    expect(upgradeCommand('homebrew')).toBe('brew upgrade codex')
    expect(upgradeCommand('nix')).toMatch(/nix flake update/)
    expect(upgradeCommand('other')).toMatch(/codex/)
  })
})

describe('running a codex binary', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-unit-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('runs a Node launcher that lost its executable bit through this Node', async () => {
    const script = path.join(dir, 'codex.js')
    writeFileSync(script, '#!/usr/bin/env node\n')
    chmodSync(script, 0o644)
    expect(await codexCommand(script)).toEqual({file: process.execPath, args: [script]})
    chmodSync(script, 0o755)
    expect(await codexCommand(script)).toEqual({file: script, args: []})
  })

  it('runs anything else as it is', async () => {
    const binary = path.join(dir, 'codex')
    writeFileSync(binary, 'not a script')
    chmodSync(binary, 0o644)
    expect(await codexCommand(binary)).toEqual({file: binary, args: []})
  })

  it('quotes one line of output, cut short', () => {
    expect(firstLine('\n  hello  \nworld')).toBe('hello')
    expect(firstLine('x'.repeat(100), 10)).toBe('xxxxxxxxx…')
  })

  it('gives up on `codex --version` before the engine gives up on the check', () => {
    expect(VERSION_TIMEOUT_MS).toBeLessThan(DEFAULT_TIMEOUT_MS)
  })
})

describe("where npm's launcher finds its platform package", () => {
  // asked of a fresh Node each time: a process remembers what it resolved (Module._pathCache)
  const nodeAnswer = (launcher: string, name: string) => {
    const script = `try { console.log(require('node:module').createRequire(${JSON.stringify(launcher)}).resolve(${JSON.stringify(`${name}/package.json`)})) } catch { console.log('null') }`
    const answer = execFileSync(process.execPath, ['-e', script], {encoding: 'utf8'}).trim()
    return answer === 'null' ? null : answer
  }
  const platformPackage = `@openai/codex-${process.platform}-${process.arch}`

  it('is where Node resolves it, for every pinned Codex release', () => {
    const launchers = readdirSync(path.join(import.meta.dirname, '..', '..', 'node_modules'))
      .filter((d) => d.startsWith('codex-'))
      .map((d) => path.join(import.meta.dirname, '..', '..', 'node_modules', d, 'bin', 'codex.js'))
    expect(launchers.length).toBeGreaterThanOrEqual(4)
    const answers = launchers.map((l) => [resolvePackageJson(l, platformPackage), nodeAnswer(l, platformPackage)])
    for (const [ours, node] of answers) expect(ours).toBe(node)
    // the newer releases have one, the older ones keep everything in their own vendor/
    expect(answers.some(([ours]) => ours !== null)).toBe(true)
  })

  it('is where Node resolves it in hoisted, nested, linked and "exports" layouts', () => {
    const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-resolve-')))
    try {
      const put = (rel: string, text: string) => {
        mkdirSync(path.dirname(path.join(root, rel)), {recursive: true})
        writeFileSync(path.join(root, rel), text)
      }
      const launcher = path.join(root, 'a', 'node_modules', '@openai', 'codex', 'bin', 'codex.js')
      put('a/node_modules/@openai/codex/bin/codex.js', '')
      const same = () => expect(resolvePackageJson(launcher, 'pkg-x')).toBe(nodeAnswer(launcher, 'pkg-x'))
      same() // nowhere
      put('node_modules/pkg-x/package.json', '{}') // far up
      same()
      put('a/node_modules/pkg-x/package.json', '{}') // hoisted beside the launcher's package
      same()
      put('a/node_modules/@openai/codex/node_modules/pkg-x/package.json', '{}') // nested: the nearest wins
      same()
      rmSync(path.join(root, 'a/node_modules/@openai/codex/node_modules'), {recursive: true})
      // a linked package: the real path, as Node gives it
      put('store/pkg-x/package.json', '{}')
      rmSync(path.join(root, 'a/node_modules/pkg-x'), {recursive: true})
      symlinkSync(path.join(root, 'store', 'pkg-x'), path.join(root, 'a', 'node_modules', 'pkg-x'))
      same()
      expect(resolvePackageJson(launcher, 'pkg-x')).toBe(path.join(root, 'store', 'pkg-x', 'package.json'))
      // "exports" decide: without ./package.json in them, Node refuses it, and so do we (a package
      // of its own each: a process keeps what it read of a package.json)
      put('a/node_modules/pkg-closed/package.json', '{"exports": {".": "./index.js"}}')
      put('a/node_modules/pkg-open/package.json', '{"exports": {"./package.json": "./package.json"}}')
      expect(resolvePackageJson(launcher, 'pkg-closed')).toBe(nodeAnswer(launcher, 'pkg-closed'))
      expect(resolvePackageJson(launcher, 'pkg-closed')).toBeNull()
      expect(resolvePackageJson(launcher, 'pkg-open')).toBe(nodeAnswer(launcher, 'pkg-open'))
      expect(resolvePackageJson(launcher, 'pkg-open')).not.toBeNull()
    } finally {
      rmSync(root, {recursive: true, force: true})
    }
  })
})
