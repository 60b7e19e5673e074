import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {addNixLinks, nixInstantiateParses, readNixDeclarations, rewriteNixFolderLink, type NixEnvironment, type NixFile} from '../../src/declared/nix.js'
import type {Declaration} from '../../src/declared/types.js'
import {NIX_NEW, NIX_OLD} from '../sandbox.js'

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
/** In CI a missing nix-instantiate fails these tests instead of skipping them. */
const NIX = has('nix-instantiate') || Boolean(process.env.CI)

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'nix')

interface World {
  root: string
  home: string
  repo: string
  env: NixEnvironment
  /** A file in the repository, written. */
  file(rel: string, text?: string): NixFile
}

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, {recursive: true, force: true})
})

/** A HOME with a dotfiles repository holding config/codex/{config.toml,prompts/,AGENTS.md} and skills/{alpha,beta}. */
function world(options: {codexHome?: string; flake?: boolean} = {}): World {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-nix-')))
  roots.push(root)
  const home = path.join(root, 'home')
  const repo = path.join(home, 'dotfiles')
  const put = (rel: string, text = '') => {
    const p = path.join(repo, rel)
    mkdirSync(path.dirname(p), {recursive: true})
    writeFileSync(p, text)
  }
  put('config/codex/config.toml', 'model = "gpt-5"\n')
  put('config/codex/AGENTS.md', '# rules\n')
  put('config/codex/prompts/hello.md', 'Say hello.\n')
  put('skills/alpha/SKILL.md', '---\nname: alpha\ndescription: A\n---\n')
  put('skills/beta/SKILL.md', '---\nname: beta\ndescription: B\n---\n')
  if (options.flake) put('flake.nix', '{ outputs = { self }: { }; }\n')
  const env: NixEnvironment = {
    repo,
    home,
    codexHome: options.codexHome ?? path.join(home, '.codex'),
    readDir(p) {
      try {
        return Object.fromEntries(readdirSync(p, {withFileTypes: true}).map((d) => [d.name, d.isDirectory() ? 'directory' : d.isSymbolicLink() ? 'symlink' : d.isFile() ? 'regular' : 'unknown']))
      } catch {
        return null
      }
    },
    exists: (p) => existsSync(p),
  }
  return {
    root,
    home,
    repo,
    env,
    file(rel, text) {
      const p = path.join(repo, rel)
      if (text !== undefined) put(rel, text)
      return {file: p, text: readFileSync(p, 'utf8')}
    },
  }
}

/** Declarations as short rows: `line target <- source [store] [unfolded] [?unresolved]`, paths relative to HOME. */
function rows(w: World, declarations: readonly Declaration[]): string[] {
  const rel = (p: string | null) => (p === null ? 'null' : path.relative(w.home, p) || '~')
  return declarations.map((d) =>
    [d.origin.line, rel(d.target), '<-', rel(d.source), ...(d.inStore ? ['store'] : []), ...(d.unfolded ? ['unfolded'] : []), ...(d.unresolved ? [`?${d.unresolved}`] : [])].join(' '),
  )
}

function read(w: World, text: string, rel = 'nix/home.nix') {
  const result = readNixDeclarations([w.file(rel, text)], w.env)
  return {rows: rows(w, result.declarations), problems: result.problems, declarations: result.declarations}
}

const entry = (w: World, name: string, source = `config/codex/${name}`) => ({target: path.join(w.env.codexHome, name), source: path.join(w.repo, source)})

async function expectNixParses(text: string, w: World) {
  if (!NIX) return
  expect(await nixInstantiateParses(text, {PATH: process.env.PATH, HOME: w.home})).toEqual({ok: true})
}

/** Rewrites the folder link declared in `text` at `line` (or the only one) with the given entries. */
function rewrite(w: World, text: string, names: readonly string[] = ['config.toml', 'prompts'], options: {rel?: string; line?: number} = {}) {
  const nix = w.file(options.rel ?? 'nix/home.nix', text)
  const {declarations} = readNixDeclarations([nix], w.env)
  const folder = declarations.find((d) => d.target === w.env.codexHome && (options.line === undefined || d.origin.line === options.line))
  if (!folder) throw new Error(`no folder link in ${JSON.stringify(declarations)}`)
  return rewriteNixFolderLink(nix, w.env, folder, names.map((n) => entry(w, n)))
}

function textOf(result: {text: string} | {error: string}): string {
  if ('error' in result) throw new Error(result.error)
  return result.text
}

// ---------------------------------------------------------------------------------------------

describe('what Nix files declare about CODEX_HOME', () => {
  it('the seed\'s "Before": the whole folder, out of the store, its dotfiles root found in the repository', () => {
    const w = world()
    expect(read(w, NIX_OLD).rows).toEqual(['3 .codex <- dotfiles/config/codex'])
  })

  it('the seed\'s "After": config.toml and prompts one by one, each on the line of its key', () => {
    const w = world()
    const r = read(w, NIX_NEW)
    expect(r.rows).toEqual(['4 .codex/config.toml <- dotfiles/config/codex/config.toml', '6 .codex/prompts <- dotfiles/config/codex/prompts'])
    expect(r.problems).toEqual([])
  })

  it('every way of writing a link: dotted, nested, home = { file }, attribute sets, home-directory keys, target, recursive', () => {
    const w = world()
    const r = read(
      w,
      `{ config, lib, dotfiles, ... }:
lib.mkMerge [{
  home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/config.toml";
} {
  home = {
    username = "u";
    file = {
      ".codex/prompts" = {
        source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/prompts/";
        recursive = true;
      };
      "\${config.home.homeDirectory}/.codex/AGENTS.md".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/AGENTS.md";
      agents = { target = ".codex/rules"; source = ../config/codex; };
      ".codex/hooks.json" = { enable = false; source = ./hooks.json; };
      ".zshrc".source = ./zshrc;
    };
  };
}]
`,
    )
    expect(r.rows).toEqual([
      '3 .codex/config.toml <- dotfiles/config/codex/config.toml',
      '8 .codex/prompts <- dotfiles/config/codex/prompts unfolded',
      '12 .codex/AGENTS.md <- dotfiles/config/codex/AGENTS.md',
      '13 .codex/rules <- dotfiles/config/codex store',
    ])
  })

  it('mkOutOfStoreSymlink by any name, and the dotfiles root however it is named', () => {
    const w = world()
    const r = read(
      w,
      `{ config, lib, ... }:
let
  oos = config.lib.file.mkOutOfStoreSymlink;
  inherit (config.lib.file) mkOutOfStoreSymlink;
  dotfilesDir = "\${config.home.homeDirectory}/dotfiles";
  link = path: config.lib.file.mkOutOfStoreSymlink "\${dotfilesDir}/\${path}";
in
with lib;
{
  home.file = mkMerge [
    { ".codex/config.toml".source = oos "\${dotfilesDir}/config/codex/config.toml"; }
    (mkIf true { ".codex/prompts".source = mkOutOfStoreSymlink (toString ../config/codex/prompts); })
    { ".codex/AGENTS.md".source = link "config/codex/AGENTS.md"; }
    { ".codex/skills/alpha".source = mkOutOfStoreSymlink ../skills/alpha; }
    (mkIf false { ".codex/never".source = oos "/nowhere"; })
    { ".codex/hooks.json".source = mkForce (oos (dotfilesDir + "/config/codex/hooks.json")); }
  ];
}
`,
    )
    expect(r.rows).toEqual([
      '11 .codex/config.toml <- dotfiles/config/codex/config.toml',
      '12 .codex/prompts <- dotfiles/config/codex/prompts',
      '13 .codex/AGENTS.md <- dotfiles/config/codex/AGENTS.md',
      '14 .codex/skills/alpha <- dotfiles/skills/alpha',
      '16 .codex/hooks.json <- dotfiles/config/codex/hooks.json',
    ])
  })

  it('a plain path, a string or "${self}/…" is copied into the store; text and pkgs.writeText are generated there', () => {
    const w = world()
    const r = read(
      w,
      `{ config, pkgs, self, inputs, ... }:
{
  home.file.".codex/config.toml".source = ../config/codex/config.toml;
  home.file.".codex/prompts".source = "\${self}/config/codex/prompts";
  home.file.".codex/AGENTS.md".source = inputs.self + "/config/codex/AGENTS.md";
  home.file.".codex/hooks.json".text = builtins.toJSON { hooks = [ ]; };
  home.file.".codex/rules/default.rules".source = pkgs.writeText "default.rules" "";
  home.file.".codex/skills/alpha".source = config.lib.file.mkOutOfStoreSymlink "\${self}/skills/alpha";
}
`,
    )
    expect(r.rows).toEqual([
      '3 .codex/config.toml <- dotfiles/config/codex/config.toml store',
      '4 .codex/prompts <- dotfiles/config/codex/prompts store',
      '5 .codex/AGENTS.md <- dotfiles/config/codex/AGENTS.md store',
      '6 .codex/hooks.json <- null store',
      '7 .codex/rules/default.rules <- null store',
      '8 .codex/skills/alpha <- dotfiles/skills/alpha store',
    ])
    expect(r.problems).toEqual([])
  })

  it('the text scanner\'s cases: an alias bound with `let … in`, in-store entries beside an out-of-store one', () => {
    const w = world()
    const r = read(w, '{ config, ... }:\nlet link = config.lib.file.mkOutOfStoreSymlink; in {\n  home.file.".codex/config.toml".source = ../config/codex/config.toml;\n  home.file.".codex/prompts".source = ../config/codex/prompts;\n  home.file.".codex/AGENTS.md".source = link "/d/AGENTS.md";\n}\n')
    expect(r.declarations.map((d) => [d.origin.line, path.relative(w.env.codexHome, d.target), d.source, d.inStore ?? false])).toEqual([
      [3, 'config.toml', path.join(w.repo, 'config/codex/config.toml'), true],
      [4, 'prompts', path.join(w.repo, 'config/codex/prompts'), true],
      [5, 'AGENTS.md', '/d/AGENTS.md', false],
    ])
  })

  it('in a flake, a path literal given to mkOutOfStoreSymlink is the flake\'s copy in the store', () => {
    const w = world({flake: true})
    const r = read(w, '{ config, ... }:\n{\n  home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink ../config/codex/config.toml;\n}\n')
    expect(r.rows).toEqual(['3 .codex/config.toml <- dotfiles/config/codex/config.toml store'])
  })

  it('an unknown root with a path the repository does not hold: no source, the unknown names said, a problem on the line', () => {
    const w = world()
    const r = read(w, '{ config, dotfilesDir, ... }:\n{\n  home.file.".codex/config.toml".source =\n    config.lib.file.mkOutOfStoreSymlink "${dotfilesDir}/elsewhere/config.toml";\n}\n')
    expect(r.rows).toEqual(['3 .codex/config.toml <- null ?`dotfilesDir` is not known'])
    expect(r.problems).toEqual([{via: 'nix', file: path.join(w.repo, 'nix/home.nix'), line: 3, message: 'the source of ~/.codex/config.toml is not known: `dotfilesDir` is not known'}])
  })

  it('generated per-skill links: listToAttrs over a list, over readDir of a repository folder, genAttrs, mapAttrs\' — on the generator\'s line', () => {
    const w = world()
    const r = read(
      w,
      `{ config, lib, dotfiles, ... }:
let
  oos = config.lib.file.mkOutOfStoreSymlink;
in
{
  home.file =
    builtins.listToAttrs (map (name: {
      name = ".codex/skills/\${name}";
      value.source = oos "\${dotfiles}/skills/\${name}";
    }) [ "alpha" ])
    // builtins.listToAttrs (map (name: { name = ".codex/more/\${name}"; value = { source = oos "\${dotfiles}/skills/\${name}"; }; })
      (builtins.attrNames (builtins.readDir ../skills)))
    // lib.mapAttrs' (name: _: lib.nameValuePair ".codex/viaread/\${name}" { source = oos "\${dotfiles}/skills/\${name}"; })
      (lib.filterAttrs (_: type: type == "directory") (builtins.readDir "\${dotfiles}/skills"))
    // lib.genAttrs [ ".codex/config.toml" ] (_: { source = oos "\${dotfiles}/config/codex/config.toml"; });
}
`,
    )
    expect(r.rows).toEqual([
      '7 .codex/skills/alpha <- dotfiles/skills/alpha',
      '11 .codex/more/alpha <- dotfiles/skills/alpha',
      '11 .codex/more/beta <- dotfiles/skills/beta',
      '13 .codex/viaread/alpha <- dotfiles/skills/alpha',
      '13 .codex/viaread/beta <- dotfiles/skills/beta',
      '15 .codex/config.toml <- dotfiles/config/codex/config.toml',
    ])
  })

  it('comments are not links; # and ; inside strings do not confuse it', () => {
    const w = world()
    const r = read(w, '{ config, ... }:\n{\n  # home.file.".codex".source = x;\n  /* home.file.".codex".source = y; */\n  home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "/a;b#c/config.toml";\n}\n')
    expect(r.rows).toEqual(['5 .codex/config.toml <- /a;b#c/config.toml'.replace('/a;b#c', path.relative(w.home, '/a;b#c'))])
  })

  it('xdg.configFile when CODEX_HOME is ~/.config/codex; nothing outside CODEX_HOME', () => {
    const w = world({codexHome: ''})
    w.env.codexHome = path.join(w.home, '.config', 'codex')
    const r = read(w, '{ config, ... }:\n{\n  xdg.configFile."codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "${config.xdg.configHome}/../dotfiles/config/codex/config.toml";\n  xdg.configFile.nvim.source = ./nvim;\n  home.file.".codex/config.toml".source = ./x;\n}\n')
    expect(r.rows).toEqual(['3 .config/codex/config.toml <- dotfiles/config/codex/config.toml'])
  })

  it('programs.codex generates config.toml, AGENTS.md, skills and rules in the store, on the line of programs.codex', () => {
    const w = world()
    const text = readFileSync(path.join(FIXTURES, 'codex-program.nix'), 'utf8')
    mkdirSync(path.join(w.repo, 'nix', 'skills', 'greeter'), {recursive: true})
    expect(read(w, text).rows).toEqual([
      '3 .codex/config.toml <- null store',
      '3 .codex/AGENTS.md <- dotfiles/nix/codex/AGENTS.md store',
      '3 .codex/skills/greeter <- dotfiles/nix/skills/greeter store',
      '3 .codex/skills/inline <- null store',
      '3 .codex/rules/default.rules <- null store',
    ])
    expect(read(w, '{ programs.codex = { enable = false; settings.model = "x"; }; }').rows).toEqual([])
    expect(read(w, '{ programs.codex.enable = true; }').rows).toEqual([])
  })

  it('inline modules of a flake, NixOS and nix-darwin home-manager.users, evaluated in their own scope', () => {
    const w = world()
    expect(read(w, readFileSync(path.join(FIXTURES, 'flake.nix'), 'utf8'), 'flake.nix').rows).toEqual([
      '26 .codex/config.toml <- dotfiles/codex/config.toml',
      '28 .codex/skills <- dotfiles/skills store',
      '38 .codex/AGENTS.md <- dotfiles/codex/AGENTS.md store',
    ])
    expect(read(w, readFileSync(path.join(FIXTURES, 'nixos-module.nix'), 'utf8')).rows).toEqual(['18 .codex <- /home/alex/dotfiles/config/codex'.replace('/home/alex', path.relative(w.home, '/home/alex'))])
    expect(read(w, readFileSync(path.join(FIXTURES, 'darwin.nix'), 'utf8')).rows).toEqual([
      '15 .codex/prompts <- dotfiles/config/codex/prompts store',
      '16 .codex/config.toml <- null store',
      '16 .codex/AGENTS.md <- null store',
    ])
    expect(read(w, readFileSync(path.join(FIXTURES, 'home-module.nix'), 'utf8')).rows).toEqual([
      '28 .codex/config.toml <- dotfiles/config/codex/config.toml',
      '29 .codex/prompts <- dotfiles/config/codex/prompts',
      '30 .codex/AGENTS.md <- null ?`dotfiles` is not known',
    ])
  })

  it('a file that does not parse is a problem with its line; the other files are still read', () => {
    const w = world()
    const broken = w.file('nix/broken.nix', '{\n  home.file.".codex".source = ;\n}\n')
    const good = w.file('nix/good.nix', NIX_NEW)
    const result = readNixDeclarations([broken, good], w.env)
    expect(rows(w, result.declarations)).toHaveLength(2)
    expect(result.problems).toEqual([{via: 'nix', file: broken.file, line: 2, message: expect.stringMatching(/^does not parse \(line 2, column 31\): unexpected ';'/)}])
  })

  it('an evaluation that would not end stops at the limit, and says so', () => {
    const w = world()
    const r = read(w, '{ config, ... }:\nlet f = n: f (n + 1); in\n{\n  home.file.".codex/config.toml".source = f 0;\n  home.file.".codex/prompts".source = ../config/codex/prompts;\n}\n')
    expect(r.rows).toEqual(['4 .codex/config.toml <- null ?the evaluation limit was reached', '5 .codex/prompts <- dotfiles/config/codex/prompts store'])
    expect(r.problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/evaluation stopped at its limit/))
  })
})

// ---------------------------------------------------------------------------------------------

describe('rewriting the whole-folder link entry by entry (seed step 2)', () => {
  it('the seed\'s exact input gives exactly the seed\'s "After" block', async () => {
    const w = world()
    const out = textOf(rewrite(w, NIX_OLD))
    expect(out).toBe(NIX_NEW)
    await expectNixParses(out, w)
  })

  it('after the rewrite the file declares each entry, out of the store, and no longer the folder', () => {
    const w = world()
    const out = textOf(rewrite(w, readFileSync(path.join(FIXTURES, 'seed-old.nix'), 'utf8'), ['config.toml', 'prompts', 'AGENTS.md']))
    expect(rows(w, readNixDeclarations([{file: path.join(w.repo, 'nix/home.nix'), text: out}], w.env).declarations)).toEqual([
      '7 .codex/config.toml <- dotfiles/config/codex/config.toml',
      '9 .codex/prompts <- dotfiles/config/codex/prompts',
      '11 .codex/AGENTS.md <- dotfiles/config/codex/AGENTS.md',
    ])
  })

  it('the argument written other ways: a variable, a sum, a `target` attribute with its own key', async () => {
    const w = world()
    const variable = textOf(rewrite(w, '{ config, dotfiles, ... }:\nlet\n  inherit (config.lib.file) mkOutOfStoreSymlink;\n  codexDir = "${dotfiles}/config/codex";\nin\n{\n  home.file.".codex".source = mkOutOfStoreSymlink codexDir;\n}\n'))
    expect(variable).toContain('  home.file = {\n    ".codex/config.toml".source = mkOutOfStoreSymlink "${codexDir}/config.toml";\n    ".codex/prompts".source = mkOutOfStoreSymlink "${codexDir}/prompts";\n  };\n')
    const sum = textOf(rewrite(w, '{ config, dotfiles, ... }:\n{\n  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink (dotfiles + "/config/codex");\n}\n', ['prompts']))
    expect(sum).toContain('    ".codex/prompts".source =\n      config.lib.file.mkOutOfStoreSymlink (dotfiles + "/config/codex/prompts");\n')
    const target = textOf(rewrite(w, '{ config, dotfiles, ... }:\n{\n  home.file.codex = {\n    target = ".codex";\n    source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";\n  };\n}\n', ['prompts']))
    expect(target).toBe('{ config, dotfiles, ... }:\n{\n  home.file = {\n    "codex/prompts" = {\n      target = ".codex/prompts";\n      source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/prompts";\n    };\n  };\n}\n')
    for (const out of [variable, sum, target]) await expectNixParses(out, w)
  })

  it('inside home.file = { … }: the new bindings take the folder\'s place, the comment above stays, the neighbours stay', async () => {
    const w = world()
    const before = `{ config, dotfiles, ... }:
{
  home.file = {
    # Codex state lives in the repository (old layout)
    ".codex".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex"; # whole folder
    ".zshrc".source = ./zshrc;
  };
}
`
    const out = textOf(rewrite(w, before))
    expect(out).toBe(`{ config, dotfiles, ... }:
{
  home.file = {
    # Codex state lives in the repository (old layout)
    ".codex/config.toml".source =
      config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/config.toml";
    ".codex/prompts".source =
      config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/prompts"; # whole folder
    ".zshrc".source = ./zshrc;
  };
}
`)
    await expectNixParses(out, w)
  })

  it('home = { file = { ".codex" = { … }; }; } with a helper: link "config/codex" → link "config/codex/<entry>", attributes and comments kept', async () => {
    const w = world()
    const out = textOf(
      rewrite(
        w,
        `{ config, pkgs, ... }:
let
  dotfilesDir = "\${config.home.homeDirectory}/dotfiles";
  link = path: config.lib.file.mkOutOfStoreSymlink "\${dotfilesDir}/\${path}";
in
{
  home = {
    username = "u";
    file = {
      ".codex" = {
        # one link for everything
        source = link "config/codex";
        force = true;
      };
    };
  };
}
`,
        ['config.toml', 'prompts', 'AGENTS.md'],
      ),
    )
    expect(out).toBe(`{ config, pkgs, ... }:
let
  dotfilesDir = "\${config.home.homeDirectory}/dotfiles";
  link = path: config.lib.file.mkOutOfStoreSymlink "\${dotfilesDir}/\${path}";
in
{
  home = {
    username = "u";
    file = {
      # one link for everything
      ".codex/config.toml" = {
        source = link "config/codex/config.toml";
        force = true;
      };
      ".codex/prompts" = {
        source = link "config/codex/prompts";
        force = true;
      };
      ".codex/AGENTS.md" = {
        source = link "config/codex/AGENTS.md";
        force = true;
      };
    };
  };
}
`)
    await expectNixParses(out, w)
  })

  it('a dotted link beside another home.file binding stays dotted (no second home.file block); tabs stay tabs', async () => {
    const w = world()
    const out = textOf(rewrite(w, '{ config, ... }:\nlet\n\toos = config.lib.file.mkOutOfStoreSymlink;\n\tdots = "${config.home.homeDirectory}/dotfiles";\nin {\n\thome.file.".codex".source = oos "${dots}/config/codex";\n\thome.file.".gitconfig".source = oos "${dots}/gitconfig";\n}\n'))
    expect(out).toBe(
      '{ config, ... }:\nlet\n\toos = config.lib.file.mkOutOfStoreSymlink;\n\tdots = "${config.home.homeDirectory}/dotfiles";\nin {\n\thome.file.".codex/config.toml".source = oos "${dots}/config/codex/config.toml";\n\thome.file.".codex/prompts".source = oos "${dots}/config/codex/prompts";\n\thome.file.".gitconfig".source = oos "${dots}/gitconfig";\n}\n',
    )
    await expectNixParses(out, w)
  })

  it('a folder copied into the store becomes out-of-store links through HOME; `config` joins the arguments; 4-space indentation', async () => {
    const w = world()
    const out = textOf(rewrite(w, '{ pkgs, ... }:\n\n{\n    home.packages = [ pkgs.ripgrep ];\n    home.file.".codex".source = ../config/codex;\n}\n'))
    expect(out).toBe(`{ config, pkgs, ... }:

{
    home.packages = [ pkgs.ripgrep ];
    home.file = {
        ".codex/config.toml".source =
            config.lib.file.mkOutOfStoreSymlink "\${config.home.homeDirectory}/dotfiles/config/codex/config.toml";
        ".codex/prompts".source =
            config.lib.file.mkOutOfStoreSymlink "\${config.home.homeDirectory}/dotfiles/config/codex/prompts";
    };
}
`)
    await expectNixParses(out, w)
    const after = readNixDeclarations([{file: path.join(w.repo, 'nix/home.nix'), text: out}], w.env)
    expect(rows(w, after.declarations)).toEqual(['6 .codex/config.toml <- dotfiles/config/codex/config.toml', '8 .codex/prompts <- dotfiles/config/codex/prompts'])
  })

  it('a folder in the store from "${self}/…", with the file\'s alias and dotfiles variable: both reused; multi-line formals', async () => {
    const w = world()
    const out = textOf(rewrite(w, '{\n  self,\n  ...\n}:\nlet\n  dots = "/home/placeholder";\nin\n{\n  home.file.".codex" = { source = "${self}/config/codex"; };\n}\n'))
    await expectNixParses(out, w)
    expect(out).toBe(`{
  config,
  self,
  ...
}:
let
  dots = "/home/placeholder";
in
{
  home.file = {
    ".codex/config.toml" = { source = config.lib.file.mkOutOfStoreSymlink "\${config.home.homeDirectory}/dotfiles/config/codex/config.toml"; };
    ".codex/prompts" = { source = config.lib.file.mkOutOfStoreSymlink "\${config.home.homeDirectory}/dotfiles/config/codex/prompts"; };
  };
}
`)
    const withVariables = textOf(rewrite(w, `{ config, ... }:\nlet\n  oos = config.lib.file.mkOutOfStoreSymlink;\n  dots = "${w.repo}";\nin\n{\n  home.file.".codex".source = ../config/codex;\n}\n`))
    expect(withVariables).toContain('  home.file = {\n    ".codex/config.toml".source = oos "${dots}/config/codex/config.toml";\n    ".codex/prompts".source = oos "${dots}/config/codex/prompts";\n  };\n')
    await expectNixParses(withVariables, w)
  })

  it('a folder in the store, in a file that names the repository `${dotfiles}` elsewhere: the new links say `${dotfiles}` too', async () => {
    const w = world()
    writeFileSync(path.join(w.repo, 'zshrc'), '')
    const text = '{ config, dotfiles, ... }:\n{\n  home.file.".codex".source = ../config/codex;\n  home.file.".zshrc".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/zshrc";\n}\n'
    const out = textOf(rewrite(w, text, ['config.toml']))
    expect(out).toBe(text.replace('  home.file.".codex".source = ../config/codex;\n', '  home.file.".codex/config.toml".source =\n    config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/config.toml";\n'))
    await expectNixParses(out, w)
  })

  it('a ${config.home.homeDirectory} key, an attribute set with a trailing slash in the source', async () => {
    const w = world()
    const out = textOf(rewrite(w, '{ config, dots, ... }:\n{\n  home.file."${config.home.homeDirectory}/.codex" = {\n    source = config.lib.file.mkOutOfStoreSymlink "${dots}/config/codex/";\n    recursive = false;\n  };\n}\n'))
    expect(out).toBe(`{ config, dots, ... }:
{
  home.file = {
    "\${config.home.homeDirectory}/.codex/config.toml" = {
      source = config.lib.file.mkOutOfStoreSymlink "\${dots}/config/codex/config.toml";
      recursive = false;
    };
    "\${config.home.homeDirectory}/.codex/prompts" = {
      source = config.lib.file.mkOutOfStoreSymlink "\${dots}/config/codex/prompts";
      recursive = false;
    };
  };
}
`)
    await expectNixParses(out, w)
  })

  it('a folder link in a set bound by `let`, joined to home.file with //: rewritten where it is written', async () => {
    const w = world()
    const text = '{ config, dotfiles, ... }:\nlet\n  link = config.lib.file.mkOutOfStoreSymlink;\n  codexFiles = {\n    ".codex".source = link "${dotfiles}/config/codex";\n  };\nin\n{\n  home.file = codexFiles // { ".zshrc".source = ./zshrc; };\n}\n'
    const out = textOf(rewrite(w, text))
    expect(out).toBe(text.replace('    ".codex".source = link "${dotfiles}/config/codex";\n', '    ".codex/config.toml".source = link "${dotfiles}/config/codex/config.toml";\n    ".codex/prompts".source = link "${dotfiles}/config/codex/prompts";\n'))
    await expectNixParses(out, w)
  })

  it('every entry already declared beside the folder link: the folder link just goes', async () => {
    const w = world()
    const text = '{ config, dotfiles, ... }:\n{\n  home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/config.toml";\n  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";\n}\n'
    const out = textOf(rewrite(w, text, ['config.toml']))
    expect(out).toBe('{ config, dotfiles, ... }:\n{\n  home.file.".codex/config.toml".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/config.toml";\n}\n')
    await expectNixParses(out, w)
  })

  it('CRLF line endings stay CRLF; every other byte of the file stays', async () => {
    const w = world()
    const before = NIX_OLD.replaceAll('\n', '\r\n').replace('}\r\n', '  /* end */\r\n}\r\n')
    const out = textOf(rewrite(w, before))
    expect(out).toBe(NIX_NEW.replaceAll('\n', '\r\n').replace('  };\r\n}\r\n', '  };\r\n  /* end */\r\n}\r\n'))
    await expectNixParses(out, w)
  })

  it('xdg.configFile."codex" with an identifier key, when CODEX_HOME is ~/.config/codex', async () => {
    const w = world()
    w.env.codexHome = path.join(w.home, '.config', 'codex')
    const nix = w.file('nix/home.nix', '{ config, dotfiles, ... }:\n{\n  xdg.configFile.codex.source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";\n}\n')
    const [folder] = readNixDeclarations([nix], w.env).declarations
    const out = textOf(rewriteNixFolderLink(nix, w.env, folder!, [entry(w, 'config.toml')]))
    expect(out).toBe('{ config, dotfiles, ... }:\n{\n  xdg.configFile = {\n    "codex/config.toml".source =\n      config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/config.toml";\n  };\n}\n')
    await expectNixParses(out, w)
  })

  it('several codex declarations in one file: the one asked for changes; an entry already declared the same way is not repeated', async () => {
    const w = world()
    const text = readFileSync(path.join(FIXTURES, 'seed-old.nix'), 'utf8').replace(
      '  home.file.".claude',
      '  home.file.".codex/AGENTS.md".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/AGENTS.md";\n\n  home.file.".claude',
    )
    const out = textOf(rewrite(w, text, ['config.toml', 'prompts', 'AGENTS.md']))
    expect(out).toBe(
      text.replace(
        '  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";',
        '  home.file.".codex/config.toml".source =\n    config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/config.toml";\n  home.file.".codex/prompts".source =\n    config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex/prompts";',
      ),
    )
    await expectNixParses(out, w)
    const conflicting = text.replace('${dotfiles}/config/codex/AGENTS.md', '${dotfiles}/AGENTS.md')
    expect(rewrite(w, conflicting, ['config.toml', 'AGENTS.md'])).toEqual({error: '~/.codex/AGENTS.md is already declared at line 9 with another source (not known); change that line by hand'})
  })

  it('two folder links in one file (mkIf per platform): each rewritten on its own', async () => {
    const w = world()
    const text = `{ config, lib, pkgs, dotfiles, ... }:
{
  config = lib.mkMerge [
    (lib.mkIf pkgs.stdenv.isDarwin {
      home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex";
    })
    (lib.mkIf pkgs.stdenv.isLinux {
      home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex";
    })
  ];
}
`
    const first = textOf(rewrite(w, text, ['config.toml'], {line: 5}))
    // the first rewrite made the file one line longer
    const both = textOf(rewrite(w, first, ['config.toml'], {line: 11}))
    const block = (indent: string) => `${indent}home.file = {\n${indent}  ".codex/config.toml".source =\n${indent}    config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/config/codex/config.toml";\n${indent}};`
    expect(both).toBe(text.replaceAll('      home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";', block('      ')))
    await expectNixParses(both, w)
  })

  it('a folder declared twice in two files: each file is rewritten, and neither declares the folder afterwards', async () => {
    const w = world()
    const darwin = textOf(rewrite(w, NIX_OLD, ['config.toml', 'prompts'], {rel: 'nix/darwin.nix'}))
    const linux = textOf(rewrite(w, NIX_OLD.replace('home.file.".codex".source', 'home.file."${config.home.homeDirectory}/.codex".source'), ['config.toml', 'prompts'], {rel: 'nix/linux.nix'}))
    const after = readNixDeclarations(
      [
        {file: path.join(w.repo, 'nix/darwin.nix'), text: darwin},
        {file: path.join(w.repo, 'nix/linux.nix'), text: linux},
      ],
      w.env,
    )
    expect(after.declarations.map((d) => path.relative(w.home, d.target))).toEqual(['.codex/config.toml', '.codex/prompts', '.codex/config.toml', '.codex/prompts'])
    await expectNixParses(linux, w)
  })

  it('says why when it cannot: a generated folder link, a module without arguments, a folder not in the file', () => {
    const w = world()
    const generated = w.file('nix/gen.nix', '{ config, dotfiles, ... }:\n{\n  home.file = builtins.listToAttrs [ { name = ".codex"; value.source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex"; } ];\n}\n')
    const [folder] = readNixDeclarations([generated], w.env).declarations
    expect(rewriteNixFolderLink(generated, w.env, folder!, [entry(w, 'config.toml')])).toEqual({error: 'gen.nix:3 generates the link to ~/.codex with an expression; replace it by hand'})
    expect(rewrite(w, '{\n  home.file.".codex".source = ../config/codex;\n}\n')).toEqual({error: expect.stringMatching(/module takes no `\{ config, \.\.\. \}` arguments/)})
    const nix = w.file('nix/other.nix', NIX_NEW)
    expect(rewriteNixFolderLink(nix, w.env, {target: w.env.codexHome, source: null, origin: {via: 'nix', file: nix.file, line: 3}}, [entry(w, 'config.toml')])).toEqual({error: 'other.nix:3 does not declare ~/.codex'})
  })
})

describe('adding per-entry links next to an existing one', () => {
  function add(w: World, text: string, likeTarget: string, names: readonly string[], sourceOf = (n: string) => `skills/${n}`) {
    const nix = w.file('nix/home.nix', text)
    const {declarations} = readNixDeclarations([nix], w.env)
    const like = declarations.find((d) => d.target === path.join(w.env.codexHome, likeTarget))
    if (!like) throw new Error(`no ${likeTarget} in ${JSON.stringify(declarations)}`)
    return addNixLinks(nix, w.env, like, names.map((n) => ({target: path.join(w.env.codexHome, 'skills', n), source: path.join(w.repo, sourceOf(n))})))
  }

  it('inside home.file = { … }, right after the link it copies, in its style', async () => {
    const w = world()
    const out = textOf(add(w, NIX_NEW, 'prompts', ['alpha', 'beta']))
    expect(out).toBe(
      NIX_NEW.replace(
        '"${dotfiles}/config/codex/prompts";\n',
        '"${dotfiles}/config/codex/prompts";\n    ".codex/skills/alpha".source =\n      config.lib.file.mkOutOfStoreSymlink "${dotfiles}/skills/alpha";\n    ".codex/skills/beta".source =\n      config.lib.file.mkOutOfStoreSymlink "${dotfiles}/skills/beta";\n',
      ),
    )
    await expectNixParses(out, w)
  })

  it('dotted, through a helper, after the comment that ends its line', async () => {
    const w = world()
    const text = '{ config, ... }:\nlet\n  link = path: config.lib.file.mkOutOfStoreSymlink "${config.home.homeDirectory}/dotfiles/${path}";\nin {\n  home.file.".codex/prompts".source = link "config/codex/prompts"; # prompts\n  home.file.".codex/config.toml".source = link "config/codex/config.toml";\n}\n'
    const out = textOf(add(w, text, 'prompts', ['alpha']))
    expect(out).toBe(text.replace('# prompts\n', '# prompts\n  home.file.".codex/skills/alpha".source = link "skills/alpha";\n'))
    await expectNixParses(out, w)
  })

  it('a generator over a literal list: the new names join the list', async () => {
    const w = world()
    const text = '{ config, dotfiles, ... }:\nlet\n  skills = [\n    "alpha"\n  ];\nin\n{\n  home.file = builtins.listToAttrs (map (name: {\n    name = ".codex/skills/${name}";\n    value.source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/skills/${name}";\n  }) skills);\n}\n'
    const out = textOf(add(w, text, 'skills/alpha', ['beta']))
    expect(out).toBe(text.replace('    "alpha"\n', '    "alpha"\n    "beta"\n'))
    await expectNixParses(out, w)
  })

  it('a generator over readDir of the repository already declares new skill folders: nothing to change', () => {
    const w = world()
    const text = '{ config, dotfiles, ... }:\n{\n  home.file = builtins.listToAttrs (map (name: {\n    name = ".codex/skills/${name}";\n    value.source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/skills/${name}";\n  }) (builtins.attrNames (builtins.readDir ../skills)));\n}\n'
    expect(add(w, text, 'skills/alpha', ['alpha', 'beta'])).toEqual({text})
  })

  it('next to a link copied into the store, the new ones are too (read-only skills), as path literals', async () => {
    const w = world()
    const text = '{ ... }:\n{\n  home.file.".codex/prompts".source = ../config/codex/prompts;\n}\n'
    const out = textOf(add(w, text, 'prompts', ['alpha']))
    expect(out).toBe(text.replace('prompts;\n', 'prompts;\n  home.file.".codex/skills/alpha".source = ../skills/alpha;\n'))
    await expectNixParses(out, w)
  })

  it('refuses, saying why, when the new link would not verify', () => {
    const w = world()
    expect(add(w, NIX_NEW, 'prompts', ['missing'], (n) => `../outside/${n}`)).toEqual({error: expect.stringMatching(/is not in the repository|would not link/)})
  })
})
