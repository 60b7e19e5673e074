// A fixer (or an undo) the kill tests can stop dead: it SIGKILLs itself at the N-th point between
// two disk effects. Runs the built code (dist/), as a user's codex-doctor would.
//   node kill-child.mjs '{"mode":"fix"|"undo","killAt":N|null,"forceCopy":bool,"plan":[...],"stateDir":"...","home":"..."}'
// Prints {"checkpoints":N,"report":...} when it lives to the end.
import {fixRun} from '../../dist/engine/fix.js'
import {undoRun} from '../../dist/actions/undo.js'

const job = JSON.parse(process.argv[2])
let checkpoints = 0
const checkpoint = () => {
  checkpoints += 1
  if (checkpoints === job.killAt) process.kill(process.pid, 'SIGKILL')
}

// the plan is data, as a check would return it; the check always says "fail" so it is always planned
const check = {id: 'codex-home', title: 'synthetic', run: async () => ({status: 'fail', summary: 'synthetic'}), plan: () => job.plan}
const ctx = {home: job.home, stateDir: job.stateDir, env: process.env}

const report =
  job.mode === 'undo'
    ? await undoRun(job.stateDir, {env: process.env, checkpoint})
    : await fixRun(ctx, [check], [{id: 'codex-home', title: 'synthetic', status: 'fail', summary: '', details: {}, remediation: null, durationMs: 0}], {dryRun: false, system: {forceCopy: job.forceCopy, checkpoint}})
process.stdout.write(JSON.stringify({checkpoints, report}) + '\n')
