import type {Check} from './types.js'

export const writeTarget: Check = {
  id: 'write-target',
  title: 'TODO write-target',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
