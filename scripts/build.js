#!/usr/bin/env node
/**
 * The build: tsc type-checks and writes dist/ (module by module: the tests' child processes and the
 * benchmarks import parts of it); esbuild writes dist/bundle/, which is what bin/run.js runs. The
 * bundle is built twice: the second time with `--help` as oclif renders it from the first, so that
 * the commonest help needs no oclif at all. With --manifest, then oclif's manifest, from the bundle.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build, transform} from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = (name) => path.join(root, 'node_modules', '.bin', name)

execFileSync(bin('tsc'), ['-p', path.join(root, 'tsconfig.json')], {stdio: 'inherit'})

const outdir = path.join(root, 'dist', 'bundle')
/**
 * esbuild splits only ES modules; each file is then turned into CommonJS (.cjs). Node loads
 * CommonJS without its ES module loader (resolution, linking, a job per module): about 10 ms of
 * every run. `import()` becomes require() of a chunk that is loaded only then.
 */
async function bundle(rootHelp) {
  rmSync(outdir, {recursive: true, force: true})
  const {outputFiles} = await build({
    entryPoints: {
      cli: path.join(root, 'src/cli.ts'),
      commands: path.join(root, 'src/commands/index.ts'),
      'code-cache': path.join(root, 'src/code-cache.ts'),
    },
    outdir,
    outExtension: {'.js': '.cjs'},
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    chunkNames: 'chunks/[name]-[hash]',
    define: {__ROOT_HELP__: JSON.stringify(rootHelp)},
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  })
  for (const file of outputFiles) {
    const usesMetaUrl = file.text.includes('import.meta.url')
    const {code} = await transform(file.text, {
      loader: 'js',
      format: 'cjs',
      platform: 'node',
      target: 'node20.19',
      supported: {'dynamic-import': false},
      define: usesMetaUrl ? {'import.meta.url': '__importMetaUrl'} : {},
      banner: usesMetaUrl ? "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" : '',
      legalComments: 'none',
      logLevel: 'warning',
    })
    mkdirSync(path.dirname(file.path), {recursive: true})
    writeFileSync(file.path, code)
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
