import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CHECK_IDS} from '../../src/checks/index.js'
import {blankComments, nix, scanNix} from '../../src/checks/nix.js'
import {resolveContext} from '../../src/context/resolve.js'
import {CODEX} from '../codex-bins.js'
import {addProvisioning, NIX_NEW, NIX_OLD, type Sandbox, sandboxesPerTest} from '../sandbox.js'

const sandbox = sandboxesPerTest()

async function check(s: Sandbox) {
  const ctx = await resolveContext({env: s.env, cwd: s.home, codexBin: CODEX.v089, checkIds: CHECK_IDS, probe: false})
  return nix.run(ctx)
}

/** The plan's step 2 "After" block, exactly as the plan prints it. */
const PLAN_AFTER = `home.file = {
  ".codex/config.toml".source =
    config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/config.toml";
  ".codex/prompts".source =
    config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/prompts";
};`

const ENTRIES = ['config.toml', 'prompts']
const scan = (text: string) => scanNix([{file: '/r/home.nix', text}], ENTRIES, 'config/codex')
const dedent = (text: string) => text.split('\n').map((l) => l.replace(/^ {2}/, '')).join('\n')

describe('reading Nix files (pure)', () => {
  it('the plan\'s "Before" is a whole-folder link whose replacement is the plan\'s "After", and applying it gives the new file', () => {
    const {folderLinks, entryLinks} = scan(NIX_OLD)
    expect(entryLinks).toEqual([])
    expect(folderLinks).toHaveLength(1)
    const [folder] = folderLinks
    expect(folder).toMatchObject({line: 3, endLine: 3, text: '  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";'})
    expect(dedent(folder!.replacement)).toBe(PLAN_AFTER)
    const lines = NIX_OLD.split('\n')
    lines.splice(folder!.line - 1, folder!.endLine - folder!.line + 1, folder!.replacement)
    expect(lines.join('\n')).toBe(NIX_NEW)
  })

  it('the plan\'s "After" links config.toml and prompts one by one, out of the store', () => {
    expect(scan(NIX_NEW)).toEqual({
      folderLinks: [],
      entryLinks: [
        {file: '/r/home.nix', line: 4, entry: 'config.toml'},
        {file: '/r/home.nix', line: 6, entry: 'prompts'},
      ],
    })
  })

  it('other spellings of the whole-folder link: inside home.file = { }, an attribute set, a home-directory prefix', () => {
    const inside = scan('{\n  home.file = {\n    ".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";\n    ".zshrc".source = ./zshrc;\n  };\n}\n')
    expect(inside.folderLinks[0]!.replacement).toBe(
      '    ".codex/config.toml".source =\n      config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/config.toml";\n    ".codex/prompts".source =\n      config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/prompts";',
    )
    const attrs = scan('{\n  home.file."${config.home.homeDirectory}/.codex" = {\n    source = config.lib.file.mkOutOfStoreSymlink "${dots}/config/codex/";\n    recursive = false;\n  };\n}\n')
    expect(attrs.folderLinks[0]).toMatchObject({line: 2, endLine: 5})
    expect(attrs.folderLinks[0]!.replacement).toContain('"${config.home.homeDirectory}/.codex/prompts".source =\n      config.lib.file.mkOutOfStoreSymlink "${dots}/config/codex/prompts";')
  })

  it('comments are not links; strings with # or ; inside do not confuse it', () => {
    expect(scan('{\n  # home.file.".codex".source = x;\n  /* home.file.".codex".source = y; */\n}\n')).toEqual({folderLinks: [], entryLinks: []})
    expect(blankComments('a = "#not; a comment"; # gone\n')).toBe('a = "#not; a comment";       \n')
    const weird = scan('{ home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/a;b#c/config.toml"; }\n')
    expect(weird.entryLinks).toEqual([{file: '/r/home.nix', line: 1, entry: 'config.toml'}])
  })

  it('an entry copied into the store: config.toml fails (Codex cannot write), prompts warns; an alias of mkOutOfStoreSymlink counts', () => {
    const {entryLinks} = scan('{ config, ... }:\nlet link = config.lib.file.mkOutOfStoreSymlink; in {\n  home.file.".codex/config.toml".source = ../config/codex/config.toml;\n  home.file.".codex/prompts".source = ../config/codex/prompts;\n  home.file.".codex/AGENTS.md".source = link "/d/AGENTS.md";\n}\n')
    expect(entryLinks).toEqual([
      {file: '/r/home.nix', line: 3, entry: 'config.toml', problem: {severity: 'fail', text: expect.stringMatching(/read-only copy in the Nix store: Codex cannot write/)}},
      {file: '/r/home.nix', line: 4, entry: 'prompts', problem: {severity: 'warn', text: expect.stringMatching(/read-only copy/)}},
      {file: '/r/home.nix', line: 5, entry: 'AGENTS.md'},
    ])
  })
})

describe('nix in a sandbox', () => {
  it('the old Nix file fails, naming file and line, with the plan\'s block in the remediation', async () => {
    const s = sandbox()
    addProvisioning(s, 'old')
    const outcome = await check(s)
    expect(outcome.status).toBe('fail')
    expect(outcome.summary).toBe('nix/home/shared/default.nix:3 links the whole ~/.codex folder; link its entries one by one')
    expect(dedent(outcome.details!.replacement as string)).toBe(PLAN_AFTER)
    expect(outcome.remediation?.text).toContain('In nix/home/shared/default.nix, replace line 3 with:')
    expect(outcome.remediation?.text).toContain('".codex/prompts".source =')
    expect(outcome.details).toMatchObject({folderLinks: [{file: path.join(s.dotfiles, 'nix', 'home', 'shared', 'default.nix'), line: 3}]})
  })

  it('the new Nix file passes', async () => {
    const s = sandbox()
    addProvisioning(s, 'new')
    const outcome = await check(s)
    expect(outcome.status, outcome.summary).toBe('pass')
    expect(outcome.summary).toBe('nix/home/shared/default.nix links ~/.codex entry by entry: config.toml, prompts')
  })

  it('no Nix file: skip', async () => {
    const s = sandbox()
    s.write(path.join(s.dotfiles, 'other.nix'), '{ programs.git.enable = true; }\n')
    const outcome = await check(s)
    expect(outcome.status).toBe('skip')
    expect(outcome.summary).toBe('no Nix file links .codex')
  })
})
