import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {makeSandbox, type Sandbox} from '../sandbox.js'
import {cli} from './helpers.js'

let s: Sandbox
beforeAll(() => {
  s = makeSandbox()
})
afterAll(() => s.cleanup())

/** One clear line (plus the hint where usage is wrong), never a stack trace. */
function expectOneLineError(result: {status: number | null; stdout: string; stderr: string}, code: number, message: RegExp) {
  expect(result.status).toBe(code)
  expect(result.stderr).toMatch(message)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2)
  expect(result.stdout).toBe('')
}

describe('bad input ends in one line and exit code 2', () => {
  it.each([
    [['--bogus'], /^codex-doctor: Nonexistent flag: --bogus/],
    [['nope'], /^codex-doctor: unknown check id "nope"/],
    [['--skip', 'nope'], /^codex-doctor: unknown check id "nope"/],
    [['--min-version', 'soon'], /^codex-doctor: --min-version: "soon" is not a version/],
    [['--dry-run'], /^codex-doctor: .*--fix/],
    [['--dotfiles', '/nonexistent/dotfiles'], /^codex-doctor: --dotfiles: \/nonexistent\/dotfiles is not a folder/],
  ])('%j', (args, message) => {
    expectOneLineError(cli(args, s.env), 2, message)
  })

  it('$DOTFILES that is not a folder', () => {
    expectOneLineError(cli(['--no-probe'], {...s.env, DOTFILES: '/etc/passwd'}), 2, /^codex-doctor: \$DOTFILES: \/etc\/passwd is not a folder/)
  })

  it('a bad codex-doctor.toml names the file, the key and the line', () => {
    const file = path.join(s.dotfiles, 'codex-doctor.toml')
    writeFileSync(file, 'links = ["config.toml"]\nmin_version = 89\n')
    try {
      expectOneLineError(cli(['--no-probe'], s.env), 2, new RegExp(`^codex-doctor: ${file.replaceAll('.', '\\.')}:2: "min_version" must be a string`))
      writeFileSync(file, 'links = [\n')
      expectOneLineError(cli(['--no-probe'], s.env), 2, /codex-doctor\.toml:2:1: /)
    } finally {
      writeFileSync(file, '')
    }
  })
})

describe('codex-doctor checks', () => {
  it('lists every id with its title', () => {
    const result = cli(['checks'], s.env)
    expect(result.status).toBe(0)
    const ids = result.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0])
    expect(ids).toEqual(CHECK_IDS)
  })

  it('-h is --help', () => {
    expect(cli(['-h'], s.env)).toEqual(cli(['--help'], s.env))
  })

  it('--help teaches the commands, flags and exit codes', () => {
    const result = cli(['--help'], s.env)
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('$ codex-doctor [CHECK_ID...] [FLAGS]')
    for (const flag of ['--fix', '--dry-run', '--json', '--skip', '--strict', '--codex-home', '--dotfiles', '--codex-bin', '--min-version', '--[no-]probe', '--verbose']) {
      expect(result.stdout).toContain(flag)
    }
    expect(result.stdout).toMatch(/Exit codes: 0/)
  })
})
