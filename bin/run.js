#!/usr/bin/env node
import {execute} from '@oclif/core'

// `codex-doctor [CHECK_ID...] [FLAGS]` is the `doctor` command; only these words name another one.
const SUBCOMMANDS = new Set(['checks', 'undo', 'demo', 'help', 'doctor', '--version', '-v'])
// -h is the short form of --help everywhere
const argv = process.argv.slice(2).map((arg) => (arg === '-h' ? '--help' : arg))
await execute({args: SUBCOMMANDS.has(argv[0] ?? '') ? argv : ['doctor', ...argv], dir: import.meta.url})
