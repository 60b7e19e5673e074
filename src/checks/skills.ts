import type {Check} from './types.js'

export const skills: Check = {
  id: 'skills',
  title: 'TODO skills',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
