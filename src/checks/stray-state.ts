import type {Check} from './types.js'

export const strayState: Check = {
  id: 'stray-state',
  title: 'TODO stray-state',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
