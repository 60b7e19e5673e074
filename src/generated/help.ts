/**
 * `codex-doctor --help` as oclif renders it at ROOT_HELP_COLUMNS, put into the bundle at build
 * time (scripts/build.js defines __ROOT_HELP__); empty elsewhere, and then oclif renders it.
 */
declare const __ROOT_HELP__: string | undefined

export const ROOT_HELP: string = typeof __ROOT_HELP__ === 'string' ? __ROOT_HELP__ : ''
export const ROOT_HELP_COLUMNS = 80
