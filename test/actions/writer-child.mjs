// A writer racing a move: appends numbered lines to its files, one line at a time to a file picked
// at random, each by its own open-append-close (as `echo … >> file` does), until a stop file
// appears. A line whose write failed (its folder was removed meanwhile) is not counted.
// Prints {"<file>": <lines written>} when it stops.
//   node writer-child.mjs '{"files":[...],"stop":"...","started":"...","pauseMs":1}'
import {appendFileSync, existsSync, writeFileSync} from 'node:fs'

const job = JSON.parse(process.argv[2])
const written = Object.fromEntries(job.files.map((f) => [f, 0]))
const sleeper = new Int32Array(new SharedArrayBuffer(4))
// the same sequence every run, so that a failure can be replayed
let seed = 12345
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
for (let n = 0; !existsSync(job.stop); n++) {
  const file = job.files[Math.floor(next() * job.files.length)]
  try {
    appendFileSync(file, `${file}#${written[file]}\n`)
    written[file] += 1
  } catch {
    // its folder is gone (the move emptied and removed it): this line was never written
  }
  if (n === 20) writeFileSync(job.started, 'writing\n')
  Atomics.wait(sleeper, 0, 0, job.pauseMs)
}
process.stdout.write(JSON.stringify(written) + '\n')
