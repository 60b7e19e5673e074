#!/usr/bin/env node
// The bundle (dist/bundle, built by scripts/build.js) is what users run: one file to load, not oclif's module tree.
import {main} from '../dist/bundle/cli.js'

await main(process.argv.slice(2), import.meta.url)
