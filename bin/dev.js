#!/usr/bin/env node
// Same as run.js but ignores the committed manifest, so a freshly built command is seen.
import {execute} from '@oclif/core'

const SUBCOMMANDS = new Set(["checks", "undo", "demo", "help", "doctor", "--version", "-v"])
const argv = process.argv.slice(2)
await execute({args: SUBCOMMANDS.has(argv[0] ?? "") ? argv : ["doctor", ...argv], development: true, dir: import.meta.url})
