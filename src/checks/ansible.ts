/** How the repository's Ansible tasks link ~/.codex: one task for the whole folder (seed step 3 "Before") or one per entry ("After"). */
import {ansibleEnvironment} from '../declared/read.js'
import {provisioningCheck} from './provisioning.js'

export const ansible = provisioningCheck(
  'ansible',
  async (ctx, where, file, text, folder, entries) => {
    const facts = await ctx.repo()
    if (!facts) return {error: 'the repository cannot be listed'}
    const {rewriteAnsibleFolderLink} = await import('../declared/ansible.js')
    return rewriteAnsibleFolderLink(file, text, folder, entries, ansibleEnvironment({...facts, root: where.repo}, where.repo, where.home, where.codexHome))
  },
  {
    step: 'Seed step 3: make ~/.codex a real folder and link each entry with its own task.',
    entryFix: "Link each entry of ~/.codex with a file task (state: link) whose src is the repository's file, never a copy.",
    run: 'run the playbook',
  },
)
