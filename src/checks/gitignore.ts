import type {Check} from './types.js'

export const gitignore: Check = {
  id: 'gitignore',
  title: 'TODO gitignore',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
