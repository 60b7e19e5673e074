/** oclif's explicit command strategy (package.json "oclif.commands"): the commands and the help class, in the bundle. */
import DoctorHelp from '../help.js'
import Checks from './checks.js'
import Demo from './demo.js'
import Doctor from './doctor.js'
import Undo from './undo.js'

export const COMMANDS = {doctor: Doctor, checks: Checks, undo: Undo, demo: Demo}

export {DoctorHelp}
