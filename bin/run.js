#!/usr/bin/env node
// The bundle (dist/bundle, built by scripts/build.js) is what users run. Both are CommonJS
// (bin/package.json, .cjs): Node then starts no ES module loader, which costs more than the code.
// V8's code cache for it, when one was trained for this Node (src/code-cache.ts), comes first.
const path = require('node:path')

const root = path.join(__dirname, '..')
require('../dist/bundle/code-cache.cjs').useCodeCache(path.join(root, 'dist', 'bundle'))
require('../dist/bundle/cli.cjs').main(process.argv.slice(2), root)
