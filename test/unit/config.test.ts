import {describe, expect, it} from 'vitest'

import {parseConfig} from '../../src/context/config.js'
import {addTomlLinks} from '../../src/declared/toml-edit.js'
import {UsageError} from '../../src/errors.js'

const IDS = ['links', 'secrets']

describe('codex-doctor.toml', () => {
  it('reads the old list of entry names: sources under codex_dir (config/codex when unset)', () => {
    const config = parseConfig('min_version = "0.90.0"\nlinks = ["config.toml", "prompts", "skills/greeter"]\n', 'f.toml', IDS)
    expect(config).toEqual({
      min_version: '0.90.0',
      links: [
        {target: 'config.toml', source: 'config/codex/config.toml', line: 2},
        {target: 'prompts', source: 'config/codex/prompts', line: 2},
        {target: 'skills/greeter', source: 'config/codex/skills/greeter', line: 2},
      ],
      linksForm: 'list',
      skip: [],
      extra_state: [],
    })
    expect(parseConfig('codex_dir = "ai-config/codex/"\nlinks = ["config.toml"]\n', 'f.toml', IDS).links).toEqual([{target: 'config.toml', source: 'ai-config/codex/config.toml', line: 2}])
  })

  it('reads the table form, each link with its own line, * as the last segment on both sides', () => {
    const text = '# my links\n[links]\n"config.toml" = "ai-config/codex/config.toml"\n\n"skills/*" = "skills/*"\nAGENTS = "AGENTS.md"\n'
    expect(parseConfig(text, 'f.toml', IDS)).toMatchObject({
      linksForm: 'table',
      links: [
        {target: 'config.toml', source: 'ai-config/codex/config.toml', line: 3},
        {target: 'skills/*', source: 'skills/*', line: 5},
        {target: 'AGENTS', source: 'AGENTS.md', line: 6},
      ],
    })
    expect(parseConfig('links = { "config.toml" = "codex/config.toml" }\n', 'f.toml', IDS).links).toEqual([{target: 'config.toml', source: 'codex/config.toml', line: 1}])
    expect(parseConfig('min_version = "0.90.0"\n', 'f.toml', IDS).links).toBeUndefined()
  })

  it.each([
    ['codex_dir = "x"\nfoo = 1\n', /^f\.toml:2: unknown key "foo"/],
    ['links = "config.toml"\n', /^f\.toml:1: "links" must be an array of entry names or a table/],
    ['links = ["config.toml", 3]\n', /^f\.toml:1: "links" must be an array of entry names or a table/],
    ['\n\nmin_version = "soon"\n', /^f\.toml:3: "min_version" must be a version/],
    ['skip = ["links", "nope"]\n', /^f\.toml:1: "skip" names unknown check "nope"/],
    ['codex_dir = "../elsewhere"\n', /^f\.toml:1: "codex_dir" must be a relative path/],
    ['links = [\n', /^f\.toml:2:1: /],
    ['[links]\n"config.toml" = 3\n', /^f\.toml:2: links\."config\.toml" must be a string/],
    ['[links]\nconfig.toml = "x/config.toml"\n', /^f\.toml:2: links key "config" holds a table: quote keys that contain a dot/],
    ['[links]\n"prompts" = "../outside/prompts"\n', /^f\.toml:2: links\."prompts" = "\.\.\/outside\/prompts" is not a relative path inside the dotfiles repository/],
    ['[links]\n"/abs" = "x"\n', /^f\.toml:2: links key "\/abs" is not a relative path under CODEX_HOME/],
    ['\n[links]\n"skills/*" = "skills"\n', /^f\.toml:3: .*use \* on both sides or on neither/],
    ['[links]\n"skills/*/x" = "skills/*/x"\n', /^f\.toml:2: .*\* may only stand as the whole last segment/],
    ['[links]\n"skills/a*" = "skills/a*"\n', /^f\.toml:2: .*\* may only stand as the whole last segment/],
  ])('rejects %j with the file, key and line', (text, message) => {
    expect(() => parseConfig(text, 'f.toml', IDS)).toThrow(UsageError)
    expect(() => parseConfig(text, 'f.toml', IDS)).toThrow(message)
  })
})

describe('adding links to codex-doctor.toml, in its own form', () => {
  const add = (text: string, links: {target: string; source: string}[]) => addTomlLinks(text, 'f.toml', links, 'config/codex', [])

  it('appends to the old list, on one line or one a line, comments kept', () => {
    expect(add('# mine\nlinks = ["config.toml", "prompts"]  # what I link\n', [{target: 'skills/a', source: 'config/codex/skills/a'}])).toEqual({
      text: '# mine\nlinks = ["config.toml", "prompts", "skills/a"]  # what I link\n',
    })
    expect(add('links = [\n  "config.toml",\n  "prompts" # p\n]\n', [{target: 'skills/a', source: 'config/codex/skills/a'}])).toEqual({
      text: 'links = [\n  "config.toml",\n  "prompts", # p\n  "skills/a",\n]\n',
    })
  })

  it('adds lines at the end of the [links] table, before the next table', () => {
    const text = 'min_version = "0.117.0"\n\n[links]\n"config.toml" = "codex/config.toml"\n"prompts" = "codex/prompts"\n\n# later\n[other]\n'
    // [other] is an unknown key: parseConfig refuses it, and so does the edit
    expect(add(text, [{target: 'skills/a', source: 'codex/skills/a'}])).toMatchObject({error: expect.stringMatching(/unknown key "other"/)})
    const ok = 'min_version = "0.117.0"\n\n[links]\n"config.toml" = "codex/config.toml"\n"prompts" = "codex/prompts"\n\n# the end\n'
    expect(add(ok, [{target: 'skills/a', source: 'codex/skills/a'}, {target: 'skills/b', source: 'codex/skills/b'}])).toEqual({
      text: 'min_version = "0.117.0"\n\n[links]\n"config.toml" = "codex/config.toml"\n"prompts" = "codex/prompts"\n"skills/a" = "codex/skills/a"\n"skills/b" = "codex/skills/b"\n\n# the end\n',
    })
    expect(add('links = { "prompts" = "codex/prompts" }\n', [{target: 'skills/a', source: 'codex/skills/a'}])).toEqual({text: 'links = { "prompts" = "codex/prompts", "skills/a" = "codex/skills/a" }\n'})
  })

  it('refuses what the file cannot say', () => {
    expect(add('links = ["prompts"]\n', [{target: 'skills/a', source: 'skills/a'}])).toMatchObject({error: expect.stringMatching(/use the table form/)})
    expect(add('min_version = "0.117.0"\n', [{target: 'skills/a', source: 'skills/a'}])).toMatchObject({error: expect.stringMatching(/no links/)})
  })
})
