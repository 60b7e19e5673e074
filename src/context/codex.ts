import {constants} from 'node:fs'
import {access, realpath} from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'

import {run} from '../process.js'
import type {CodexInfo, InstallMethod} from './types.js'

export const VERSION_TIMEOUT_MS = 5000

/** The first executable `name` on PATH, as a shell would find it. */
export async function findOnPath(name: string, envPath: string | undefined): Promise<string | null> {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here; keep looking
    }
  }
  return null
}

/** `codex-cli 0.89.0` (or `codex-cli 0.90.0-alpha.1`) → `0.89.0`; anything else → null. */
export function parseVersion(stdout: string): string | null {
  const match = /^codex-cli\s+(\S+)\s*$/m.exec(stdout.trim())
  if (!match?.[1]) return null
  return semver.valid(match[1])
}

/** How Codex was installed, from the real path of its binary. */
export function installMethod(realPath: string): InstallMethod {
  const p = realPath.replaceAll('\\', '/')
  if (p.startsWith('/nix/store/')) return 'nix'
  if (/\/(Cellar|Caskroom)\//.test(p) || p.startsWith('/opt/homebrew/') || p.startsWith('/home/linuxbrew/.linuxbrew/')) return 'homebrew'
  if (p.includes('/.bun/install/global/') || p.includes('/.bun/bin/')) return 'bun'
  if (/\/pnpm\/(global\/)?\d*\/?\.pnpm\//.test(p) || /\/pnpm(\/global)?\//.test(p) || p.includes('/.pnpm/')) return 'pnpm'
  if (p.includes('/node_modules/@openai/codex') || /\/node_modules\/[^/]+\/(bin\/codex\.js|vendor\/)/.test(p)) return 'npm'
  return 'other'
}

/** The command that upgrades Codex for an install method. */
export function upgradeCommand(method: InstallMethod): string {
  switch (method) {
    case 'npm':
      return 'npm install -g @openai/codex@latest'
    case 'pnpm':
      return 'pnpm add -g @openai/codex@latest'
    case 'bun':
      return 'bun add -g @openai/codex@latest'
    case 'homebrew':
      return 'brew upgrade codex'
    case 'nix':
      return 'nix flake update && just switch   # or bump the codex package in your Nix configuration'
    case 'other':
      return 'codex self-update   # or reinstall: npm install -g @openai/codex@latest'
  }
}

/** Finds the binary and asks its version, once; never throws. */
export async function inspectCodex(codexBin: string | undefined, env: NodeJS.ProcessEnv): Promise<CodexInfo> {
  const none = {realPath: null, version: null, rawVersion: null, install: 'other' as InstallMethod}
  const bin = codexBin ? path.resolve(codexBin) : await findOnPath('codex', env.PATH)
  if (!bin) return {...none, bin: null, error: 'no `codex` on PATH'}
  let real: string
  try {
    real = await realpath(bin)
  } catch {
    return {...none, bin, error: `${bin} does not exist`}
  }
  const install = installMethod(real)
  const result = await run(bin, ['--version'], {env, timeoutMs: VERSION_TIMEOUT_MS})
  const rawVersion = result.stdout.trim().split('\n')[0]?.slice(0, 200) ?? ''
  if (result.timedOut) return {bin, realPath: real, version: null, rawVersion: null, install, error: `\`codex --version\` did not answer within ${VERSION_TIMEOUT_MS / 1000} s`}
  if (result.failedToStart) return {bin, realPath: real, version: null, rawVersion: null, install, error: `cannot run ${bin}: ${result.failedToStart}`}
  const version = parseVersion(result.stdout)
  if (result.exitCode !== 0) {
    return {bin, realPath: real, version: null, rawVersion, install, error: `\`codex --version\` exited with code ${result.exitCode ?? result.signal}`}
  }
  if (!version) return {bin, realPath: real, version: null, rawVersion, install, error: `unexpected output from \`codex --version\`: ${JSON.stringify(rawVersion)}`}
  return {bin, realPath: real, version, rawVersion, install, error: null}
}
