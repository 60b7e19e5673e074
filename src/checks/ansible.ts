import type {Check} from './types.js'

export const ansible: Check = {
  id: 'ansible',
  title: 'TODO ansible',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
