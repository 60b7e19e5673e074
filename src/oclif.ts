/** oclif, for the command lines the fast path in cli.ts hands over: a file of the bundle of its own (scripts/build.js). */
export {execute} from '@oclif/core'
