/** `codex-doctor undo` as a user runs it: what it says, in `~` terms, and its exit codes. */
import {writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {expect, it} from 'vitest'

import {cli, cliJson} from '../e2e/helpers.js'
import {snapshot, type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {apply, migrationPlan, world} from './helpers.js'

const sandbox = sandboxesPerTest()
const oldLayout = () => {
  const s = sandbox({layout: 'old'})
  return s
}

it('nothing to undo: one clear line, exit 0, no state folder created', () => {
  const s = oldLayout()
  const result = cli(['undo'], s.env)
  expect(result).toMatchObject({status: 0, stderr: ''})
  expect(result.stdout).toBe('Nothing to undo: no --fix run is recorded.\n')
  expect(snapshot(s.root)).not.toHaveProperty('state')
})

it('undoes the latest run, naming each action with ~ paths; a second undo of it says it was undone', async () => {
  const s = oldLayout()
  const before = world(s, snapshot)
  const {runId} = await apply(s, migrationPlan(s))
  const result = cli(['undo'], s.env)
  expect(result.status, result.stderr).toBe(0)
  expect(result.stdout).toContain(`Undid run ${runId}:`)
  expect(result.stdout).toContain('  ✓ mkdir   ~/.codex\n')
  expect(result.stdout).toContain('✓ link    ~/.codex/prompts → ~/dotfiles/config/codex/prompts')
  expect(result.stdout).not.toContain(s.home)
  expect(world(s, snapshot)).toEqual(before)

  const again = cliJson(['undo', runId!], s.env)
  expect(again.status).toBe(0)
  expect(again.json).toMatchObject({tool: 'codex-doctor', command: 'undo', status: 'already-undone', runId})
  const twice = cli(['undo'], s.env)
  expect(twice.status).toBe(0)
  expect(twice.stdout).toMatch(new RegExp(`^Nothing to undo: the latest run, ${runId}, was already undone \\(`))
})

it('refuses with exit 1, naming the changed path, and changes nothing', async () => {
  const s = oldLayout()
  await apply(s, migrationPlan(s))
  s.write(path.join(s.codexHome, 'models_cache.json'), '{}\n')
  const everything = snapshot(s.root)
  const result = cli(['undo'], s.env)
  expect(result.status).toBe(1)
  expect(result.stdout).toContain('Nothing was changed')
  expect(result.stdout).toContain('~/.codex/models_cache.json: appeared since the run')
  expect(snapshot(s.root)).toEqual(everything)

  const json = cliJson(['undo'], s.env)
  expect(json.status).toBe(1)
  expect(json.json).toMatchObject({status: 'refused', changed: [{path: path.join(s.codexHome, 'models_cache.json'), change: 'appeared since the run'}]})
})

it('a run id that is not one, or unknown, is bad usage (exit 2)', async () => {
  const s = oldLayout()
  expect(cli(['undo', '../x'], s.env)).toMatchObject({status: 2})
  await apply(s, migrationPlan(s))
  const unknown = cli(['undo', '20200101T000000Z-abcd'], s.env)
  expect(unknown.status).toBe(2)
  expect(unknown.stderr).toMatch(/no fix run 20200101T000000Z-abcd/)
})

it('another codex-doctor holding the lock is bad usage (exit 2) naming its pid', async () => {
  const s = oldLayout()
  await apply(s, migrationPlan(s))
  writeFileSync(path.join(s.env.XDG_STATE_HOME!, 'codex-doctor', 'lock'), JSON.stringify({pid: process.pid, started: 'now', host: os.hostname(), command: 'fix'}))
  const result = cli(['undo'], s.env)
  expect(result.status).toBe(2)
  expect(result.stderr).toContain(`pid ${process.pid}`)
})
