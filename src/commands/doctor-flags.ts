/**
 * The doctor command's flags, once: oclif builds its parser and help from this table
 * (commands/doctor.ts), and the fast path of bin/run.js parses a plain command line with it
 * without loading oclif (cli.ts). Anything the fast parser does not know goes to oclif.
 */
export interface FlagSpec {
  kind: 'boolean' | 'string'
  description: string
  /** A string flag given more than once keeps every value. */
  multiple?: boolean
  /** A boolean that also has a --no- form. */
  allowNo?: boolean
  default?: boolean
  helpValue?: string
  dependsOn?: string[]
}

export const DOCTOR_FLAGS = {
  fix: {kind: 'boolean', description: 'apply automatic fixes, then run the checks again and report'},
  'dry-run': {kind: 'boolean', description: 'with --fix: print the planned actions (and the diff of each edit), write nothing', dependsOn: ['fix']},
  json: {kind: 'boolean', description: 'print one JSON document on stdout and nothing else there'},
  skip: {kind: 'string', description: 'skip a check (repeatable)', multiple: true, helpValue: 'ID'},
  strict: {kind: 'boolean', description: 'a warning fails the run (exit 1)'},
  'codex-home': {kind: 'string', description: 'Codex home folder [default: $CODEX_HOME, else ~/.codex]', helpValue: 'DIR'},
  dotfiles: {kind: 'string', description: 'dotfiles repository [default: $DOTFILES, else detected through the links]', helpValue: 'DIR'},
  'codex-bin': {kind: 'string', description: 'codex binary to inspect [default: codex on PATH]', helpValue: 'PATH'},
  'min-version': {kind: 'string', description: 'lowest acceptable Codex version [default: 0.88.0]', helpValue: 'SEMVER'},
  probe: {kind: 'boolean', description: 'run the write probe (--no-probe skips it)', allowNo: true, default: true},
  verbose: {kind: 'boolean', description: 'show details of every check (each entry with its declaration and link chain) and timings'},
  'ignore-running-codex': {
    kind: 'boolean',
    description: "with --fix: go on although a process that may be Codex could not be inspected (another user's, hidepid); a Codex seen using the files always stops --fix",
    dependsOn: ['fix'],
  },
} as const satisfies Record<string, FlagSpec>

export interface DoctorFlags {
  fix: boolean
  'dry-run': boolean
  json: boolean
  skip?: string[]
  strict: boolean
  'codex-home'?: string
  dotfiles?: string
  'codex-bin'?: string
  'min-version'?: string
  probe: boolean
  verbose: boolean
  'ignore-running-codex': boolean
}

/**
 * A plain doctor command line (`[CHECK_ID...] --flag --flag=value --flag value`) parsed as oclif
 * would; null for anything else (an unknown flag, a missing value, a flag without the one it
 * depends on, `--`…), which then goes to oclif for its own message.
 */
export function parseDoctorArgs(args: readonly string[]): {ids: string[]; flags: DoctorFlags} | null {
  const flags: Record<string, unknown> = {fix: false, 'dry-run': false, json: false, strict: false, probe: true, verbose: false, 'ignore-running-codex': false}
  const ids: string[] = []
  // oclif reads the words after a repeatable flag's value as more values of it: left to oclif
  let afterMultiple = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith('-')) {
      if (afterMultiple) return null
      ids.push(arg)
      continue
    }
    if (!arg.startsWith('--') || arg === '--') return null
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const table = DOCTOR_FLAGS as Record<string, FlagSpec>
    const own = table[name]
    // `--no-X` only for a boolean X that has that form (never `--no-dotfiles DIR`)
    const negated = !own && name.startsWith('no-') && table[name.slice(3)]?.kind === 'boolean' && table[name.slice(3)]?.allowNo ? name.slice(3) : null
    const spec = own ?? (negated ? table[negated] : undefined)
    if (!spec) return null
    if (spec.kind === 'boolean') {
      if (eq !== -1) return null
      if (negated) flags[negated] = false
      else flags[name] = true
      continue
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : args[++i]
    // a value that looks like a flag (`--dotfiles=--json` too) is for oclif to judge
    if (value === undefined || value.startsWith('-')) return null
    if (spec.multiple) {
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), value]
      afterMultiple = true
    } else if (flags[name] !== undefined) return null
    else flags[name] = value
  }
  for (const [name, spec] of Object.entries(DOCTOR_FLAGS as Record<string, FlagSpec>)) {
    const given = flags[name] !== undefined && flags[name] !== false && !(spec.default === true && flags[name] === true)
    if (given && spec.dependsOn?.some((other) => !flags[other])) return null
  }
  return {ids, flags: flags as unknown as DoctorFlags}
}
