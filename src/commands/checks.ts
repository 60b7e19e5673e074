import {Flags} from '@oclif/core'

import {CHECKS} from '../checks/index.js'
import {BaseCommand} from './base.js'

export default class Checks extends BaseCommand {
  static override summary = 'List the check ids and what each one verifies.'
  static override flags = {json: Flags.boolean({description: 'print the list as JSON'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(Checks)
    if (flags.json) {
      process.stdout.write(JSON.stringify(CHECKS.map((c) => ({id: c.id, title: c.title})), null, 2) + '\n')
      return
    }
    const width = Math.max(...CHECKS.map((c) => c.id.length))
    for (const check of CHECKS) process.stdout.write(`${check.id.padEnd(width)}  ${check.title}\n`)
  }
}
