import type {Check} from './types.js'

export const codexHome: Check = {
  id: 'codex-home',
  title: 'TODO codex-home',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
