import type {Check} from './types.js'

export const codexVersion: Check = {
  id: 'codex-version',
  title: 'TODO codex-version',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
