import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {codexCommand, firstLine, installMethod, parseVersion, upgradeCommand, VERSION_TIMEOUT_MS} from '../../src/context/codex.js'
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
