import {describe, expect, it} from 'vitest'

import {chooseCodexDir, mergeDeclarations} from '../../src/declared/set.js'
import type {Declaration, Via} from '../../src/declared/types.js'

const HOME = '/h/.codex'
const REPO = '/h/dotfiles'
const d = (target: string, source: string | null, via: Via = 'nix', line: number | null = 1, extra: Partial<Declaration> = {}): Declaration => ({
  target: target === '' ? HOME : `${HOME}/${target}`,
  source: source === null ? null : source.startsWith('/') ? source : `${REPO}/${source}`,
  origin: {via, file: via === 'observed' || via === 'default' ? null : `${REPO}/${via === 'nix' ? 'home.nix' : via === 'ansible' ? 'site.yml' : 'codex-doctor.toml'}`, line: via === 'observed' || via === 'default' ? null : line},
  ...extra,
})
const merge = (declared: Declaration[], observed: Declaration[] = [], defaults: Declaration[] = []) =>
  mergeDeclarations({codexHome: HOME, repo: REPO, declared, observed, problems: [], defaults, codexDir: chooseCodexDir({codexHome: HOME, repo: REPO, declared, observed, setting: null, fallback: `${REPO}/config/codex`})})

describe('the declared link set (pure)', () => {
  it('what files declare is the set; links that exist undeclared warn; one under a declared folder does not', () => {
    const set = merge(
      [d('config.toml', 'ai/codex/config.toml', 'nix', 3), d('skills', 'skills', 'nix', 5)],
      [d('config.toml', 'ai/codex/config.toml', 'observed'), d('rules', 'ai/codex/rules', 'observed'), d('skills/x', 'skills/x', 'observed')],
    )
    expect(set.entries.map((e) => [e.entry, e.basis, e.source])).toEqual([
      ['config.toml', 'declared', `${REPO}/ai/codex/config.toml`],
      ['skills', 'declared', `${REPO}/skills`],
    ])
    expect(set.undeclared.map((u) => u.target)).toEqual([`${HOME}/rules`])
    expect(set.codexDir).toBe(`${REPO}/ai/codex`)
    expect(set.declaredBy).toEqual(['nix'])
    expect(set.sourceFolders).toEqual([{dir: `${REPO}/ai/codex`, under: '', main: true}])
  })

  it('two declarations that disagree are a conflict naming both; the user\'s own file comes first', () => {
    const set = merge([d('prompts', 'a/prompts', 'ansible', 9), d('prompts', 'b/prompts', 'codex-doctor.toml', 2), d('prompts', 'b/prompts', 'nix', 4)])
    expect(set.entries).toHaveLength(1)
    expect(set.entries[0]).toMatchObject({source: `${REPO}/b/prompts`, declarations: [{origin: {via: 'codex-doctor.toml'}}, {origin: {via: 'nix'}}]})
    expect(set.conflicts).toEqual([{entry: 'prompts', declarations: expect.arrayContaining([expect.objectContaining({origin: expect.objectContaining({via: 'ansible', line: 9})})])}])
    // a plain path (a store copy) and its out-of-store twin disagree too
    const store = merge([d('config.toml', 'c/config.toml', 'nix', 1, {inStore: true}), d('config.toml', 'c/config.toml', 'ansible', 2)])
    expect(store.conflicts).toHaveLength(1)
  })

  it('an unresolved declaration is checked as the link that exists, without an "undeclared" warning', () => {
    const set = merge([d('config.toml', 'c/config.toml'), d('hooks.json', null, 'nix', 7, {unresolved: '`hooksDir` is not known'})], [d('hooks.json', 'c/hooks.json', 'observed')])
    expect(set.entries.map((e) => [e.entry, e.basis])).toEqual([['config.toml', 'declared'], ['hooks.json', 'observed']])
    expect(set.undeclared).toEqual([])
    expect(set.unresolved).toHaveLength(1)
  })

  it('when nothing declares: what exists and what Codex reads; a whole-folder declaration declares no entry', () => {
    const set = merge([d('', 'config/codex')], [d('prompts', 'config/codex/prompts', 'observed')], [d('config.toml', 'config/codex/config.toml', 'default'), d('prompts', 'config/codex/prompts', 'default')])
    expect(set.folderLinks).toHaveLength(1)
    expect(set.entries.map((e) => [e.entry, e.basis])).toEqual([['config.toml', 'default'], ['prompts', 'default']])
    expect(set.declaredBy).toEqual([])
    // a link is its own declaration only where the codex folder has no entry of that name
    const own = merge([], [d('AGENTS.md', 'ai/AGENTS.md', 'observed')], [d('config.toml', 'config/codex/config.toml', 'default')])
    expect(own.entries.map((e) => [e.entry, e.basis, e.source])).toEqual([
      ['AGENTS.md', 'observed', `${REPO}/ai/AGENTS.md`],
      ['config.toml', 'default', `${REPO}/config/codex/config.toml`],
    ])
  })

  it('a source outside the repository is flagged; the repository root is never a folder of state unless it is the codex folder', () => {
    const set = merge([d('AGENTS.md', 'AGENTS.md'), d('config.toml', '/etc/codex/config.toml'), d('skills/a', 'skills/a'), d('prompts', 'codex/prompts')])
    expect(set.entries.find((e) => e.entry === 'config.toml')?.outsideRepo).toBe(true)
    expect(set.sourceFolders.map((f) => [f.dir, f.under, f.main])).toEqual([
      [`${REPO}/codex`, '', true],
      [`${REPO}/skills`, 'skills', false],
    ])
  })
})
