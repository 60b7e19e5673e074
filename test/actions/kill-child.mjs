// A fixer (or an undo) the kill tests can stop dead: it SIGKILLs itself at the N-th point between
// two disk effects, the taking and releasing of the lock included. Runs the built code (dist/), as
// a user's codex-doctor would.
//   node kill-child.mjs '{"mode":"fix"|"undo"|"lock","killAt":N|null,"forceCopy":bool,"plan":[...],"stateDir":"...","home":"..."}'
// Prints {"checkpoints":N,"report":...} when it lives to the end.
import {acquireLock} from '../../dist/actions/lock.js'
import {undoRun} from '../../dist/actions/undo.js'
import {fixRun} from '../../dist/engine/fix.js'

const job = JSON.parse(process.argv[2])
let checkpoints = 0
const checkpoint = () => {
  checkpoints += 1
  if (checkpoints === job.killAt) process.kill(process.pid, 'SIGKILL')
}

// the plan is data, as a check would return it; the check always says "fail" so it is always planned
const check = {id: 'codex-home', title: 'synthetic', run: async () => ({status: 'fail', summary: 'synthetic'}), plan: () => job.plan}
const ctx = {home: job.home, stateDir: job.stateDir, env: process.env}
const results = [{id: 'codex-home', title: 'synthetic', status: 'fail', summary: '', details: {}, remediation: null, durationMs: 0}]

let report
if (job.mode === 'lock') {
  // only take the lock and give it back
  const lock = await acquireLock(job.stateDir, 'fix', {checkpoint})
  await lock.release()
} else if (job.mode === 'undo') {
  report = await undoRun(job.stateDir, {env: process.env, checkpoint})
} else {
  // as `codex-doctor --fix` does: the lock first, then the fix under it
  const lock = await acquireLock(job.stateDir, 'fix', {checkpoint})
  try {
    report = await fixRun(ctx, [check], results, {dryRun: false, lockHeld: true, system: {forceCopy: job.forceCopy, checkpoint}})
  } finally {
    await lock.release()
  }
}
process.stdout.write(JSON.stringify({checkpoints, report}) + '\n')
