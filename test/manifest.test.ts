import {Plugin} from '@oclif/core'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {expect, it} from 'vitest'

import {REPO_ROOT} from './codex-bins.js'

// oclif trusts the committed manifest over dist/: a stale one hides new flags and commands.
it('the committed .oclif.manifest.json matches the commands (npm run manifest regenerates it)', async () => {
  const plugin = new Plugin({root: REPO_ROOT, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
  await plugin.load()
  const committed = JSON.parse(readFileSync(path.join(REPO_ROOT, '.oclif.manifest.json'), 'utf8'))
  expect(committed).toEqual(JSON.parse(JSON.stringify(plugin.manifest)))
})
