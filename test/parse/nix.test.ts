import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {nixInstantiateParses} from '../../src/declared/nix.js'
import {ancestorsOf, DEFAULT_RULES, lineColumn, parseNix, type NixExpr} from '../../src/parse/nix.js'
import {configValue, knownText, NixEvaluator, Thunk, type Value} from '../../src/parse/nix-eval.js'
import {seededRandom} from '../seeded.js'

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
/** In CI a missing nix-instantiate fails these tests instead of skipping them. */
const withNix = it.runIf(has('nix-instantiate') || process.env.CI)

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'nix')
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.nix'))
  .sort()

const nixHome = mkdtempSync(path.join(os.tmpdir(), 'codex-doctor-nix-parse-'))
afterAll(() => rmSync(nixHome, {recursive: true, force: true}))
const nixEnv = {PATH: process.env.PATH, HOME: nixHome}

function ast(text: string): NixExpr {
  const r = parseNix(text)
  if (!r.ok) throw new Error(`${r.error.line}:${r.error.column} ${r.error.message}`)
  return r.ast
}

/** The tree as a compact string: shows how operators grouped. */
function shape(e: NixExpr): string {
  switch (e.kind) {
    case 'var':
      return e.name
    case 'int':
    case 'float':
      return e.raw
    case 'binary':
      return `(${shape(e.left)} ${e.op} ${shape(e.right)})`
    case 'unary':
      return `(${e.op}${shape(e.operand)})`
    case 'hasAttr':
      return `(${shape(e.expr)} ? ${e.path.map((a) => a.name).join('.')})`
    case 'apply':
      return `(${shape(e.fn)} ${shape(e.arg)})`
    case 'select':
      return `${shape(e.expr)}.${e.path.map((a) => a.name).join('.')}${e.default ? ` or ${shape(e.default)}` : ''}`
    case 'paren':
      return shape(e.expr)
    case 'lambda':
      return `(${e.param?.name ?? '{}'}: ${shape(e.body)})`
    default:
      return e.kind
  }
}

/** Snippets Nix rejects while parsing, and tricky ones it accepts. */
const SNIPPETS = [
  // rejected
  'x',
  '{ a = 1; a = 2; }',
  '{ "a" = 1; a = 2; }',
  '{ a = 1; a.b = 2; }',
  '{ a.b.c = 1; a.b.c = 2; }',
  '{ a = { x = 1; }; a = { x = 2; }; }',
  'let a = 1; in { inherit a; a = 2; }',
  'let a = {}; in { inherit (a) b; b.c = 2; }',
  'let ${"a"} = 1; in 1',
  'let a = 1; in { inherit ${a}; }',
  '{ a, a }: a',
  'x@{ x }: x',
  '1 + if true then 1 else 2',
  'a: a == a == a',
  'a: a < a < a',
  'a: a != a == a',
  './a/',
  '~/a/',
  '~',
  '99999999999999999999',
  '9223372036854775808',
  '1.0e400',
  'let or = 1; in or',
  '{ x }: x or',
  '{ , }: 1',
  '{ ..., a }: a',
  '{ a = 1 }',
  '{ a b }: 1',
  '( 1',
  '1 )',
  '"abc',
  "''abc",
  '/* unterminated',
  'a: a.b or',
  '[ x: x ]',
  'f: f let a = 1; in a',
  'let { }',
  '{ a, b }',
  '__foo',
  'a: a |> a',
  // accepted
  '{ a = { x = 1; }; a = { y = 2; }; }',
  '{ a.b = 1; a = { c = 2; }; }',
  '{ a = rec { c = 2; }; a.b = 1; }',
  '{ a = ({ c = 2; }); a.b = 1; }',
  '{ ${"a"} = 1; b = 2; }',
  'let { body = 1; }',
  '{ a }: a ? b ? c',
  '{ a }: -a ? b',
  '{ or = 1; }',
  'with { or = 1; }; map or [ ]',
  '9223372036854775807',
  '{ a, }: a',
  '{ inherit; }',
  'with {}; x',
  '__curPos',
  '2/3',
  './${"a"}',
  '/${"a"}',
  '<nixpkgs/lib>',
  'https://x.org/a?b=c',
  '"$${x}" + "$" + "\\${x}"',
  "''a''${x}'''''$''",
  '{ "${"a"}" = 1; a = 2; }',
  '1. + .5 + 01.5',
  'x:x',
  'f: f -1',
  'a: a -> a -> a',
  '{ a ? b, b ? 1 }: a',
  '{ a = x: x; }',
  'a: a.or.or or 1',
  'let a.b = 1; a.c = 2; in a',
  '{}@a: a',
  '1 /* c */ + # c\n2',
  "''\n  a\n    b\n''",
  '"a\r\nb"',
  'let\r\n  a = 1;\r\nin a',
]

describe('parsing Nix', () => {
  it('keeps start/end offsets on every node, so the text of a node is exactly its source', () => {
    const text = '{ config, ... }:\n{\n  home.file.".codex".source = config.lib.file.mkOutOfStoreSymlink "${dotfiles}/config/codex";\n}\n'
    const root = ast(text.replace('${dotfiles}', '${config.home.homeDirectory}'))
    expect(root.kind).toBe('lambda')
    const source = 'config.lib.file.mkOutOfStoreSymlink "${config.home.homeDirectory}/config/codex"'
    const at = text.replace('${dotfiles}', '${config.home.homeDirectory}').indexOf(source)
    const chain = ancestorsOf(root, at, at + source.length)
    const apply = chain[chain.length - 1]!
    expect(apply.kind).toBe('apply')
    expect([apply.start, apply.end]).toEqual([at, at + source.length])
  })

  it('groups operators with Nix precedence and associativity', () => {
    const cases: [string, string][] = [
      ['a: b: c: a + b * c', '(a + (b * c))'],
      ['a: b: c: a - b - c', '((a - b) - c)'],
      ['a: b: c: a ++ b ++ c', '(a ++ (b ++ c))'],
      ['a: b: c: a // b // c', '(a // (b // c))'],
      ['a: b: c: a -> b -> c', '(a -> (b -> c))'],
      ['a: b: c: a || b && c', '(a || (b && c))'],
      ['a: b: !a == b', '((!a) == b)'],
      ['a: b: !a + b', '(!(a + b))'],
      ['a: b: a * !b + b', '(a * (!(b + b)))'],
      ['a: -a ? b', '((-a) ? b)'],
      ['a: !a ? b', '(!(a ? b))'],
      ['a: b: a ++ b ? c', '(a ++ (b ? c))'],
      ['a: b: a == b < a', '(a == (b < a))'],
      ['f: x: f x.y or 1', '(f x.y or 1)'],
      ['f: - f 1', '(-(f 1))'],
      ['f: f -1', '(f - 1)'],
      ['f: with { or = 1; }; f or', '(f or)'],
      ['a: b: a // b == b', '((a // b) == b)'],
    ]
    for (const [text, grouped] of cases) {
      let e = ast(text)
      while (e.kind === 'lambda' || e.kind === 'with') e = e.body
      expect(shape(e), text).toBe(grouped)
    }
  })

  it('builds strings as Nix does: escapes, indentation stripping, interpolation', () => {
    const text = (src: string) => {
      const e = ast(src)
      if (e.kind !== 'string') throw new Error(e.kind)
      return e.parts.map((p) => (p.kind === 'text' ? p.value : '<${}>')).join('')
    }
    expect(text('"a\\tb\\n\\"c\\" \\$ $${x} \\${y}"')).toBe('a\tb\n"c" $ $${x} ${y}')
    expect(text("''\n    one\n      two\n    ''")).toBe('one\n  two\n')
    expect(text("''\n  a ''${b} ''' ''\\t c\n''")).toBe("a ${b} '' \t c\n")
    expect(text("''  x ${x} y''".replace('${x}', '${"x"}'))).toBe('x <${}> y')
    expect(text('"cost: 5$"')).toBe('cost: 5$')
    expect(text('"a\r\nb"')).toBe('a\nb')
  })

  it('merges dotted attribute paths the way Nix does, keeping where each key is written', () => {
    const e = ast('{\n  a.b = 1;\n  a = { c = 2; };\n  "d" = 3;\n}')
    if (e.kind !== 'attrs') throw new Error(e.kind)
    const a = e.shape.entries.get('a')!
    expect(a.value.kind).toBe('nested')
    if (a.value.kind !== 'nested') return
    expect([...a.value.shape.entries.keys()].sort()).toEqual(['b', 'c'])
    expect(lineColumn('{\n  a.b = 1;\n  a = { c = 2; };\n  "d" = 3;\n}', e.shape.entries.get('d')!.pos)).toEqual({line: 4, column: 3})
  })

  it('reports errors as {line, column, message}, 1-based, without throwing', () => {
    expect(parseNix('{\n  a = 1;\n  b = ;\n}')).toMatchObject({ok: false, error: {line: 3, column: 7, message: expect.stringMatching(/unexpected ';'/)}})
    expect(parseNix('{ a = 1; a = 2; }')).toMatchObject({ok: false, error: {line: 1, column: 10, message: "attribute 'a' already defined"}})
    expect(parseNix('let\r\n  x = y;\r\nin x')).toMatchObject({ok: false, error: {line: 2, column: 7, message: "undefined variable 'y'"}})
    expect(parseNix('./a/')).toMatchObject({ok: false, error: {message: 'path has a trailing slash'}})
    expect(parseNix('('.repeat(50_000))).toMatchObject({ok: false})
  })

  it("tries at a character only the rules that can match there: each rule's first characters hold every match's", () => {
    // the fixtures, and random text over every ASCII character and a few beyond (seeded: the same each run)
    const next = seededRandom(7)
    const random = (n: number) => next() % n
    const alphabet = [...Array.from({length: 128}, (_, i) => String.fromCharCode(i)), 'é', '→', '😀']
    const texts = fixtures.map((name) => readFileSync(path.join(FIXTURES, name), 'utf8'))
    for (let t = 0; t < 400; t++) texts.push(Array.from({length: 24}, () => alphabet[random(alphabet.length)]).join(''))
    // and text that the rules with long matches need: paths, URIs, numbers, comments
    texts.push('./a/b ~/x/y <nixpkgs/lib> a/${b} ~/${c} https://example.com/x?y=1 1.5e3 .5 007 /* x */ # y\n\'\' z \'\' ... -> // ++')
    let checked = 0
    for (const rule of DEFAULT_RULES) {
      if (!rule.first) continue
      for (const text of texts) {
        for (let at = 0; at < text.length; at++) {
          rule.re.lastIndex = at
          const m = rule.re.exec(text)
          if (!m || m[0] === '') continue
          checked++
          expect(rule.first.test(text[at]!), `${rule.re.source} matches ${JSON.stringify(m[0])}, which starts outside ${rule.first.source}`).toBe(true)
        }
      }
    }
    expect(checked).toBeGreaterThan(1000)
  })

  it.each(fixtures)('fixture %s parses', (name) => {
    const r = parseNix(readFileSync(path.join(FIXTURES, name), 'utf8'))
    expect(r.ok, r.ok ? '' : JSON.stringify(r.error)).toBe(true)
  })

  withNix.each(fixtures)('fixture %s: nix-instantiate --parse agrees', async (name) => {
    const text = readFileSync(path.join(FIXTURES, name), 'utf8')
    expect(await nixInstantiateParses(text, nixEnv)).toEqual({ok: true})
  })

  withNix('accepts exactly what nix-instantiate --parse accepts, snippet by snippet', async () => {
    const disagreements: string[] = []
    // four at a time: each nix-instantiate takes a moment to start
    for (let i = 0; i < SNIPPETS.length; i += 4) {
      const batch = SNIPPETS.slice(i, i + 4)
      const answers = await Promise.all(batch.map((s) => nixInstantiateParses(s, nixEnv)))
      batch.forEach((snippet, j) => {
        const nix = answers[j]
        const ours = parseNix(snippet)
        if (!nix) throw new Error('nix-instantiate is not installed')
        if (nix.ok !== ours.ok) disagreements.push(`${JSON.stringify(snippet)}: nix ${nix.ok ? 'accepts' : `rejects (${nix.message})`}, we ${ours.ok ? 'accept' : `reject (${ours.error.message})`}`)
      })
    }
    expect(disagreements).toEqual([])
    // the list holds both kinds, so the comparison can fail either way
    expect(SNIPPETS.filter((s) => parseNix(s).ok).length).toBeGreaterThan(20)
    expect(SNIPPETS.filter((s) => !parseNix(s).ok).length).toBeGreaterThan(20)
  })

  withNix('agrees with nix-instantiate on fixtures cut short, with a character dropped or an odd token put in', async () => {
    // a fixed pseudo-random sequence, so a failure can be replayed
    let seed = 11
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const tokens = [';', '}', '{', '"', "''", '(', ')', '.', ' or ', '?', '${', '/', '#', '=', ':', '@', ',', '[', ']', '\n', '-', '!', ' in ', 'let ', 'rec ', ' ./a ', '~/', '<a>']
    const variants: string[] = []
    for (const name of fixtures) {
      const text = readFileSync(path.join(FIXTURES, name), 'utf8')
      for (let i = 0; i < 6; i++) {
        const at = next(text.length)
        const how = next(3)
        variants.push(how === 0 ? text.slice(0, at) : how === 1 ? text.slice(0, at) + text.slice(at + 1 + next(5)) : text.slice(0, at) + tokens[next(tokens.length)] + text.slice(at))
      }
    }
    const disagreements: string[] = []
    for (let i = 0; i < variants.length; i += 4) {
      const batch = variants.slice(i, i + 4)
      const answers = await Promise.all(batch.map((v) => nixInstantiateParses(v, nixEnv)))
      batch.forEach((v, j) => {
        if (answers[j]!.ok !== parseNix(v).ok) disagreements.push(JSON.stringify(v))
      })
    }
    expect(disagreements).toEqual([])
  })

  it('nixInstantiateParses is null when nix-instantiate is not installed', async () => {
    expect(await nixInstantiateParses('1', {PATH: nixHome, HOME: nixHome})).toBeNull()
  })
})

// ---------------------------------------------------------------------------------------------

const repo = '/home/u/dotfiles'
function evaluate(text: string, files: Record<string, string[]> = {}): {value: Value; ev: NixEvaluator} {
  const ev = new NixEvaluator({
    file: `${repo}/nix/home.nix`,
    home: '/home/u',
    repo,
    readDir: (p) => (files[p] ? Object.fromEntries(files[p]!.map((n) => [n, 'directory' as const])) : null),
    exists: (p) => Object.keys(files).some((f) => f === p || f.startsWith(`${p}/`)) || Object.entries(files).some(([dir, names]) => names.some((n) => `${dir}/${n}` === p)),
  })
  const env = {vars: new Map([['config', Thunk.of(configValue('/home/u'))], ['lib', Thunk.of(ev.lib)], ['dotfiles', Thunk.of({kind: 'unknown' as const, names: ['dotfiles'], store: false})]]), withSet: null, up: ev.base}
  // the arguments are lambda parameters so that the text parses; their values come from `env`
  let body = ast(`config: lib: dotfiles: ${text}`)
  for (let i = 0; i < 3 && body.kind === 'lambda'; i++) body = body.body
  return {value: ev.eval(body, env), ev}
}

/** A value fully forced, as JSON (unknowns as "<unknown: names>"). */
function json(ev: NixEvaluator, v: Value): unknown {
  switch (v.kind) {
    case 'string':
      return knownText(v) ?? v.pieces.map((p) => (typeof p === 'string' ? p : `<${p.names.join(',')}>`)).join('')
    case 'path':
      return `path:${v.path}`
    case 'int':
    case 'float':
    case 'bool':
      return v.value
    case 'null':
      return null
    case 'list':
      return v.items.map((t) => json(ev, ev.force(t)))
    case 'attrs':
      return Object.fromEntries([...v.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => [k, json(ev, ev.force(e.thunk))]))
    case 'unknown':
      return `<unknown: ${[...v.names, ...(v.reasons ?? [])].join(', ')}>`
    case 'outOfStoreLink':
      return {outOfStore: json(ev, v.target)}
    default:
      return `<${v.kind}>`
  }
}

const PURE = [
  '1 + 2 * 3 - 4 / 2 - -1',
  '[ (1 < 2) (2 <= 2) (3 > 2) (3 >= 4) (1 == 1.0) (1 != 2) ]',
  '!false && true || false -> false',
  '({ a = 1; b = { c = 2; }; } // { b = 3; }).b',
  'let a = { x.y = 1; }; in [ (a ? x.y) (a ? x.z) (a.x.z or "dflt") ]',
  'rec { a = b + 1; b = 2; c = { inherit a; }; }.c.a',
  'let f = { a, b ? a * 10, ... }@args: [ a b (args ? c) ]; in f { a = 1; c = 3; }',
  'builtins.listToAttrs (map (n: { name = "k-${n}"; value = n; }) [ "x" "y" "x" ])',
  'builtins.attrNames { b = 1; a = 2; "Z" = 3; }',
  'builtins.filter (x: x > 1) [ 1 2 3 ]',
  'builtins.foldl\' (acc: x: acc + x) 0 [ 1 2 3 4 ]',
  'builtins.concatLists [ [ 1 ] [ 2 3 ] [ ] ]',
  '[ (builtins.elem 2 [ 1 2 ]) (builtins.hasAttr "a" { a = 1; }) (builtins.baseNameOf "/a/b/c.toml") ]',
  'builtins.replaceStrings [ "a" "" ] [ "b" "-" ] "cat"',
  "''\n    indented ${toString 42}\n      more\n  ''",
  'let { x = 1; body = x + 1; }',
  'with { a = 1; }; let b = 2; in a + b',
  'if builtins.pathExists /nonexistent/for/sure then 1 else 2',
  'builtins.mapAttrs (k: v: "${k}=${toString v}") { a = 1; b = 2; }',
  'builtins.concatStringsSep ", " (builtins.attrValues { b = "two"; a = "one"; })',
  '"${toString [ 1 "a" null true ]}"',
]

describe('evaluating Nix', () => {
  withNix('gives the values nix-instantiate --eval gives on pure expressions', () => {
    for (const expr of PURE) {
      const nix = JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], {env: nixEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})) as unknown
      const {value, ev} = evaluate(expr)
      expect(json(ev, value), expr).toEqual(nix)
    }
  })

  it('keeps what it cannot know as unknown, named in the user\'s words', () => {
    const {value, ev} = evaluate('"${dotfiles}/config/codex"')
    expect(json(ev, value)).toBe('<dotfiles>/config/codex')
    expect(json(ev, evaluate('dotfiles.path + "/x"').value)).toBe('<dotfiles.path>/x')
    expect(json(ev, evaluate('if dotfiles then 1 else 2').value)).toBe('<unknown: dotfiles>')
    expect(json(ev, evaluate('[ (dotfiles == 1) (builtins.elem dotfiles [ 1 ]) ]').value)).toEqual(['<unknown: a comparison involves an unknown value>', '<unknown: a list membership involves an unknown value>'])
    expect(json(ev, evaluate('builtins.attrNames ({ a = 1; } // dotfiles)').value)).toBe('<unknown: dotfiles>')
    expect(json(ev, evaluate('config.home.username').value)).toBe('<unknown: config.home.username>')
  })

  it('knows the module arguments a link needs: the home folder, the XDG folder, mkOutOfStoreSymlink by any name', () => {
    const {value, ev} = evaluate(`let
      oos = config.lib.file.mkOutOfStoreSymlink;
      inherit (config.lib.file) mkOutOfStoreSymlink;
      link = path: config.lib.file.mkOutOfStoreSymlink "\${dotfiles}/\${path}";
    in [ config.home.homeDirectory config.xdg.configHome (oos ./x) (mkOutOfStoreSymlink "/a") (link "b") ]`)
    expect(json(ev, value)).toEqual(['/home/u', '/home/u/.config', {outOfStore: 'path:/home/u/dotfiles/nix/x'}, {outOfStore: '/a'}, {outOfStore: '<dotfiles>/b'}])
  })

  it('follows lib: mkIf/mkMerge/mkForce as module values, genAttrs, mapAttrs\', filterAttrs, flatten, concatMapAttrs', () => {
    const {value, ev} = evaluate(`{
      a = lib.mkIf true { x = 1; };
      b = lib.mkMerge [ { y = 1; } ];
      c = lib.mkForce 3;
      d = lib.genAttrs [ "p" "q" ] (n: n + n);
      e = lib.mapAttrs' (n: v: lib.nameValuePair "\${n}2" v) { r = 1; };
      f = lib.filterAttrs (n: v: v == "directory") { s = "directory"; t = "regular"; };
      g = lib.flatten [ 1 [ 2 [ 3 ] ] ];
      h = lib.attrsets.concatMapAttrs (n: v: { "\${n}!" = v; }) { u = 1; };
      i = lib.optionalAttrs false { no = 1; } // lib.optionalAttrs dotfiles { maybe = 1; };
      j = lib.lists.foldl' (a: b: a // b) { } [ { v = 1; } { w = 2; } ];
    }`)
    expect(json(ev, value)).toEqual({
      a: {_type: 'if', condition: true, content: {x: 1}},
      b: {_type: 'merge', contents: [{y: 1}]},
      c: {_type: 'override', priority: 50, content: 3},
      d: {p: 'pp', q: 'qq'},
      e: {r2: 1},
      f: {s: 'directory'},
      g: [1, 2, 3],
      h: {'u!': 1},
      i: {maybe: 1},
      j: {v: 1, w: 2},
    })
  })

  it('reads folders of the repository through the environment, also behind an unknown root', () => {
    const files = {[`${repo}/skills`]: ['a', 'b']}
    const {value, ev} = evaluate('[ (builtins.attrNames (builtins.readDir ../skills)) (builtins.attrNames (builtins.readDir "${dotfiles}/skills")) ]', files)
    expect(json(ev, value)).toEqual([['a', 'b'], ['a', 'b']])
    expect(ev.repoRootNames).toEqual(new Set(['dotfiles']))
  })

  it('stops at its limits instead of hanging or overflowing', () => {
    const loop = evaluate('let f = n: f (n + 1); in f 0')
    expect(loop.value.kind).toBe('unknown')
    expect(loop.ev.limitHit).toBe(true)
    const self = evaluate('let x = x + 1; in x')
    expect(self.value.kind).toBe('unknown')
    const wide = evaluate('builtins.foldl\' (a: b: a + b) 0 (builtins.genList (x: x) 10000)')
    expect(wide.value).toEqual({kind: 'int', value: 49995000})
    const huge = evaluate('builtins.length (builtins.genList (x: x) 100000000)')
    expect(huge.value.kind).toBe('unknown')
    // doubling 40 times: a list or string of 2^40 items would never fit in memory
    const doubling = (op: string, start: string) => `let step = x: x ${op} x; in builtins.foldl' (acc: _: step acc) ${start} (builtins.genList (x: x) 40)`
    expect(json(wide.ev, evaluate(`builtins.length (${doubling('++', '[ 1 ]')})`).value)).toBe('<unknown: a list grows too long>')
    expect(json(wide.ev, evaluate(`builtins.stringLength (${doubling('+', '"ab"')})`).value)).toBe('<unknown: a string grows too long>')
  })
})
