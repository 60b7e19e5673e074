/**
 * The .gitignore reader names the rule that ignores a path without starting git. Wherever it
 * answers, the answer must be `git check-ignore -v`'s: checked against real git on generated
 * .gitignore files (a fixed generator, the same cases every run).
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {ignoringRule, parsePattern} from '../../src/repo/ignore-rules.js'

const root = mkdtempSync(path.join(os.tmpdir(), 'ignore-rules-'))
/** git and the reader see the same configuration: none but the repository's own. */
const ENV: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: root, XDG_CONFIG_HOME: path.join(root, 'xdg'), GIT_CONFIG_NOSYSTEM: '1'}

const git = (cwd: string, args: string[], input?: string, env = ENV) => {
  const r = spawnSync('git', args, {cwd, input, encoding: 'utf8', env})
  if (r.status !== 0 && r.status !== 1) throw new Error(r.stderr)
  return r.stdout
}

/** A repository holding these files (a value starting with `->` is a link to that target). */
function repoWith(dir: string, files: Record<string, string>, target: string): string {
  mkdirSync(dir, {recursive: true})
  git(dir, ['init', '-q'])
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel)
    mkdirSync(path.dirname(file), {recursive: true})
    if (text.startsWith('->')) symlinkSync(text.slice(2), file)
    else writeFileSync(file, text)
  }
  mkdirSync(path.dirname(path.join(dir, target)), {recursive: true})
  writeFileSync(path.join(dir, target), 'x')
  return dir
}

/** What git says: whether the file is ignored, and the rule check-ignore names. */
function gitSays(repo: string, target: string, env = ENV) {
  const listed = git(repo, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], undefined, env).split('\0')
  const [source, line, pattern] = git(repo, ['check-ignore', '-z', '-v', '-n', '--no-index', '--stdin'], target + '\0', env).split('\0')
  return {ignored: !listed.includes(target), rule: {source, line: Number(line), pattern}}
}

const PATHS = ['config/codex/config.toml', 'config/codex/auth.json', 'codex/config.toml', 'config.toml', 'a/b/c/config.toml', 'config/codex/sessions/x.jsonl']
const PATTERNS = [
  'config/codex/config.toml', '/config/codex/config.toml', 'config.toml', '/config.toml', 'config/', 'codex/', 'codex', '*.toml', 'config/*', 'config/codex/*', 'config/codex/', '!config/codex/config.toml',
  '!config.toml', '!*.toml', 'con?ig.toml', '*.json', 'sessions/', '/codex/', 'auth.json', '# comment', '', 'a/b', 'c/', '!config/', '**/config.toml', 'config/**', '[cC]onfig.toml', 'config.toml ', '\\#x',
]

let n = 0

function* cases(): Generator<{files: Record<string, string>; target: string}> {
  let state = 7
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state % n
  }
  const lines = () => Array.from({length: 1 + next(5)}, () => PATTERNS[next(PATTERNS.length)]).join('\n') + '\n'
  for (let i = 0; i < 250; i++) {
    const files: Record<string, string> = {'.gitignore': lines()}
    if (next(2)) files['config/.gitignore'] = lines()
    if (next(3) === 0) files['config/codex/.gitignore'] = lines()
    yield {files, target: PATHS[next(PATHS.length)]!}
  }
}

describe('ignoringRule, the rule that ignores a file, without git', () => {
  afterAll(() => rmSync(root, {recursive: true, force: true}))

  it('reads plain patterns and leaves the rest to git', () => {
    expect(parsePattern('# x')).toBeUndefined()
    expect(parsePattern('')).toBeUndefined()
    for (const hard of ['**/x', 'a/**', '[ab]', '\\!x', 'x ', 'x\r']) expect([hard, parsePattern(hard)]).toEqual([hard, null])
    expect(parsePattern('!/config/')).toMatchObject({negated: true, dirOnly: true, anchored: true})
  })

  it('names the rule git names, in 250 generated repositories, wherever it answers', () => {
    let answered = 0
    let ignoredCases = 0
    for (const {files, target} of cases()) {
      const repo = repoWith(path.join(root, `r${n++}`), files, target)
      const said = gitSays(repo, target)
      if (said.ignored) ignoredCases++
      const ours = ignoringRule(repo, target, said.ignored, ENV)
      if (ours === null) continue
      answered++
      expect({files, target, rule: ours}).toEqual({files, target, rule: said.rule})
    }
    // the generator must reach both sides: rules named, and cases left to git
    expect(answered).toBeGreaterThan(40)
    expect(answered).toBeLessThan(ignoredCases)
  })

  it.each([
    ['a parent folder excluded in .git/info/exclude', {'.gitignore': 'config.toml\n', '.git/info/exclude': 'codex/\n'}, {}],
    ['a global excludes file', {'.gitignore': 'config.toml\n'}, {'xdg/git/ignore': 'codex/\n'}],
    ['core.excludesFile', {'.gitignore': 'config.toml\n'}, {'.gitconfig': '[core]\n\texcludesFile = ~/global-ignore\n', 'global-ignore': 'codex/\n'}],
    ['core.ignoreCase', {'.gitignore': 'config.toml\nConfig.toml\n'}, {'.gitconfig': '[core]\n\tignoreCase = true\n'}],
    ['a linked .gitignore (git does not read it)', {'.gitignore': '->real-ignore', 'real-ignore': '*.toml\n', '.git/info/exclude': 'config.toml\n'}, {}],
  ])('%s: left to git, which answers otherwise', (_, files, home) => {
    const env = {...ENV, HOME: path.join(root, `home-${n}`), XDG_CONFIG_HOME: path.join(root, `home-${n}`, 'xdg')}
    for (const [rel, text] of Object.entries(home)) {
      mkdirSync(path.dirname(path.join(env.HOME!, rel)), {recursive: true})
      writeFileSync(path.join(env.HOME!, rel), text)
    }
    const target = 'config/codex/config.toml'
    const repo = repoWith(path.join(root, `case-${n++}`), files, target)
    const said = gitSays(repo, target, env)
    expect(said.ignored).toBe(true)
    expect(ignoringRule(repo, target, said.ignored, env)).toBeNull()
  })

  it('a dotfiles folder below the top of its work tree: left to git', () => {
    const top = repoWith(path.join(root, `sub-${n++}`), {'.gitignore': 'codex/\n', 'sub/.gitignore': 'config.toml\n'}, 'sub/codex/config.toml')
    expect(ignoringRule(path.join(top, 'sub'), 'codex/config.toml', true, ENV)).toBeNull()
  })
})
