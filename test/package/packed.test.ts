/**
 * The package as users get it: `npm pack`, `npm install -g` of the tarball into a throwaway
 * prefix, then the installed `codex-doctor`. The bundle carries every dependency, so the install
 * needs no registry and no node_modules of this repository.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/titles.js'
import {REPO_ROOT} from '../codex-bins.js'
import {makeSandbox, type Sandbox} from '../sandbox.js'

const npm = (args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT) => {
  const r = spawnSync('npm', args, {cwd, env, encoding: 'utf8', timeout: 120_000})
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

describe('the packed package, installed with npm install -g', () => {
  let s: Sandbox
  let root: string
  let installed: string
  let tarball: string
  let npmEnv: NodeJS.ProcessEnv
  const run = (args: string[]) => spawnSync(installed, args, {env: s.env, cwd: s.home, encoding: 'utf8', timeout: 120_000})

  beforeAll(() => {
    s = makeSandbox()
    root = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-pack-'))
    // npm itself must not write into the real home: its cache and config go to the throwaway folder
    const env = (npmEnv = {...process.env, HOME: s.home, npm_config_cache: path.join(root, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false'})
    // the bundle was built by `npm test`; packing again must not rebuild it under other tests' feet
    npm(['pack', '--ignore-scripts', '--pack-destination', root], env)
    tarball = path.join(root, readdirSync(root).find((f) => f.endsWith('.tgz'))!)
    npm(['install', '-g', '--prefix', path.join(root, 'prefix'), '--offline', tarball], env, root)
    installed = path.join(root, 'prefix', 'bin', 'codex-doctor')
  }, 240_000)
  afterAll(() => {
    s.cleanup()
    rmSync(root, {recursive: true, force: true})
  })

  it('holds the bundle and nothing of the sources or tests', () => {
    const pkg = path.join(root, 'prefix', 'lib', 'node_modules', 'codex-doctor')
    expect(readdirSync(pkg).sort()).toEqual(expect.arrayContaining(['bin', 'dist', 'package.json']))
    expect(readdirSync(pkg)).not.toContain('src')
    expect(readdirSync(pkg)).not.toContain('node_modules')
    expect(readdirSync(path.join(pkg, 'dist'))).toEqual(['bundle'])
  })

  it('ships no code cache, and its postinstall trains one for the Node that installed it', () => {
    const listed = spawnSync('tar', ['-tzf', tarball], {encoding: 'utf8'})
    expect(listed.stdout).toContain('package/dist/bundle/cli.cjs')
    expect(listed.stdout).not.toContain('code-cache/')
    // npm runs the postinstall with the node on its PATH
    const node = spawnSync('node', ['-p', 'process.version + "-" + process.platform + "-" + process.arch'], {env: npmEnv, encoding: 'utf8'}).stdout.trim()
    const cache = path.join(root, 'prefix', 'lib', 'node_modules', 'codex-doctor', 'dist', 'bundle', 'code-cache')
    expect(readdirSync(cache)).toEqual([node])
    expect(readdirSync(path.join(cache, node)).some((f) => f.startsWith('cli.cjs-'))).toBe(true)
  })

  it('--version', () => {
    const r = run(['--version'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^codex-doctor\/\d+\.\d+\.\d+ \w+-\w+ node-v\d+/)
  })

  it('checks', () => {
    const r = run(['checks'])
    expect(r.status).toBe(0)
    expect(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(CHECK_IDS)
  })

  it('demo, which runs the installed command itself, through oclif, on a throwaway machine', () => {
    const r = run(['demo', '--sessions', '3', '--codex-bin', path.join(REPO_ROOT, 'node_modules', 'codex-latest', 'bin', 'codex.js')])
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/3 session files were written into the dotfiles repository/)
    expect(r.stdout).toMatch(/Fix run \S+:/)
    expect(r.stdout).toMatch(/After the fixes:\n✓ codex-version/)
    expect(r.stdout).toMatch(/Undid run \S+:/)
  })

  it('help of a subcommand, through oclif', () => {
    const r = run(['undo', '--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('$ codex-doctor undo')
  })
})
