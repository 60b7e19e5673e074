#!/usr/bin/env node
/**
 * The build: tsc type-checks and writes dist/ (module by module: the tests' child processes and the
 * benchmarks import parts of it); esbuild writes dist/bundle/, which is what bin/run.js runs. The
 * bundle is built twice: the second time with `--help` as oclif renders it from the first, so that
 * the commonest help needs no oclif at all. With --manifest, then oclif's manifest, from the bundle.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build, transform} from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = (name) => path.join(root, 'node_modules', '.bin', name)

execFileSync(bin('tsc'), ['-p', path.join(root, 'tsconfig.json')], {stdio: 'inherit'})

const outdir = path.join(root, 'dist', 'bundle')
const VERSION = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version
const src = (rel) => path.join(root, 'src', rel)

/**
 * What a run loads is two files: `cli.cjs` (bin/run.js's way in: the fast path's parser, --version,
 * checks, --help) and `doctor.cjs` (everything a check or a fix runs), each bundled as CommonJS in
 * one scope, where calls between modules are plain calls. A file more costs a run its resolution,
 * its read and its cache, and a module split off into a chunk of its own costs every call into it
 * a getter: on a healthy machine, the same code in 20 chunks took 6 ms more of a 67 ms run.
 *
 * Beside them, what a plain run does not load, built with esbuild's splitting (ES modules, each
 * file then turned into CommonJS) so that they share one copy of what they have in common: oclif
 * and its commands (whatever the fast path hands over), and the leaves the single files reach
 * only on some runs, by file name. A leaf and the file that loads it each have their own copy of
 * what both import: a leaf imports nothing that keeps state or whose class is tested with
 * instanceof (LEAVES_MAY_IMPORT, checked below). cli.cjs hands doctor.cjs plain data only, and
 * doctor.cjs reports its own errors, whose classes are its own.
 */
const ALONE = {
  cli: src('cli.ts'),
  doctor: src('fast-run.ts'), // a parsed `codex-doctor [CHECK_ID...]` run, from cli.cjs
  'code-cache': src('code-cache.ts'), // loaded first, before any cache is in place
}
const SPLIT = {
  oclif: src('oclif.ts'), // anything the fast path hands over
  commands: src('commands/index.ts'), // oclif's commands (package.json "oclif.commands")
  ansible: src('declared/ansible.ts'), // yaml, for a repository with Ansible files
  live: src('report/live.ts'), // listr2, on a terminal
  'skill-yaml': src('parse/skill-yaml.ts'), // yaml, for front matter the simple reader does not take
  wsl: src('platform/wsl.ts'), // is-wsl, for --version
  'old-layout': src('demo/old-layout.ts'), // the code cache's training machine
}

/** What a leaf loaded by a single file may have its own copy of: modules without state or classes. */
const LEAVES_MAY_IMPORT = new Set(['src/process.ts', 'src/parse/jinja.ts'])
/** oclif and its commands share nothing with the single files: once cli.cjs hands over, only they run. */
const NOT_LEAVES = new Set(['oclif', 'commands'])

/** In the single files, `import()` of another bundle file's module loads that file. */
const filesApart = (self) => ({
  name: 'files-apart',
  setup(build) {
    const byModule = new Map()
    for (const [name, entry] of [...Object.entries(ALONE), ...Object.entries(SPLIT)]) {
      if (name !== self) byModule.set(entry.replace(/\.ts$/, '.js'), name)
    }
    build.onResolve({filter: /^\./}, (args) => {
      const name = args.kind === 'dynamic-import' ? byModule.get(path.resolve(args.resolveDir, args.path)) : undefined
      return name ? {path: `./${name}.cjs`, external: true} : undefined
    })
  },
})

/**
 * A Node module that a bundled module imports whole (`import path from 'node:path'`) is copied
 * into an ES module namespace for that importer, 44 times for node:path in doctor.cjs: here each
 * is a module of the bundle, imported once, that the others import from. Only for doctor.cjs: in
 * the small files each builtin has one importer, and copying all its names costs more (0.5 ms).
 */
const builtinsOnce = {
  name: 'builtins-once',
  setup(build) {
    build.onResolve({filter: /^node:/}, (args) => (args.namespace === 'builtin-once' ? {path: args.path, external: true} : {path: args.path, namespace: 'builtin-once'}))
    build.onLoad({filter: /.*/, namespace: 'builtin-once'}, (args) => ({
      // the default export is the module itself (as Node gives it), not a copy; the named ones are copied once
      contents: `export default require('${args.path}')\nexport * from '${args.path}'\n`,
      loader: 'js',
    }))
  },
}

const common = {
  absWorkingDir: root,
  outdir,
  outExtension: {'.js': '.cjs'},
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
}

/** import.meta.url, where a module reads it (version.ts), is the bundle file's own. */
const META_URL_BANNER = "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;"

/**
 * esbuild escapes every non-ASCII character of strings and regular expressions, but copies some
 * comments as they are. A file with one such character is read as UTF-8 the slow way: 1.5 ms for
 * doctor.cjs instead of 0.5. The files a run loads must be ASCII: the build names what is not.
 */
function assertAscii(file, code) {
  const at = code.search(/[^\x00-\x7f]/)
  if (at === -1) return
  const line = code.slice(0, at).split('\n').length
  process.stderr.write(`build: ${path.relative(root, file)}:${line} is not ASCII (a comment in the sources, most likely): ${code.split('\n')[line - 1].trim()}\n`)
  process.exit(1)
}

/** A leaf's own modules beyond LEAVES_MAY_IMPORT, and a leaf a single file took in whole: the build stops. */
async function checkLeaves(singleInputs) {
  const problems = []
  for (const [name, entry] of Object.entries(SPLIT)) {
    if (NOT_LEAVES.has(name)) continue
    const rel = path.relative(root, entry)
    for (const [file, inputs] of singleInputs) if (inputs.includes(rel)) problems.push(`${file} holds the leaf ${rel} (imported, not import()ed)`)
    const {metafile} = await build({...common, entryPoints: [entry], outdir: path.join(outdir, 'leaf-check'), format: 'esm', metafile: true})
    for (const input of Object.keys(metafile.inputs)) {
      if (input.startsWith('src/') && input !== rel && !LEAVES_MAY_IMPORT.has(input)) problems.push(`the leaf ${rel} has its own copy of ${input}`)
    }
  }
  if (problems.length === 0) return
  process.stderr.write(problems.map((p) => `build: ${p} (see LEAVES_MAY_IMPORT in scripts/build.js)\n`).join(''))
  process.exit(1)
}

async function bundle(rootHelp) {
  const define = {__ROOT_HELP__: JSON.stringify(rootHelp), __VERSION__: JSON.stringify(VERSION)}
  const out = []
  const singleInputs = []
  for (const [name, entry] of Object.entries(ALONE)) {
    const options = {
      ...common,
      entryPoints: {[name]: entry},
      format: 'cjs',
      // another file's import() is a require(): in vm.Script (the code cache) import() has no loader
      supported: {'dynamic-import': false},
      plugins: name === 'doctor' ? [filesApart(name), builtinsOnce] : [filesApart(name)],
      // half the bytes to read (doctor.cjs: 446 -> 261 kB) and shorter names in V8's cache: 1 ms of a
      // run. The map beside it points into src/ (in a checkout): node --enable-source-maps bin/run.js.
      // CODEX_DOCTOR_BUILD_READABLE=1 npm run build: not minified, for a profile (node --cpu-prof) with names
      minifyWhitespace: !process.env.CODEX_DOCTOR_BUILD_READABLE,
      minifyIdentifiers: !process.env.CODEX_DOCTOR_BUILD_READABLE,
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      define: {...define, 'import.meta.url': '__importMetaUrl'},
    }
    let result = await build(options)
    // esbuild's banner, not a line put before its output: the map then counts it
    if (result.outputFiles.some((f) => f.text.includes('__importMetaUrl'))) result = await build({...options, banner: {js: META_URL_BANNER}})
    for (const file of result.outputFiles) {
      if (!file.path.endsWith('.map')) assertAscii(file.path, file.text)
      out.push({file: file.path, code: file.text})
    }
    singleInputs.push([`${name}.cjs`, Object.keys(result.metafile.inputs)])
  }
  await checkLeaves(singleInputs)
  // the rest: esbuild splits only ES modules; each file is then turned into CommonJS (.cjs), whose
  // `import()` becomes a require() of a chunk that is loaded only then
  const {outputFiles} = await build({
    ...common,
    entryPoints: SPLIT,
    splitting: true,
    format: 'esm',
    chunkNames: 'chunks/[name]-[hash]',
    define,
  })
  for (const file of outputFiles) {
    const {code} = await transform(file.text, {
      loader: 'js',
      format: 'cjs',
      platform: 'node',
      target: 'node20.19',
      supported: {'dynamic-import': false},
      define: file.text.includes('import.meta.url') ? {'import.meta.url': '__importMetaUrl'} : {},
      legalComments: 'none',
      logLevel: 'warning',
    })
    out.push({file: file.path, code: code.includes('__importMetaUrl') ? `${META_URL_BANNER}\n${code}` : code})
  }
  // written only once all of it is built and checked: a failed build leaves no half of a bundle
  rmSync(outdir, {recursive: true, force: true})
  for (const {file, code} of out) {
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, code)
  }
}

await bundle('')
// `doctor --help` always goes through oclif; `--help` is the same command's help. oclif reads flags
// from .oclif.manifest.json when there is one: set aside, so the help is the code's, not a stale manifest's
const manifest = path.join(root, '.oclif.manifest.json')
const aside = `${manifest}.build-aside`
const putBack = () => {
  if (existsSync(aside)) renameSync(aside, manifest)
}
// a build killed while the manifest was aside: this one puts it back first
if (!existsSync(manifest)) putBack()
if (existsSync(manifest)) renameSync(manifest, aside)
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (putBack(), process.exit(130)))
const helpEnv = {...process.env, OCLIF_COLUMNS: '80', NO_COLOR: '1'}
delete helpEnv.FORCE_COLOR
let help
try {
  help = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'doctor', '--help'], {encoding: 'utf8', env: helpEnv})
} finally {
  putBack()
}
if (help.status !== 0 || !help.stdout.includes('codex-doctor [CHECK_ID...]')) {
  process.stderr.write(`build: could not render --help (exit ${help.status}):\n${help.stderr}`)
  process.exit(1)
}
await bundle(help.stdout)

// V8's code cache for this Node, as npm's postinstall makes it for the Node that installs the package
{
  const {trainCodeCache} = createRequire(import.meta.url)(path.join(outdir, 'code-cache.cjs'))
  const trained = await trainCodeCache(root)
  if (!trained.ok) process.stderr.write(`build: no code cache (start-up will be slower): ${trained.reason}\n`)
}

// oclif trusts .oclif.manifest.json (committed, packed) over the code: `npm run manifest` rewrites it, and a test compares
if (process.argv.includes('--manifest')) execFileSync(bin('oclif'), ['manifest'], {cwd: root, stdio: 'inherit'})
