/**
 * The .gitignore reader names the rule that ignores a path without starting git. Wherever it
 * answers, the answer must be `git check-ignore -v`'s: checked against real git on generated
 * .gitignore files (a fixed generator, the same cases every run).
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {ignoringRule, parsePattern} from '../../src/repo/ignore-rules.js'

const git = (cwd: string, args: string[], input?: string) => {
  const r = spawnSync('git', args, {cwd, input, encoding: 'utf8', env: {...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1'}})
  if (r.status !== 0 && r.status !== 1) throw new Error(r.stderr)
  return r.stdout
}

const PATHS = ['config/codex/config.toml', 'config/codex/auth.json', 'codex/config.toml', 'config.toml', 'a/b/c/config.toml', 'config/codex/sessions/x.jsonl']
const PATTERNS = [
  'config/codex/config.toml', '/config/codex/config.toml', 'config.toml', '/config.toml', 'config/', 'codex/', 'codex', '*.toml', 'config/*', 'config/codex/*', 'config/codex/', '!config/codex/config.toml',
  '!config.toml', '!*.toml', 'con?ig.toml', '*.json', 'sessions/', '/codex/', 'auth.json', '# comment', '', 'a/b', 'c/', '!config/', '**/config.toml', 'config/**', '[cC]onfig.toml', 'config.toml ', '\\#x',
]

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
  const root = mkdtempSync(path.join(os.tmpdir(), 'ignore-rules-'))
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
    let n = 0
    for (const {files, target} of cases()) {
      const repo = path.join(root, `r${n++}`)
      mkdirSync(repo)
      git(repo, ['init', '-q'])
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(repo, rel)), {recursive: true})
        writeFileSync(path.join(repo, rel), text)
      }
      mkdirSync(path.dirname(path.join(repo, target)), {recursive: true})
      writeFileSync(path.join(repo, target), 'x')
      const listed = git(repo, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0')
      const ignored = !listed.includes(target)
      if (ignored) ignoredCases++
      const ours = ignoringRule(repo, target, ignored)
      if (ours === null) continue
      answered++
      const [source, line, pattern] = git(repo, ['check-ignore', '-z', '-v', '-n', '--no-index', '--stdin'], target + '\0').split('\0')
      expect({files, target, rule: ours}).toEqual({files, target, rule: {source, line: Number(line), pattern}})
    }
    // the generator must reach both sides: rules named, and cases left to git
    expect(answered).toBeGreaterThan(40)
    expect(answered).toBeLessThan(ignoredCases)
  })
})
