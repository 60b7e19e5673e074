/**
 * SPEC safety rule 9 through the real command line, next to a real running Codex
 * (`codex app-server`, which stays up without network): the migration would move its state out
 * from under it, so --fix moves nothing, names it and exits 2; a plain check says so on
 * codex-home; the dry run says what the real run would do; once Codex is gone, --fix migrates.
 */
import {existsSync, lstatSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {afterEach, expect, it} from 'vitest'

import {CODEX} from '../codex-bins.js'
import {killGroup, startAppServer} from '../codex/app-server.js'
import {sandboxesPerTest} from '../sandbox.js'
import {cli, cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()
const groups: number[] = []
afterEach(async () => {
  for (const pid of groups.splice(0)) await killGroup(pid)
})

const ARGS = ['--codex-bin', CODEX.v089, '--no-probe']

it('a Codex running on the old layout\'s state: --fix moves nothing and exits 2 naming it; after it quits, --fix migrates', async () => {
  const s = sandbox({layout: 'old'})
  const codex = await startAppServer(CODEX.latest, s.env, s.home)
  groups.push(codex.pid!)

  const check = cliJson(ARGS, s.env)
  expect(check.json.checks['codex-home'].summary).toMatch(/Codex is running on this state \(pid \d+/)
  expect(check.json.checks['codex-home'].details.runningCodex.live.length).toBeGreaterThan(0)

  const dry = cli(['--fix', '--dry-run', ...ARGS], s.env)
  expect(dry.stdout).toContain('A real --fix would stop before changing anything:')
  expect(dry.stdout).toMatch(/Codex is running: pid \d+/)

  const fix = cli(['--fix', ...ARGS], s.env)
  expect(fix.status).toBe(2)
  expect(fix.stderr).toMatch(/^codex-doctor: nothing was moved: a running Codex uses what --fix would move out of the repository$/m)
  expect(fix.stderr).toMatch(/^codex-doctor: Codex is running: pid \d+ \(.*app-server\).*quit it/m)
  // nothing moved, no run recorded
  expect(lstatSync(s.codexHome).isSymbolicLink()).toBe(true)
  expect(existsSync(path.join(s.codexDir, 'auth.json'))).toBe(true)
  const runs = path.join(s.env.XDG_STATE_HOME!, 'codex-doctor', 'runs')
  expect(existsSync(runs) ? readdirSync(runs) : []).toEqual([])

  await killGroup(codex.pid!)
  const after = cli(['--fix', ...ARGS], s.env)
  expect(after.status, after.stdout + after.stderr).toBe(0)
  expect(lstatSync(s.codexHome).isDirectory()).toBe(true)
  expect(existsSync(path.join(s.codexHome, 'auth.json'))).toBe(true)
})
