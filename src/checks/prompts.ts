import type {Check} from './types.js'

export const prompts: Check = {
  id: 'prompts',
  title: 'TODO prompts',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
