/** Spawns the built CLI (bin/run.js → dist/) the way a user's shell would. */
import {spawnSync} from 'node:child_process'
import path from 'node:path'

import {REPO_ROOT} from '../codex-bins.js'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

export function cli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): CliResult {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'run.js'), ...args], {env, cwd: cwd ?? env.HOME, encoding: 'utf8', timeout: 120_000})
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

/** Runs with --json and parses stdout, which must be exactly one JSON document. */
export function cliJson(args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  const result = cli([...args, '--json'], env, cwd)
  let json
  try {
    json = JSON.parse(result.stdout)
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.status}):\n${result.stdout}\n${result.stderr}`)
  }
  return {...result, json}
}
