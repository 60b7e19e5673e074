/**
 * Where home-manager manages HOME (a current generation exists), the links Nix declares are its
 * own: at a switch, a link of anyone else's in their place is "in the way" and stops it. So
 * codex-doctor repairs such a link the way home-manager makes it (into the generation's
 * home-files), warns about a hand-made one, and otherwise leaves the link to a switch.
 */
import {mkdirSync, readlinkSync, symlinkSync, unlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CODEX} from '../codex-bins.js'
import {clobberConfig, NIX_NEW, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()
const ARGS = ['--codex-bin', CODEX.v089, '--no-probe']

/** A home-manager generation in the sandbox, as `home-manager switch` leaves it, with its links made. */
function homeManaged(s: Sandbox, entries: readonly string[], linked = entries): string {
  const store = s.p('nix', 'store')
  const files = path.join(store, 'bbbb-home-manager-files')
  const generation = path.join(store, 'aaaa-home-manager-generation')
  mkdirSync(path.join(files, '.codex'), {recursive: true})
  mkdirSync(generation, {recursive: true})
  symlinkSync(files, path.join(generation, 'home-files'))
  const profiles = path.join(s.env.XDG_STATE_HOME!, 'nix', 'profiles')
  mkdirSync(profiles, {recursive: true})
  symlinkSync(generation, path.join(profiles, 'home-manager'))
  for (const entry of entries) {
    // mkOutOfStoreSymlink: a store link that leads to the repository
    const outOfStore = path.join(store, `cccc-hm_${entry}`)
    symlinkSync(path.join(s.codexDir, entry), outOfStore)
    symlinkSync(outOfStore, path.join(files, '.codex', entry))
  }
  for (const entry of linked) {
    unlinkSync(path.join(s.codexHome, entry))
    symlinkSync(path.join(files, '.codex', entry), path.join(s.codexHome, entry))
  }
  s.write(path.join(s.dotfiles, 'nix', 'home', 'shared', 'default.nix'), NIX_NEW)
  s.commit('nix')
  return files
}

describe('links declared by Nix on a machine home-manager manages', () => {
  it('healthy: the chain goes through the generation, and passes', () => {
    const s = sandbox()
    homeManaged(s, ['config.toml', 'prompts'])
    const run = cliJson(ARGS, s.env)
    expect(run.json.checks.links.status, run.json.checks.links.summary).toBe('pass')
  })

  it('a config.toml Codex 0.87 replaced with a copy: --fix puts back home-manager\'s own link, so the next switch is clean', () => {
    const s = sandbox()
    const files = homeManaged(s, ['config.toml', 'prompts'])
    clobberConfig(s)
    const before = cliJson(ARGS, s.env)
    expect(before.json.checks.links.status).toBe('fail')
    expect(before.json.checks.links.remediation.automatic).toBe(true)
    const fix = cli(['--fix', ...ARGS], s.env)
    expect(fix.status, fix.stdout + fix.stderr).toBe(0)
    expect(readlinkSync(path.join(s.codexHome, 'config.toml'))).toBe(path.join(files, '.codex', 'config.toml'))
    expect(cliJson(ARGS, s.env).json.checks.links.status).toBe('pass')
  })

  it('a link made by hand where home-manager makes its own warns: its next switch would stop at it', () => {
    const s = sandbox()
    homeManaged(s, ['config.toml', 'prompts'], ['prompts'])
    const run = cliJson(ARGS, s.env)
    expect(run.json.checks.links.status).toBe('warn')
    expect(run.json.checks.links.summary).toMatch(/config\.toml is declared in Nix but not linked by home-manager: its next switch will stop at it/)
    expect(run.json.checks.links.remediation.commands).toContain('home-manager switch')
  })

  it('a declared entry the generation does not have yet: --fix leaves it to a switch, and says so', () => {
    const s = sandbox()
    homeManaged(s, ['prompts'], ['prompts'])
    unlinkSync(path.join(s.codexHome, 'config.toml'))
    const run = cliJson(ARGS, s.env)
    expect(run.json.checks.links).toMatchObject({status: 'fail', remediation: {automatic: false}})
    expect(run.json.checks.links.remediation.text).toMatch(/run home-manager switch/)
    const fix = cliJson(['--fix', ...ARGS], s.env)
    expect((fix.json.fix.actions as {check: string}[]).filter((a) => a.check === 'links')).toEqual([])
  })
})
