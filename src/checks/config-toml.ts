import type {Check} from './types.js'

export const configToml: Check = {
  id: 'config-toml',
  title: 'TODO config-toml',
  async run() {
    return {status: 'skip', summary: 'not written yet'}
  },
}
