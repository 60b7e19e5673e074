import type {Check} from './types.js'

export const nix: Check = {
  id: 'nix',
  title: 'TODO nix',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
