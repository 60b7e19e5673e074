import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The package's folder and version, from the package.json above this file: dist/ from tsc,
 * dist/bundle/ or dist/bundle/chunks/ from the bundle (where a module lands is the bundler's choice).
 */
function readPackage(): {root: string; version: string} {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    const file = fileURLToPath(new URL(rel, import.meta.url))
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'codex-doctor' && pkg.version) return {root: path.dirname(file), version: pkg.version}
    } catch {
      // not here
    }
  }
  return {root: fileURLToPath(new URL('../', import.meta.url)), version: '0.0.0'}
}

let found: {root: string; version: string} | undefined
const pkg = () => (found ??= readPackage())

/** The bundle knows its version (scripts/build.js defines __VERSION__): a run reads no package.json for it. */
declare const __VERSION__: string | undefined
export const VERSION: string = typeof __VERSION__ === 'string' ? __VERSION__ : pkg().version

/** The installed package's folder (bin/run.js is under it). */
export function packageRoot(): string {
  return pkg().root
}
