import * as semver from '../semver.js'

import {LAST_CLOBBERING_VERSION} from '../codex-facts.js'
import {INSTALL_COMMAND, INSTALL_NAMES, upgradeCommand} from '../context/codex.js'
import type {CodexInfo} from '../context/types.js'
import type {Check, Outcome} from './types.js'
import {CHECK_TITLES} from './titles.js'

/** What the report shows about the binary, whatever the verdict. */
function binaryDetails(info: CodexInfo): Record<string, unknown> {
  return {
    bin: info.bin,
    realPath: info.realPath,
    version: info.version,
    rawVersion: info.rawVersion,
    install: info.install,
    ...(info.cached !== undefined ? {cached: info.cached} : {}),
    ...(info.temp ? {tempDir: info.temp.dir, tempNote: info.temp.fellBack} : {}),
  }
}

/** ` (ran in /tmp: $TMPDIR (/gone) does not exist)`, when Codex could not run in $TMPDIR. */
const tempWords = (info: CodexInfo) => (info.temp?.fellBack ? ` (ran in ${info.temp.dir}: ${info.temp.fellBack})` : '')

/** The verdict on a binary that was found and asked its version. */
export function judgeVersion(info: CodexInfo, minVersion: string): Outcome {
  const details = {...binaryDetails(info), minVersion}
  if (!info.bin || !info.realPath) {
    return {
      status: 'fail',
      summary: info.error ?? 'Codex not found',
      details,
      remediation: {
        text: info.bin ? 'Point --codex-bin at an existing Codex binary, or install Codex.' : 'Install Codex, or name it with --codex-bin PATH.',
        commands: [INSTALL_COMMAND],
      },
    }
  }
  if (!info.version) return {status: 'error', summary: info.error ?? 'could not read the version of Codex', details}
  const how = INSTALL_NAMES[info.install]
  if (semver.gte(info.version, minVersion)) return {status: 'pass', summary: `Codex ${info.version} (${how}) ≥ ${minVersion}${tempWords(info)}`, details}
  const why = semver.lte(info.version, LAST_CLOBBERING_VERSION)
    ? `versions ≤ ${LAST_CLOBBERING_VERSION} replace a linked config.toml with a regular file`
    : 'the minimum set by --min-version or min_version'
  return {
    status: 'fail',
    summary: `Codex ${info.version} (${how}) < ${minVersion}: ${why}`,
    details,
    remediation: {text: `Upgrade Codex (installed with ${how}).`, commands: [upgradeCommand(info.install)]},
  }
}

export const codexVersion: Check = {
  id: 'codex-version',
  title: CHECK_TITLES['codex-version'],
  async run(ctx) {
    return judgeVersion(await ctx.codex(), ctx.minVersion)
  },
}
