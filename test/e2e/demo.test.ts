import {mkdirSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {expect, it} from 'vitest'

import {CODEX} from '../codex-bins.js'
import {snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cli} from './helpers.js'

const sandbox = sandboxesPerTest()

it('demo tells the whole story in the temp folder, ends exactly where it began, and touches nothing of the user', () => {
  // the "user": a real setup in the old layout, which the demo must not see or change
  const user = sandbox({layout: 'old'})
  const tmp = path.join(user.root, 'tmp')
  mkdirSync(tmp)
  const before = snapshot(user.root)

  const {status, stdout, stderr} = cli(['demo', '--codex-bin', CODEX.latest, '--sessions', '40'], {...user.env, TMPDIR: tmp})
  expect(status, stdout + stderr).toBe(0)
  const steps = ['1. Check', '2. Fix, dry run', '3. Fix', '4. Check again', '5. Undo', '6. Compare'].map((title) => stdout.indexOf(`━━ ${title}`))
  expect(steps.every((at, i) => at >= 0 && (i === 0 || at > steps[i - 1]!))).toBe(true)
  expect(stdout).toMatch(/40 session files were written into the dotfiles repository/)
  // the Nix file that made the old link is rewritten as seed step 2 says, shown as a diff
  expect(stdout).toMatch(/✗ nix {2}nix\/home\/shared\/default\.nix:4 links the whole ~\/\.codex folder/)
  expect(stdout).toContain('-  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";')
  expect(stdout).toContain('+    ".codex/config.toml".source =')
  expect(stdout).toMatch(/✓ nix {2}nix\/home\/shared\/default\.nix links ~\/\.codex entry by entry/)
  expect(stdout).toMatch(/✗ codex-home {2}old layout/)
  expect(stdout).toMatch(/Fix run \S+:/)
  expect(stdout).toMatch(/After the fixes:\n✓ codex-version/)
  expect(stdout).toMatch(/Undid run \S+:/)
  expect(stdout).toMatch(/✓ All \d+ paths under ~ are exactly as before the fix/)
  expect(stdout).not.toContain('sk-demo-not-a-real-key')

  // the sandbox is gone, and the user's world (HOME, CODEX_HOME, state and cache) never moved
  expect(readdirSync(tmp)).toEqual([])
  const after = snapshot(user.root)
  expect(after).toEqual(before)
})

it('demo without a codex binary says how to get one, exit 2', () => {
  const user = sandbox()
  const {status, stderr} = cli(['demo'], {...user.env, PATH: path.join(user.root, 'no-such-bin')})
  expect(status).toBe(2)
  expect(stderr).toMatch(/^codex-doctor: no `codex` on PATH: install it/)
})
