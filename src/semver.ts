/**
 * The few semver functions codex-doctor uses, each from its own module: `import semver from
 * 'semver'` loads all of semver (classes, ranges, every function) on every run.
 */
export {default as gte} from 'semver/functions/gte.js'
export {default as lt} from 'semver/functions/lt.js'
export {default as lte} from 'semver/functions/lte.js'
export {default as valid} from 'semver/functions/valid.js'
