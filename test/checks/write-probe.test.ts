import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {type BinaryIdentity, CACHE_FILE, emptyCache, lookup, parseCache, remember} from '../../src/context/binary-cache.js'
import {meaningfulStderr, PROBE_SERVER, type ProbeObservation, probeVerdict, writeProbe} from '../../src/checks/write-probe.js'
import {resolveContext} from '../../src/context/resolve.js'
import {runCheck} from '../../src/engine/run-checks.js'
import {CODEX} from '../codex-bins.js'
import {type Sandbox, snapshot, sandboxesPerTest} from '../sandbox.js'

const makeSandbox = sandboxesPerTest()

/** A sandbox whose TMPDIR is its own empty folder, so a test can see that the probe cleans up. */
function sandbox(): Sandbox & {tmp: string} {
  const s = makeSandbox()
  const tmp = s.p('tmp')
  mkdirSync(tmp)
  s.env.TMPDIR = tmp
  return Object.assign(s, {tmp})
}

const readFileSafe = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

const context = (s: Sandbox, codexBin: string | undefined, probe = true) => resolveContext({env: s.env, cwd: s.home, checkIds: CHECK_IDS, codexBin, probe})
const cacheFile = (s: Sandbox) => path.join(s.root, 'cache', 'codex-doctor', CACHE_FILE)

describe('write-probe on the real releases', () => {
  it('fails 0.87.0, which replaces the linked config.toml, and prints the upgrade command', async () => {
    const s = sandbox()
    const result = await runCheck(writeProbe, await context(s, CODEX.v087))
    expect(result.status).toBe('fail')
    expect(result.summary).toBe('this Codex replaces a linked config.toml with a regular file: upgrade')
    expect(result.remediation?.commands).toEqual(['npm install -g @openai/codex@latest'])
    expect(result.details).toMatchObject({cached: false, version: '0.87.0', after: {firstLink: 'file'}})
    expect(readdirSync(s.tmp)).toEqual([])
  })

  it.each([
    ['0.89.0', CODEX.v089],
    ['latest', CODEX.latest],
  ])('passes %s, leaves no throwaway folder and touches nothing of the user', async (_, bin) => {
    const s = sandbox()
    const before = snapshot(s.home)
    const codexHomeBefore = snapshot(s.codexHome)
    const result = await runCheck(writeProbe, await context(s, bin))
    expect(result.status).toBe('pass')
    expect(result.summary).toBe('this Codex follows link chains and writes the target')
    expect(result.details).toMatchObject({cached: false, bin, keyedBy: [bin, expect.stringMatching(/\/codex$/)], after: {firstLink: 'link', secondLink: 'link', targetWritten: true}})
    expect(readdirSync(s.tmp)).toEqual([])
    // HOME holds CODEX_HOME and the dotfiles: byte for byte, mode and mtime as they were
    expect(snapshot(s.home)).toEqual(before)
    expect(snapshot(s.codexHome)).toEqual(codexHomeBefore)
  })

  it('answers from the cache for the same binary, without running it again', async () => {
    const s = sandbox()
    const first = await runCheck(writeProbe, await context(s, CODEX.v089))
    expect(first.details.cached).toBe(false)
    const cache = JSON.parse(readFileSync(cacheFile(s), 'utf8'))
    // one record per binary: its identity (the launcher and the native binary it starts), its version and the verdict
    expect(cache.binaries[CODEX.v089]).toMatchObject({identity: {bin: {path: CODEX.v089}, platform: {path: expect.stringMatching(/vendor\/.*\/codex$/)}}, version: {version: '0.89.0'}, probe: {status: 'pass'}})

    // a temp folder that does not exist: a probe could not even start, a cached verdict needs none
    s.env.TMPDIR = s.p('no-such-tmp')
    const second = await runCheck(writeProbe, await context(s, CODEX.v089))
    expect(second).toMatchObject({status: 'pass', summary: first.summary, details: {cached: true, keyedBy: [CODEX.v089, expect.stringMatching(/codex$/)]}})
    expect(second.details).not.toHaveProperty('after')
    expect(readdirSync(s.tmp)).toEqual([])
  })

  it('keeps a cached failure with its remediation', async () => {
    const s = sandbox()
    await runCheck(writeProbe, await context(s, CODEX.v087))
    const again = await runCheck(writeProbe, await context(s, CODEX.v087))
    expect(again).toMatchObject({status: 'fail', details: {cached: true}})
    expect(again.remediation?.commands).toEqual(['npm install -g @openai/codex@latest'])
  })

  it('probes again when the binary changed since its verdict was cached', async () => {
    const s = sandbox()
    await runCheck(writeProbe, await context(s, CODEX.v089))
    const cache = JSON.parse(readFileSync(cacheFile(s), 'utf8'))
    // as if the verdict came from an earlier build: the same launcher, another native binary, a wrong verdict
    const record = cache.binaries[CODEX.v089]
    cache.binaries[CODEX.v089] = {...record, identity: {...record.identity, platform: {...record.identity.platform, mtimeMs: 1}}, probe: {...record.probe, status: 'fail', summary: 'stale'}}
    writeFileSync(cacheFile(s), JSON.stringify(cache))
    const result = await runCheck(writeProbe, await context(s, CODEX.v089))
    expect(result).toMatchObject({status: 'pass', details: {cached: false}})
  })

  it('still probes when the cache is garbage or cannot be written', async () => {
    const s = sandbox()
    mkdirSync(path.dirname(cacheFile(s)), {recursive: true})
    writeFileSync(cacheFile(s), '{not json')
    expect(await runCheck(writeProbe, await context(s, CODEX.v089))).toMatchObject({status: 'pass', details: {cached: false}})

    const blocked = sandbox()
    // a file where the cache folder's parent should be
    writeFileSync(blocked.p('cache'), 'in the way')
    const result = await runCheck(writeProbe, await context(blocked, CODEX.v089))
    expect(result).toMatchObject({status: 'pass', details: {cached: false, cacheError: expect.stringMatching(/could not write/)}})
  })

  it('skips with --no-probe, running nothing', async () => {
    const s = sandbox()
    const result = await runCheck(writeProbe, await context(s, CODEX.v089, false))
    expect(result).toMatchObject({status: 'skip', summary: 'the write probe is off (--no-probe)'})
    expect(readdirSync(s.tmp)).toEqual([])
  })

  it('skips, saying why, when there is no Codex to probe', async () => {
    const s = sandbox()
    const missing = s.p('nowhere', 'codex')
    const result = await runCheck(writeProbe, await context(s, missing))
    expect(result).toMatchObject({status: 'skip', summary: `no Codex to probe: ${missing} does not exist`})
  })

  it('runs beside `codex --version`, and is stopped, its process killed and its folder removed, when the version says there is nothing to probe', async () => {
    const s = sandbox()
    // --version fails at once; the probe's `mcp add` would hang for a minute (a sleep named after this sandbox)
    const bin = s.write(s.p('fake-bin', 'codex'), `#!/bin/sh\nif [ "$1" = --version ]; then echo broken >&2; exit 3; fi\nexec sleep 61.${process.pid}\n`, 0o755)
    const started = Date.now()
    const result = await runCheck(writeProbe, await context(s, bin))
    expect(result).toMatchObject({status: 'skip', summary: expect.stringMatching(/^no Codex to probe: `codex --version` exited with code 3/)})
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(readdirSync(s.tmp)).toEqual([])
    // no `mcp add` left running
    const running = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (readFileSafe(`/proc/${pid}/cmdline`) ?? '').includes(`61.${process.pid}`))
    expect(running).toEqual([])
  })

  it('reports Codex refusing the write with its first real stderr line', async () => {
    const s = sandbox()
    // a fake that answers --version like Codex but fails the write, after Codex's harmless warning
    const bin = s.write(
      s.p('fake-bin', 'codex'),
      '#!/bin/sh\nif [ "$1" = --version ]; then echo "codex-cli 0.99.0"; exit 0; fi\n'
        + 'echo "WARNING: proceeding, even though we could not update PATH: Refusing to create helper binaries under temporary dir" >&2\n'
        + 'echo "Error: Permission denied (os error 13)" >&2\nexit 1\n',
      0o755,
    )
    const result = await runCheck(writeProbe, await context(s, bin))
    expect(result).toMatchObject({status: 'error', summary: `\`codex mcp add ${PROBE_SERVER}\` exited with code 1: Error: Permission denied (os error 13)`})
    expect(readdirSync(s.tmp)).toEqual([])
    // an error is not a verdict on the binary: its version is remembered, no probe verdict
    const cache = JSON.parse(readFileSync(cacheFile(s), 'utf8'))
    expect(cache.binaries[bin]).toMatchObject({version: {version: '0.99.0'}})
    expect(cache.binaries[bin].probe).toBeUndefined()
  })
})

describe('probeVerdict', () => {
  const ok = {exitCode: 0, signal: undefined, stderr: '', stdout: '', timedOut: false, failedToStart: undefined}
  const observed = (o: Partial<ProbeObservation>): ProbeObservation => ({add: ok, first: 'link', second: 'link', targetWritten: true, ...o})

  it.each<[Partial<ProbeObservation>, string, RegExp]>([
    [{}, 'pass', /follows link chains/],
    [{first: 'file', targetWritten: false}, 'fail', /replaces a linked config\.toml/],
    [{second: 'file', targetWritten: false}, 'fail', /replaces the next link/],
    [{targetWritten: false}, 'error', /did not reach/],
    [{first: 'missing'}, 'error', /did not reach/],
    [{add: {...ok, exitCode: 2, stderr: 'Error: Symbolic link loop\n'}}, 'error', /exited with code 2: Error: Symbolic link loop$/],
    [{add: {...ok, timedOut: true, exitCode: undefined}}, 'error', /did not finish within 15 s/],
    [{add: {...ok, failedToStart: 'ENOENT', exitCode: undefined}}, 'error', /cannot run codex: ENOENT/],
  ])('%j → %s', (o, status, summary) => {
    const verdict = probeVerdict(observed(o), 'brew upgrade codex')
    expect(verdict.status).toBe(status)
    expect(verdict.summary).toMatch(summary)
    if (status === 'fail') expect(verdict.remediation?.commands).toEqual(['brew upgrade codex'])
  })

  it("drops Codex's warning about a CODEX_HOME under the temp folder", () => {
    expect(meaningfulStderr('WARNING: proceeding, even though we could not create PATH aliases: Refusing to create helper binaries under temporary dir "/tmp"\n\nboom\n')).toBe('boom')
  })
})

describe('the binary cache', () => {
  const file = (p: string, ino = 7) => ({path: p, size: 100, mtimeMs: 5, ino})
  const identity: BinaryIdentity = {bin: file('/usr/local/lib/node_modules/@openai/codex/bin/codex.js'), platform: file('/usr/local/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex', 8)}
  const cache = remember(emptyCache(), identity, {probe: {status: 'pass', summary: 'ok', probedAt: '2026-01-20T00:00:00.000Z'}})

  it('answers for the same binary only: the file run, and the native binary a launcher starts', () => {
    expect(lookup(cache, identity)).toMatchObject({probe: {status: 'pass'}})
    expect(lookup(cache, {...identity, bin: {...identity.bin, mtimeMs: 6}})).toBeNull()
    expect(lookup(cache, {...identity, bin: {...identity.bin, ino: 9}})).toBeNull()
    expect(lookup(cache, {...identity, platform: {...identity.platform!, size: 101}})).toBeNull()
    expect(lookup(cache, {...identity, platform: null})).toBeNull()
    expect(lookup(cache, {...identity, bin: file('/opt/homebrew/bin/codex')})).toBeNull()
  })

  it('keeps what it learned of one binary together, and starts afresh for a changed one', () => {
    const both = remember(cache, identity, {version: {version: '0.89.0', rawVersion: 'codex-cli 0.89.0'}})
    expect(lookup(both, identity)).toMatchObject({version: {version: '0.89.0'}, probe: {status: 'pass'}})
    const changed = {...identity, bin: {...identity.bin, mtimeMs: 6}}
    expect(lookup(remember(both, changed, {version: {version: '0.90.0', rawVersion: 'codex-cli 0.90.0'}}), changed)).toEqual({identity: changed, version: {version: '0.90.0', rawVersion: 'codex-cli 0.90.0'}})
  })

  it('reads what it wrote and ignores what it cannot trust', () => {
    expect(parseCache(JSON.stringify(cache))).toEqual(cache)
    expect(parseCache('')).toEqual(emptyCache())
    expect(parseCache('[]')).toEqual(emptyCache())
    expect(parseCache(JSON.stringify({schemaVersion: 1, binaries: {}}))).toEqual(emptyCache())
    expect(parseCache(JSON.stringify({schemaVersion: 2, binaries: {'/x': {identity: identity, probe: {status: 'maybe'}}}}))).toEqual(emptyCache())
  })
})
