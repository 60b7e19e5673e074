import {chmodSync, mkdirSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {CODEX} from '../codex-bins.js'
import {addProvisioning, addSkill, AUTH, clobberConfig, snapshot, type Sandbox, type SandboxOptions, sandboxesPerTest} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()

/** The new layout with everything a check can look at: provisioning files in the new style and a skill. */
function healthy(options: SandboxOptions = {}): Sandbox {
  const s = sandbox(options)
  addSkill(s)
  s.link(path.join(s.codexHome, 'skills'), path.join(s.codexDir, 'skills'))
  s.write(path.join(s.dotfiles, 'codex-doctor.toml'), 'links = ["config.toml", "prompts", "skills"]\n')
  addProvisioning(s, 'new')
  return s
}

describe('a full run, end to end', () => {
  it('a healthy setup is all pass (Codex 0.116, the last with prompts), exit 0', () => {
    const s = healthy()
    const {status, json} = cliJson(['--codex-bin', CODEX.v116], s.env)
    const notPassing = Object.values(json.checks as Record<string, {id: string; status: string; summary: string}>)
      .filter((c) => c.status !== 'pass')
      .map((c) => `${c.id}: ${c.status} ${c.summary}`)
    expect(notPassing).toEqual([])
    expect(status).toBe(0)
    expect(json).toMatchObject({
      schemaVersion: 1,
      tool: 'codex-doctor',
      overallStatus: 'pass',
      context: {codexHome: s.codexHome, dotfiles: s.dotfiles, codexBin: CODEX.v116, codexVersion: '0.116.0'},
      fix: null,
    })
    expect(Object.keys(json.checks)).toEqual(CHECK_IDS)
    for (const id of CHECK_IDS) {
      expect(json.checks[id]).toMatchObject({id, status: 'pass'})
      expect(Object.keys(json.checks[id]).sort()).toEqual(['details', 'durationMs', 'id', 'remediation', 'status', 'summary', 'title'])
    }
  })

  it('leaves the user\'s CODEX_HOME, HOME and repository byte-for-byte unchanged (write probe included)', () => {
    const s = healthy({name: 'with space ü'})
    const before = snapshot(s.home)
    const result = cli(['--codex-bin', CODEX.v089, '--verbose'], s.env)
    expect(result.status, result.stdout + result.stderr).toBeLessThanOrEqual(1)
    expect(snapshot(s.home)).toEqual(before)
    // the only write outside the temp folder: the probe's cached verdict
    expect(readdirSync(s.root).sort()).toEqual(['cache', 'home with space ü'])
  })

  it('an old-layout machine fails with a remediation under each problem, and the secret is never printed', () => {
    const s = sandbox({layout: 'old'})
    const human = cli(['--codex-bin', CODEX.v089, '--no-probe', '--verbose'], s.env)
    expect(human.status).toBe(1)
    expect(human.stdout).toMatch(/✗ codex-home/)
    expect(human.stdout).toMatch(/✗ stray-state/)
    expect(human.stdout).toContain('→ ')
    expect(human.stdout).toContain('~/')
    expect(human.stdout).not.toContain(s.home + '/')
    expect(human.stdout).toMatch(/\d+ passed, \d+ warnings?, \d+ failed/)
    const {json} = cliJson(['--codex-bin', CODEX.v089, '--no-probe', '--verbose'], s.env)
    expect(json.overallStatus).toBe('fail')
    for (const out of [human.stdout, human.stderr, JSON.stringify(json)]) expect(out).not.toContain(AUTH.trim().slice(10, 40))
  })

  it('names checks to run, --skip others, and --strict turns a warning into exit 1', () => {
    const s = healthy()
    const only = cliJson(['links', 'config-toml', '--codex-bin', CODEX.latest], s.env)
    expect(Object.keys(only.json.checks)).toEqual(['links', 'config-toml'])
    expect(only.status).toBe(0)

    const skipped = cliJson(['--skip', 'write-probe', '--skip', 'nix', '--codex-bin', CODEX.v116], s.env)
    expect(skipped.json.checks['write-probe'].status).toBe('skip')
    expect(skipped.json.checks.nix.status).toBe('skip')

    // Codex ≥ 0.117 no longer loads prompts: a warning, which --strict makes a failure
    const warned = cliJson(['prompts', '--codex-bin', CODEX.latest], s.env)
    expect([warned.status, warned.json.overallStatus]).toEqual([0, 'warn'])
    const strict = cliJson(['prompts', '--codex-bin', CODEX.latest, '--strict'], s.env)
    expect([strict.status, strict.json.overallStatus]).toEqual([1, 'fail'])
  })

  it('nothing in CODEX_HOME leads to a repository and none is named: links warns, --strict fails', () => {
    const s = healthy()
    for (const entry of ['config.toml', 'prompts', 'skills']) rmSync(path.join(s.codexHome, entry))
    const {status, json} = cliJson(['links', '--codex-bin', CODEX.v089], s.env)
    expect(json.context.dotfiles).toBeNull()
    expect([status, json.checks.links.status]).toEqual([0, 'warn'])
    expect(json.checks.links.remediation.text).toMatch(/--dotfiles/)
    expect(cliJson(['links', '--strict', '--codex-bin', CODEX.v089], s.env).status).toBe(1)
  })

  it('a clobbered config.toml (Codex 0.87 wrote through the link) fails links with exit 1', () => {
    const s = healthy()
    clobberConfig(s)
    const {status, json} = cliJson(['--codex-bin', CODEX.v089, '--no-probe'], s.env)
    expect(status).toBe(1)
    expect(json.checks.links.status).toBe('fail')
  })

  it('human output off a TTY: no color, no spinner, one mark per check and a closing count', () => {
    const s = healthy()
    const {stdout, status} = cli(['--codex-bin', CODEX.v116, '--no-probe'], {...s.env, NO_COLOR: undefined})
    expect(status).toBe(0)
    expect(stdout).not.toMatch(/\x1b\[/)
    for (const id of CHECK_IDS) expect(stdout).toMatch(new RegExp(`^[✓!✗-] ${id} `, 'm'))
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 warnings, 0 failed/)
  })

  it('a codex that is missing, hangs or prints garbage is a result, not a crash', () => {
    const s = healthy()
    const fake = path.join(s.root, 'fake-bin')
    mkdirSync(fake)
    const garbage = path.join(fake, 'codex')
    s.write(garbage, '#!/bin/sh\necho "hello world"\n', 0o755)
    const {status, json} = cliJson(['codex-version', '--codex-bin', garbage], s.env)
    expect(status).toBe(1)
    expect(json.checks['codex-version'].status).toMatch(/fail|error/)

    const missing = cliJson(['codex-version'], {...s.env, PATH: path.join(s.root, 'empty-path')})
    expect(missing.status).toBe(1)
    expect(missing.json.context.codexBin).toBeNull()

    const onPath = path.join(s.root, 'on-path')
    mkdirSync(onPath)
    symlinkSync(CODEX.v089, path.join(onPath, 'codex'))
    chmodSync(CODEX.v089, 0o755)
    const found = cliJson(['codex-version'], {...s.env, PATH: `${onPath}:${process.env.PATH}`})
    expect(found.json.context).toMatchObject({codexBin: path.join(onPath, 'codex'), codexVersion: '0.89.0'})
    expect(found.status).toBe(0)
  })

  it('a check that overruns its limit is reported, and the run still ends after its cleanup (no throwaway folder left)', () => {
    // the old Ansible declaration: the check syntax-checks its rewrite with ansible-playbook, here one that hangs
    const s = sandbox()
    addProvisioning(s, 'old')
    const fake = path.join(s.root, 'fake-bin')
    s.write(path.join(fake, 'ansible-playbook'), '#!/bin/sh\nsleep 12\n', 0o755)
    const temp = path.join(s.root, 'tmp')
    mkdirSync(temp)
    const {json} = cliJson(['ansible', '--no-probe'], {...s.env, PATH: `${fake}:${process.env.PATH}`, TMPDIR: temp})
    expect(json.checks.ansible).toMatchObject({status: 'error', summary: 'did not finish within 10 s'})
    expect(readdirSync(temp)).toEqual([])
  }, 60_000)
})
