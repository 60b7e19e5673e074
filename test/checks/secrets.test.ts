import {chmodSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {secrets} from '../../src/checks/secrets.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {AUTH, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox) {
  const ctx = await resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
  const outcome = await secrets.run(ctx)
  // whatever the verdict, the secret's text never reaches the result
  expect(JSON.stringify(outcome)).not.toContain('SECRET-never-print-me')
  return outcome
}

/** The mistake: auth.json written into the repository's codex folder, force-added and committed. */
function commitAuth(s: Sandbox): string {
  const file = s.write(path.join(s.codexDir, 'auth.json'), AUTH, 0o600)
  s.git('add', '-f', 'config/codex/auth.json')
  s.git('commit', '-q', '-m', 'oops')
  return file
}

describe('secrets', () => {
  it('the new layout passes: nothing tracked, auth.json and history 0600', async () => {
    const outcome = await check(sandbox())
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.details).toMatchObject({tracked: [], everCommitted: [], unignored: [], modes: []})
  })

  it('the old layout passes too: state lives in the repository but is ignored, never committed', async () => {
    const outcome = await check(sandbox({layout: 'old'}))
    expect(outcome.status, outcome.summary).toBe('pass')
  })

  it('a tracked auth.json fails, with the untrack, ignore and rotate commands', async () => {
    const s = sandbox()
    const file = commitAuth(s)
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('git tracks config/codex/auth.json')
    expect(outcome.details).toMatchObject({repo: s.dotfiles, gitignorePath: path.join(s.dotfiles, '.gitignore'), tracked: [file], everCommitted: [{path: file, commits: [expect.stringMatching(/^[0-9a-f]{7,}$/)]}]})
    expect(outcome.remediation).toMatchObject({automatic: true})
    expect(outcome.remediation?.commands).toEqual([
      `git -C ${s.dotfiles} rm --cached -- config/codex/auth.json`,
      `printf '%s\\n' config/codex/auth.json >> ${path.join(s.dotfiles, '.gitignore')}`,
      'codex logout',
      'codex login',
    ])
    expect(outcome.remediation?.text).toMatch(/rotate the credential/)
    expect(outcome.remediation?.text).toMatch(/git filter-repo --invert-paths --path config\/codex\/auth\.json/)
  })

  it('untracked and committed, but still in history: flagged (rotate), no longer a failure', async () => {
    const s = sandbox()
    const file = commitAuth(s)
    s.git('rm', '-q', '--cached', 'config/codex/auth.json')
    s.write(path.join(s.dotfiles, '.gitignore'), 'config/codex/config.toml\nconfig/codex/auth.json\n')
    s.git('add', '.gitignore')
    s.git('commit', '-q', '-m', 'untrack the secret')
    const outcome = await check(s)
    expect(outcome.status).toBe('pass')
    expect(outcome.summary).toMatch(/git history still holds config\/codex\/auth\.json: rotate it \(codex logout, then codex login\)/)
    expect(outcome.details).toMatchObject({tracked: [], everCommitted: [{path: file, commits: [expect.any(String)]}]})
    expect(outcome.remediation?.commands).toEqual(['codex logout', 'codex login'])
  })

  it('a secret in the repository that nothing ignores warns: git add -A would commit it', async () => {
    const s = sandbox()
    const file = s.write(path.join(s.codexDir, 'nested', '.credentials.json'), '{"token":"SECRET-never-print-me"}\n', 0o600)
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.details).toMatchObject({unignored: [file], tracked: []})
  })

  it('a world-readable auth.json fails with its mode', async () => {
    const s = sandbox()
    const auth = path.join(s.codexHome, 'auth.json')
    chmodSync(auth, 0o644)
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.details).toMatchObject({modes: [{path: auth, mode: '644'}]})
    expect(outcome.summary).toBe(`${auth} is mode 0644 (must be 0600)`)
    expect(outcome.remediation?.commands).toEqual([`chmod 600 ${auth}`])
  })

  it('without a repository, still checks the modes', async () => {
    const s = sandbox({layout: 'unlinked'})
    chmodSync(path.join(s.codexHome, 'history.jsonl'), 0o640)
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.details).toMatchObject({repo: null, modes: [{mode: '640'}]})
  })
})
