import type {Check} from './types.js'

export const writeProbe: Check = {
  id: 'write-probe',
  title: 'TODO write-probe',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
