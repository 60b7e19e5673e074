import {describe, expect, it} from 'vitest'

import {parseConfig} from '../../src/context/config.js'
import {UsageError} from '../../src/errors.js'

const IDS = ['links', 'secrets']

describe('codex-doctor.toml', () => {
  it('fills defaults and keeps what it is given', () => {
    const config = parseConfig('min_version = "0.90.0"\nlinks = ["config.toml", "prompts", "skills"]\n', 'f.toml', IDS)
    expect(config).toEqual({min_version: '0.90.0', codex_dir: 'config/codex', links: ['config.toml', 'prompts', 'skills'], skip: [], extra_state: []})
  })

  it.each([
    ['codex_dir = "x"\nfoo = 1\n', /^f\.toml:2: unknown key "foo"/],
    ['links = "config.toml"\n', /^f\.toml:1: "links" must be an array of strings/],
    ['\n\nmin_version = "soon"\n', /^f\.toml:3: "min_version" must be a version/],
    ['skip = ["links", "nope"]\n', /^f\.toml:1: "skip" names unknown check "nope"/],
    ['codex_dir = "../elsewhere"\n', /^f\.toml:1: "codex_dir" must be a relative path/],
    ['links = [\n', /^f\.toml:2:1: /],
  ])('rejects %j with the file, key and line', (text, message) => {
    expect(() => parseConfig(text, 'f.toml', IDS)).toThrow(UsageError)
    expect(() => parseConfig(text, 'f.toml', IDS)).toThrow(message)
  })
})
