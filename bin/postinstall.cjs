// npm runs this after installing codex-doctor: it trains V8's code cache for the Node that
// installed it (src/code-cache.ts). It never fails an install: in a clone that is not built yet
// there is nothing to train, and a training that fails leaves no cache, only slower starts.
const {existsSync} = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const codeCache = path.join(root, 'dist', 'bundle', 'code-cache.cjs')
if (existsSync(codeCache)) {
  require(codeCache)
    .trainCodeCache(root)
    .catch(() => undefined)
}
