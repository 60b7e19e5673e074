import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'

import {detailLines, shortenHome, wantColor} from '../../src/report/human.js'

describe('the human report', () => {
  it('shortens the home folder to ~ and keeps quoted commands pasteable', () => {
    const home = '/home/me'
    expect(shortenHome('CODEX_HOME /home/me/.codex', home)).toBe('CODEX_HOME ~/.codex')
    expect(shortenHome('dotfiles at /home/me', home)).toBe('dotfiles at ~')
    expect(shortenHome('/home/mel/x', home)).toBe('/home/mel/x')
    // a backup folder mirrors absolute paths: the home inside it is not where a path starts
    expect(shortenHome('kept in /state/backup/home/me/.codex', home)).toBe('kept in /state/backup/home/me/.codex')
    expect(shortenHome('(/home/me/a, /home/me/b)', home)).toBe('(~/a, ~/b)')
    const command = shortenHome(`ln -sfn '/home/me/dot files/config.toml' /home/me/.codex/config.toml`, home)
    expect(command).toBe(`ln -sfn ~/'dot files/config.toml' ~/.codex/config.toml`)
    // the shell reads it back as the original paths
    const words = execFileSync('sh', ['-c', `printf '%s\\n' ${command.slice('ln -sfn '.length)}`], {env: {HOME: home}, encoding: 'utf8'})
    expect(words).toBe('/home/me/dot files/config.toml\n/home/me/.codex/config.toml\n')
  })

  it('colors only on a TTY, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(wantColor({}, true)).toBe(true)
    expect(wantColor({}, false)).toBe(false)
    expect(wantColor({NO_COLOR: '1'}, true)).toBe(false)
    expect(wantColor({FORCE_COLOR: '1'}, false)).toBe(true)
  })

  it('renders details as nested lines', () => {
    expect(detailLines({entries: [{entry: 'config.toml', chain: ['a → b', 'b → c']}], empty: []}, '  ')).toEqual([
      '  entries:',
      '    - entry: config.toml',
      '      chain:',
      '        - a → b',
      '        - b → c',
      '  empty: (none)',
    ])
  })
})
