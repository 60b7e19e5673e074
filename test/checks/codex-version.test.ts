import {mkdirSync, readdirSync, readFileSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {codexVersion} from '../../src/checks/codex-version.js'
import {CHECK_IDS} from '../../src/checks/index.js'
import {chooseTempDir, inspectCodex} from '../../src/context/codex.js'
import {resolveContext} from '../../src/context/resolve.js'
import type {Context} from '../../src/context/types.js'
import {runCheck} from '../../src/engine/run-checks.js'
import {CODEX, LATEST_VERSION} from '../codex-bins.js'
import {type Sandbox, snapshot, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

const context = (s: Sandbox, extra: Partial<Parameters<typeof resolveContext>[0]> = {}) =>
  resolveContext({env: s.env, cwd: s.home, checkIds: CHECK_IDS, probe: false, ...extra})

/** A shell script standing in for Codex, for what no real release does (hang, garbage, crash). */
function fakeCodex(s: Sandbox, body: string): string {
  return s.write(s.p('fake-bin', 'codex'), `#!/bin/sh\n${body}\n`, 0o755)
}

/** The context, with `codex --version` given a short limit so a hang test takes a fraction of a second. */
async function withShortLimit(s: Sandbox, bin: string): Promise<Context> {
  const ctx = await context(s, {codexBin: bin})
  return {...ctx, codex: () => inspectCodex(bin, s.env, {timeoutMs: 300})}
}

describe('codex-version on the real releases', () => {
  it('fails 0.87.0 and prints the npm upgrade command', async () => {
    const s = sandbox()
    const result = await runCheck(codexVersion, await context(s, {codexBin: CODEX.v087}))
    expect(result.status).toBe('fail')
    expect(result.summary).toBe('Codex 0.87.0 (npm) < 0.88.0: versions ≤ 0.87.0 replace a linked config.toml with a regular file')
    expect(result.remediation?.commands).toEqual(['npm install -g @openai/codex@latest'])
    expect(result.details).toMatchObject({bin: CODEX.v087, realPath: CODEX.v087, version: '0.87.0', install: 'npm'})
  })

  it.each([
    ['0.89.0', CODEX.v089],
    [LATEST_VERSION, CODEX.latest],
  ])('passes %s', async (version, bin) => {
    const s = sandbox()
    const result = await runCheck(codexVersion, await context(s, {codexBin: bin}))
    expect(result.status).toBe('pass')
    expect(result.summary).toBe(`Codex ${version} (npm) ≥ 0.88.0`)
    expect(result.details).toMatchObject({bin, realPath: bin, version, rawVersion: `codex-cli ${version}`, install: 'npm'})
    expect(result.remediation).toBeNull()
  })

  it('fails a release below --min-version', async () => {
    const s = sandbox()
    const result = await runCheck(codexVersion, await context(s, {codexBin: CODEX.latest, minVersion: '1.0.0'}))
    expect(result.status).toBe('fail')
    expect(result.summary).toBe(`Codex ${LATEST_VERSION} (npm) < 1.0.0: the minimum set by --min-version or min_version`)
    expect(result.remediation?.commands).toEqual(['npm install -g @openai/codex@latest'])
  })

  it('takes the minimum from codex-doctor.toml', async () => {
    const s = sandbox()
    s.write(path.join(s.dotfiles, 'codex-doctor.toml'), 'min_version = "0.117.0"\n')
    const result = await runCheck(codexVersion, await context(s, {codexBin: CODEX.v116}))
    expect(result).toMatchObject({status: 'fail', summary: 'Codex 0.116.0 (npm) < 0.117.0: the minimum set by --min-version or min_version'})
  })

  it('asks the version without writing into CODEX_HOME or leaving anything in the temp folder', async () => {
    const s = sandbox()
    // CODEX_HOME outside TMPDIR: left to itself, Codex would put helper links in CODEX_HOME/tmp
    const tmp = s.p('tmp')
    mkdirSync(tmp)
    const before = snapshot(s.codexHome)
    const result = await runCheck(codexVersion, await context(s, {codexBin: CODEX.latest, env: {...s.env, TMPDIR: tmp}}))
    expect(result.status).toBe('pass')
    expect(snapshot(s.codexHome)).toEqual(before)
    expect(readdirSync(tmp)).toEqual([])
  })

  it('finds `codex` on PATH and reports the link it went through', async () => {
    const s = sandbox()
    const binDir = s.p('path-bin')
    mkdirSync(binDir)
    symlinkSync(CODEX.v089, path.join(binDir, 'codex'))
    const result = await runCheck(codexVersion, await context(s, {env: {...s.env, PATH: `${binDir}${path.delimiter}${s.env.PATH}`}}))
    expect(result.status).toBe('pass')
    expect(result.details).toMatchObject({bin: path.join(binDir, 'codex'), realPath: CODEX.v089, version: '0.89.0', install: 'npm'})
  })
})

describe('codex-version when Codex cannot answer', () => {
  it('fails with the install command when no codex is on PATH', async () => {
    const s = sandbox()
    const empty = s.p('empty-bin')
    mkdirSync(empty)
    // a folder named codex is not a program
    mkdirSync(path.join(empty, 'codex'))
    const result = await runCheck(codexVersion, await context(s, {env: {...s.env, PATH: empty}}))
    expect(result).toMatchObject({status: 'fail', summary: 'no `codex` on PATH'})
    expect(result.remediation?.commands).toEqual(['npm install -g @openai/codex@latest'])
  })

  it('fails with the install command when --codex-bin does not exist', async () => {
    const s = sandbox()
    const missing = s.p('nowhere', 'codex')
    const result = await runCheck(codexVersion, await context(s, {codexBin: missing}))
    expect(result).toMatchObject({status: 'fail', summary: `${missing} does not exist`})
    expect(result.remediation?.commands).toEqual(['npm install -g @openai/codex@latest'])
  })

  it('reports a binary that hangs, and kills it with its children', async () => {
    const s = sandbox()
    // the shell waits for its child, which holds the output pipes: both must die
    const bin = fakeCodex(s, 'sleep 60')
    const result = await runCheck(codexVersion, await withShortLimit(s, bin))
    expect(result).toMatchObject({status: 'error', summary: '`codex --version` did not answer within 0.3 s'})
  })

  it('quotes the first line of garbage output, cut short', async () => {
    const s = sandbox()
    const bin = fakeCodex(s, `echo 'Welcome to ${'a'.repeat(200)}'\necho 'second line'`)
    const result = await runCheck(codexVersion, await withShortLimit(s, bin))
    expect(result.status).toBe('error')
    expect(result.summary).toMatch(/^unexpected output from `codex --version`: "Welcome to a+…"$/)
    expect(result.summary.length).toBeLessThan(150)
    expect(result.summary).not.toContain('second line')
  })

  it('reports a non-zero exit with what the binary said', async () => {
    const s = sandbox()
    const bin = fakeCodex(s, 'echo "codex: broken install" >&2\nexit 3')
    const result = await runCheck(codexVersion, await withShortLimit(s, bin))
    expect(result).toMatchObject({status: 'error', summary: '`codex --version` exited with code 3: codex: broken install'})
  })

  it('reports a binary that prints nothing', async () => {
    const s = sandbox()
    const bin = fakeCodex(s, 'exit 0')
    const result = await runCheck(codexVersion, await withShortLimit(s, bin))
    expect(result).toMatchObject({status: 'error', summary: '`codex --version` printed nothing'})
  })

  it('reports a file it cannot run', async () => {
    const s = sandbox()
    const bin = s.write(s.p('fake-bin', 'codex'), 'not a program\n', 0o644)
    const result = await runCheck(codexVersion, await withShortLimit(s, bin))
    expect(result).toMatchObject({status: 'error', summary: `cannot run ${bin}: EACCES`})
  })

  it('keeps a multi-line complaint to its first line', async () => {
    const s = sandbox()
    const bin = fakeCodex(s, 'printf "a\\nb\\nc\\n" >&2\nexit 1')
    const result = await runCheck(codexVersion, await withShortLimit(s, bin))
    expect(result.summary).toBe('`codex --version` exited with code 1: a')
  })
})

describe('codex --version, remembered per binary', () => {
  /** A stand-in that counts its runs, so a test can tell an answer from the cache from a real run. */
  function countingCodex(s: Sandbox, version = '0.99.0'): {bin: string; runs: () => number} {
    const count = s.p('runs.txt')
    const bin = fakeCodex(s, `echo run >> '${count}'\necho "codex-cli ${version}"`)
    return {bin, runs: () => (readdirSync(s.root).includes('runs.txt') ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0)}
  }
  const ask = (s: Sandbox, bin: string, readOnly = false) => inspectCodex(bin, s.env, {cacheDir: path.join(s.root, 'cache', 'codex-doctor'), readOnly})

  it('runs a binary once; the same binary is answered from the cache; a changed one is run again', async () => {
    const s = sandbox()
    const {bin, runs} = countingCodex(s)
    expect(await ask(s, bin)).toMatchObject({version: '0.99.0', cached: false})
    expect(await ask(s, bin)).toMatchObject({version: '0.99.0', cached: true, rawVersion: 'codex-cli 0.99.0'})
    expect(runs()).toBe(1)
    // reinstalled: another file at the same path
    fakeCodex(s, `echo run >> '${s.p('runs.txt')}'\necho "codex-cli 0.100.0"`)
    expect(await ask(s, bin)).toMatchObject({version: '0.100.0', cached: false})
    expect(runs()).toBe(2)
  })

  it('an npm launcher is keyed by the native binary it starts too', async () => {
    const s = sandbox()
    const first = await ask(s, CODEX.v089)
    expect(first).toMatchObject({version: '0.89.0', cached: false})
    expect(await ask(s, CODEX.v089)).toMatchObject({cached: true})
    const cache = JSON.parse(readFileSync(path.join(s.root, 'cache', 'codex-doctor', 'codex.json'), 'utf8'))
    expect(cache.binaries[CODEX.v089].identity.platform.path).toMatch(/codex-0\.89\/vendor\/x86_64-unknown-linux-musl\/codex\/codex$/)
  })

  it('a dry run reads the cache and never writes it; a failure is never remembered', async () => {
    const s = sandbox()
    const {bin, runs} = countingCodex(s)
    await ask(s, bin, true)
    await ask(s, bin, true)
    expect(runs()).toBe(2)
    expect(readdirSync(s.root)).not.toContain('cache')
    const broken = fakeCodex(s, 'echo nope; exit 3')
    await ask(s, broken)
    const again = await ask(s, broken)
    expect(again.version).toBeNull()
    expect(again.cached).toBeUndefined()
  })
})

describe('a $TMPDIR that is gone', () => {
  it('falls back to the OS temp folder, says so, and leaves nothing there', async () => {
    const s = sandbox()
    const env = {...s.env, TMPDIR: s.p('closed-tmux-session')}
    const result = await runCheck(codexVersion, await context(s, {codexBin: CODEX.v089, env}))
    expect(result.status).toBe('pass')
    expect(result.summary).toBe(`Codex 0.89.0 (npm) ≥ 0.88.0 (ran in /tmp: $TMPDIR (${s.p('closed-tmux-session')}) does not exist)`)
    expect(result.details).toMatchObject({tempDir: '/tmp', tempNote: expect.stringMatching(/does not exist/)})
  })

  it('a $TMPDIR that is a file, and a /tmp that cannot be used, end in a folder of the cache', async () => {
    const s = sandbox()
    const file = s.write(s.p('not-a-folder'), 'x')
    const temp = await chooseTempDir({...s.env, TMPDIR: file}, path.join(s.root, 'cache', 'codex-doctor'))
    expect(temp).toEqual({dir: '/tmp', fellBack: `$TMPDIR (${file}) is not a folder`})
    expect(await chooseTempDir({...s.env, TMPDIR: 'relative/tmp'}, s.p('cache'))).toMatchObject({fellBack: '$TMPDIR (relative/tmp) is not an absolute path'})
  })
})
