/** The nix check on real repositories: what it says about each way a Nix file declares ~/.codex, and the rewrite it plans. */
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {nix} from '../../src/checks/nix.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {NIX_NEW, NIX_OLD, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

const context = (s: Sandbox) => resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
const check = async (s: Sandbox) => nix.run(await context(s))
const nixFile = (s: Sandbox) => path.join(s.dotfiles, 'nix', 'home', 'shared', 'default.nix')

function withNix(s: Sandbox, text: string, file = nixFile(s)): string {
  s.write(file, text)
  s.commit('nix')
  return file
}

describe('the nix check', () => {
  it('the seed\'s old line fails naming file and line; --fix plans the seed\'s "After", with its diff', async () => {
    const s = sandbox()
    withNix(s, NIX_OLD)
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('nix/home/shared/default.nix:3 links the whole ~/.codex folder; link its entries one by one')
    expect(outcome.remediation).toMatchObject({automatic: true, text: expect.stringMatching(/codex-doctor --fix rewrites nix\/home\/shared\/default\.nix in its own style/)})
    const [edit, ...more] = await nix.plan!(await context(s), {} as never)
    expect(more).toEqual([])
    expect(edit).toMatchObject({check: 'nix', op: 'edit', path: nixFile(s), content: NIX_NEW})
    expect(edit && 'diff' in edit ? edit.diff : '').toContain('+    ".codex/prompts".source =')
  })

  it('entry by entry, out of the store, passes', async () => {
    const s = sandbox()
    withNix(s, NIX_NEW)
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.summary).toBe('nix/home/shared/default.nix links ~/.codex entry by entry: config.toml, prompts')
  })

  it('a config.toml copied into the store fails naming the line; a read-only prompts copy is fine', async () => {
    const s = sandbox()
    withNix(s, '{ config, ... }:\n{\n  home.file.".codex/prompts".source = ../../../config/codex/prompts;\n  home.file.".codex/config.toml".source = ../../../config/codex/config.toml;\n}\n')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('nix/home/shared/default.nix:4 puts ~/.codex/config.toml into the read-only Nix store: Codex cannot save its settings')
    expect(outcome.remediation?.text).toMatch(/mkOutOfStoreSymlink/)
  })

  it('home-manager\'s programs.codex generates config.toml into the store: that fails too, explained', async () => {
    const s = sandbox()
    withNix(s, '{ ... }:\n{\n  programs.codex = {\n    enable = true;\n    settings.model = "gpt-5";\n  };\n}\n')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toMatch(/^nix\/home\/shared\/default\.nix:3 generates ~\/\.codex\/config\.toml into the read-only Nix store/)
  })

  it('a file that does not parse warns naming its line, and the others are still read', async () => {
    const s = sandbox()
    withNix(s, NIX_NEW)
    withNix(s, '{ home.file.".codex/AGENTS.md".source = ;\n}\n', path.join(s.dotfiles, 'broken.nix'))
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.summary).toMatch(/^broken\.nix:1: does not parse/)
    expect(outcome.details).toMatchObject({entries: [{entry: 'config.toml'}, {entry: 'prompts'}]})
  })

  it('a variable that cannot be resolved is named; its entry is checked as it exists', async () => {
    const s = sandbox()
    withNix(s, '{ config, somewhere, ... }:\n{\n  home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "${somewhere}/not/in/the/repo/config.toml";\n}\n')
    const outcome = await check(s)
    expect(outcome.status).toBe('warn')
    expect(outcome.summary).toBe(`nix/home/shared/default.nix:3: the source of ${path.join(s.codexHome, 'config.toml')} cannot be resolved (\`somewhere\` is not known), so it is checked as it exists`)
    const set = await (await context(s)).declared()
    expect(set.entries.find((e) => e.entry === 'config.toml')).toMatchObject({basis: 'default'})
  })

  it('no Nix file declares anything about ~/.codex: skip', async () => {
    const s = sandbox()
    withNix(s, '{ programs.git.enable = true; }\n', path.join(s.dotfiles, 'other.nix'))
    const outcome = await check(s)
    expect(outcome.status).toBe('skip')
    expect(outcome.summary).toBe('no Nix file declares a link in ~/.codex')
  })
})
