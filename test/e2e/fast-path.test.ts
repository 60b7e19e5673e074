/**
 * bin/run.js answers the commonest command lines without loading oclif (src/cli.ts). Each answer
 * must be the one oclif gives for the same command line: the same parse, the same help, the same
 * version line and list of checks.
 */
import {Parser} from '@oclif/core'
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import Doctor from '../../src/commands/doctor.js'
import {parseDoctorArgs} from '../../src/commands/doctor-flags.js'
import {REPO_ROOT} from '../codex-bins.js'
import {makeSandbox, type Sandbox} from '../sandbox.js'
import {cli} from './helpers.js'

/** The same arguments through oclif's execute, as bin/run.js did before it had a fast path (oclif finds the package at its root). */
function viaOclif(args: string[], env: NodeJS.ProcessEnv) {
  const script = `import('@oclif/core').then((o) => o.execute({args: ${JSON.stringify(args)}, dir: ${JSON.stringify(REPO_ROOT)}}))`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env, cwd: REPO_ROOT, encoding: 'utf8'})
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

describe('the fast path answers as oclif does', () => {
  let s: Sandbox
  beforeAll(() => {
    s = makeSandbox()
  })
  afterAll(() => s.cleanup())

  it('--version', () => {
    const fast = cli(['--version'], s.env)
    expect(fast.stdout).toMatch(/^codex-doctor\/\d+\.\d+\.\d+ \w+-\w+ node-v\d+/)
    expect(fast).toEqual(viaOclif(['--version'], s.env))
  })

  it('checks', () => {
    const fast = cli(['checks'], s.env)
    expect(fast.stdout.split('\n')).toHaveLength(14)
    expect(fast).toEqual(viaOclif(['checks'], s.env))
  })

  it('--help (rendered by oclif when built, at 80 columns) and help', () => {
    const fast = cli(['--help'], s.env)
    expect(fast.stdout).toContain('$ codex-doctor [CHECK_ID...] [FLAGS]')
    expect(fast).toEqual(viaOclif(['doctor', '--help'], s.env))
    expect(cli(['help'], s.env)).toEqual(fast)
  })

  it('FORCE_COLOR goes to oclif, which may color its help', () => {
    const env: NodeJS.ProcessEnv = {...s.env, FORCE_COLOR: '1'}
    delete env.NO_COLOR
    const [fast, oclif] = [cli(['--help'], env), viaOclif(['doctor', '--help'], env)]
    expect([fast.status, fast.stdout]).toEqual([oclif.status, oclif.stdout])
  })

  it('another width of terminal goes to oclif, which wraps for it', () => {
    const wide = cli(['--help'], {...s.env, OCLIF_COLUMNS: '120'})
    expect(wide.stdout).not.toEqual(cli(['--help'], s.env).stdout)
    expect(wide).toEqual(viaOclif(['doctor', '--help'], {...s.env, OCLIF_COLUMNS: '120'}))
  })
})

describe('parseDoctorArgs reads a command line as oclif does', () => {
  const parse = (argv: string[]) => Parser.parse(argv, {flags: Doctor.flags, args: {}, strict: false})
  const lines = [
    [],
    ['links', 'secrets'],
    ['--json'],
    ['--fix', '--dry-run'],
    ['nix', '--skip', 'links', '--skip=secrets'],
    ['--skip', 'links', '--json'],
    ['--no-probe', '--strict', '--verbose'],
    ['--probe'],
    ['--codex-home', '/x', '--dotfiles=/y', '--codex-bin', 'c', '--min-version', '0.90.0'],
    ['--fix', '--ignore-running-codex', 'links'],
    ['--codex-home=weird=value'],
  ]
  for (const argv of lines) {
    it(argv.join(' ') || '(nothing)', async () => {
      const fast = parseDoctorArgs(argv)
      expect(fast).not.toBeNull()
      const oclif = await parse(argv)
      expect(fast!.ids).toEqual(oclif.argv)
      for (const [name, value] of Object.entries(fast!.flags)) expect([name, value]).toEqual([name, (oclif.flags as Record<string, unknown>)[name] ?? (value === false ? false : undefined)])
      for (const [name, value] of Object.entries(oclif.flags)) expect([name, (fast!.flags as unknown as Record<string, unknown>)[name]]).toEqual([name, value])
    })
  }

  const others = [['--skip', 'links', 'nix'], ['--bogus'], ['--skip'], ['--dry-run'], ['--json=yes'], ['-x'], ['--', 'links'], ['--codex-home', '/a', '--codex-home', '/b'], ['--no-json'], ['--ignore-running-codex'], ['--fix', '--no-codex-home', '/tmp/x'], ['--no-dotfiles=/x'], ['--no-skip', 'links'], ['--dotfiles=--json'], ['--skip=--fix'], ['--codex-bin=-x']]
  for (const argv of others) {
    it(`${argv.join(' ')}: left to oclif`, () => {
      expect(parseDoctorArgs(argv)).toBeNull()
    })
  }
})
