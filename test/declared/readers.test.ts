/** The readers that look at the disk: what exists (links into the repository) and stow packages, on real links. */
import {execFileSync} from 'node:child_process'
import {mkdirSync, realpathSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {readConfigLinks} from '../../src/declared/config.js'
import {readObserved} from '../../src/declared/observed.js'
import {readStow, stowPackages} from '../../src/declared/stow.js'
import {readRepoFacts} from '../../src/repo/facts.js'
import {CONFIG_TOML, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

describe('what exists', () => {
  it('links in CODEX_HOME and in a real skills/ folder that lead into the repository, through any chain; nothing else', () => {
    const s = sandbox({bare: true})
    const repo = realpathSync(s.dotfiles)
    s.write(path.join(repo, 'codex', 'config.toml'), CONFIG_TOML)
    s.write(path.join(repo, 'skills', 'greeter', 'SKILL.md'), 'x')
    s.write(path.join(s.root, 'elsewhere', 'AGENTS.md'), 'x')
    s.link(path.join(s.codexHome, 'config.toml'), path.join(s.root, 'hop'))
    symlinkSync(path.join(repo, 'codex', 'config.toml'), path.join(s.root, 'hop'))
    s.link(path.join(s.codexHome, 'hooks.json'), path.join(repo, 'codex', 'hooks.json')) // dangling, into the repository
    s.link(path.join(s.codexHome, 'AGENTS.md'), path.join(s.root, 'elsewhere', 'AGENTS.md'))
    s.link(path.join(s.codexHome, 'skills', 'greeter'), '../../dotfiles/skills/greeter')
    mkdirSync(path.join(s.codexHome, 'skills', '.system'), {recursive: true})
    s.write(path.join(s.codexHome, 'auth.json'), '{}')
    return readObserved(s.codexHome, repo).then((found) => {
      expect(found.map((d) => [path.relative(s.codexHome, d.target), d.source, d.origin.via])).toEqual([
        ['config.toml', path.join(repo, 'codex', 'config.toml'), 'observed'],
        ['hooks.json', path.join(repo, 'codex', 'hooks.json'), 'observed'],
        ['skills/greeter', path.join(repo, 'skills', 'greeter'), 'observed'],
      ])
    })
  })

  it('CODEX_HOME itself linked into the repository is the whole-folder link, and nothing inside it counts', async () => {
    const s = sandbox({layout: 'old'})
    const repo = realpathSync(s.dotfiles)
    expect(await readObserved(s.codexHome, repo)).toEqual([{target: s.codexHome, source: path.join(repo, 'config', 'codex'), origin: {via: 'observed', file: null, line: null}}])
  })
})

describe('stow packages', () => {
  it('finds packages up to two folders deep, not .git or node_modules', () => {
    expect(stowPackages(['codex/.codex/config.toml', 'stow/codex/.codex/AGENTS.md', 'a/b/c/.codex/x', '.codex/config.toml', 'node_modules/x/.codex/y'], '.codex')).toEqual(['codex', 'stow/codex'])
  })

  it('declares every entry of the package from the disk (the ignored live config.toml too), never runtime state', async () => {
    const s = sandbox({bare: true})
    const pkg = path.join(s.dotfiles, 'codex', '.codex')
    s.write(path.join(pkg, 'AGENTS.md'), '# hi\n')
    s.write(path.join(pkg, 'prompts', 'hello.md'), 'hi\n')
    s.write(path.join(s.dotfiles, '.gitignore'), 'codex/.codex/config.toml\ncodex/.codex/auth.json\n')
    s.commit('package')
    s.write(path.join(pkg, 'config.toml'), CONFIG_TOML)
    s.write(path.join(pkg, 'auth.json'), '{}')
    const facts = await readRepoFacts(s.dotfiles, s.env)
    const found = await readStow(facts, s.home, s.codexHome)
    expect(found.map((d) => [path.relative(s.codexHome, d.target), path.relative(s.dotfiles, d.source!), d.origin.via, d.unfolded])).toEqual([
      ['AGENTS.md', 'codex/.codex/AGENTS.md', 'stow', true],
      ['config.toml', 'codex/.codex/config.toml', 'stow', true],
      ['prompts', 'codex/.codex/prompts', 'stow', true],
    ])
    // what real stow links is what was declared
    execFileSync('stow', ['--no-folding', '-d', s.dotfiles, '-t', s.home, 'codex'], {stdio: 'pipe'})
    for (const file of ['AGENTS.md', 'config.toml', 'prompts/hello.md']) expect(realpathSync(path.join(s.codexHome, file))).toBe(realpathSync(path.join(pkg, file)))
  })
})

describe('codex-doctor.toml links', () => {
  it('expands * over the repository folder, one declaration per entry, with the line', async () => {
    const s = sandbox({bare: true})
    s.write(path.join(s.dotfiles, 'skills', 'a', 'SKILL.md'), 'x')
    s.write(path.join(s.dotfiles, 'skills', 'b', 'SKILL.md'), 'x')
    mkdirSync(path.join(s.dotfiles, 'skills', '.hidden'))
    const file = path.join(s.dotfiles, 'codex-doctor.toml')
    const found = await readConfigLinks([{target: 'skills/*', source: 'skills/*', line: 4}, {target: 'config.toml', source: 'codex/config.toml', line: 3}], file, s.dotfiles, s.codexHome)
    expect(found.map((d) => [path.relative(s.codexHome, d.target), path.relative(s.dotfiles, d.source!), d.origin.line])).toEqual([
      ['skills/a', 'skills/a', 4],
      ['skills/b', 'skills/b', 4],
      ['config.toml', 'codex/config.toml', 3],
    ])
  })
})
