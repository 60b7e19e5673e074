import type {Check} from './types.js'

export const links: Check = {
  id: 'links',
  title: 'TODO links',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
