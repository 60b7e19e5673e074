/**
 * The way in (bin/run.js). The commands people run after every `just switch` start here without
 * loading oclif: `codex-doctor [CHECK_ID...] [FLAGS]` (parsed by the doctor's own flag table),
 * `--version`, `checks` and `--help` off a terminal (its text rendered by oclif at build time,
 * scripts/build.js). Anything else (undo, demo, a flag the fast parser does not know, help on a
 * terminal) goes to oclif, which parses and reports it as it always did.
 */
import {CHECK_TITLES} from './checks/titles.js'
import {parseDoctorArgs} from './commands/doctor-flags.js'
import {ROOT_HELP, ROOT_HELP_COLUMNS} from './generated/help.js'
import {VERSION} from './version.js'

/** `codex-doctor [CHECK_ID...]` is the `doctor` command; only these words name another one. */
const SUBCOMMANDS = new Set(['checks', 'undo', 'demo', 'doctor', '--version', '-v'])

/**
 * Whether oclif would print --help exactly as rendered at build time: off a terminal (no bold
 * headings), without FORCE_COLOR, at its default width of 80 columns.
 */
function plainHelp(): boolean {
  const columns = process.env.OCLIF_COLUMNS
  return !process.stdout.isTTY && !process.env.FORCE_COLOR && (columns === undefined || columns === '' || Number.parseInt(columns, 10) === ROOT_HELP_COLUMNS)
}

/** What the command line asks for, answered without oclif where it can be; false: oclif's turn. */
async function fast(argv: readonly string[]): Promise<boolean> {
  const [first, ...rest] = argv
  if ((first === '--version' || first === '-v') && rest.length === 0) {
    // oclif's user agent, word for word: its platform is wsl on WSL (the same is-wsl, which reads
    // /proc as it loads: only here), its arch x86 for ia32
    const {IS_WSL} = await import('./platform/wsl.js')
    process.stdout.write(`codex-doctor/${VERSION} ${IS_WSL ? 'wsl' : process.platform}-${process.arch === 'ia32' ? 'x86' : process.arch} node-${process.version}\n`)
    return true
  }
  if (first === 'checks' && rest.length === 0) {
    const rows = Object.entries(CHECK_TITLES)
    const width = Math.max(...rows.map(([id]) => id.length))
    process.stdout.write(rows.map(([id, title]) => `${id.padEnd(width)}  ${title}\n`).join(''))
    return true
  }
  if (first === '--help' && rest.length === 0 && ROOT_HELP !== '' && plainHelp()) {
    process.stdout.write(ROOT_HELP)
    return true
  }
  if (first !== undefined && SUBCOMMANDS.has(first)) return false
  if (argv.includes('--help')) return false
  const parsed = parseDoctorArgs(argv)
  if (!parsed) return false
  const {runParsed} = await import('./fast-run.js')
  const code = await runParsed(parsed)
  exitWhenWritten(code)
  return true
}

/**
 * Ends the process once stdout and stderr have taken everything written to them. Everything
 * else a run does is awaited by then (its files written, its processes gone); left to itself, Node
 * would then take its whole heap apart page by page before exiting, about 5 ms of every run.
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
}

/** Runs codex-doctor with these arguments (without node and the script); `root` is the package folder, where oclif finds package.json. */
export async function main(args: readonly string[], root: string): Promise<void> {
  // -h is the short form of --help everywhere; `help [COMMAND]` is `[COMMAND] --help`
  let argv = args.map((arg) => (arg === '-h' ? '--help' : arg))
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help']
  if (await fast(argv)) return
  const {execute} = await import('./oclif.js')
  await execute({args: argv[0] !== undefined && SUBCOMMANDS.has(argv[0]) ? argv : ['doctor', ...argv], dir: root})
}
