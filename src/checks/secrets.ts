import type {Check} from './types.js'

export const secrets: Check = {
  id: 'secrets',
  title: 'TODO secrets',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
