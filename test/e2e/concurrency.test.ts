import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {lstatSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {expect, it} from 'vitest'

import {CODEX, REPO_ROOT} from '../codex-bins.js'
import {type Sandbox, sandboxesPerTest} from '../sandbox.js'
import {cliJson} from './helpers.js'

const sandbox = sandboxesPerTest()

/** The content hash of every file under the folders: where a byte is does not matter, that it is somewhere does. */
function contents(...dirs: string[]): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name)
      const st = lstatSync(full)
      if (st.isDirectory()) {
        if (name !== '.git') walk(full)
      } else if (st.isFile() && name !== 'journal.jsonl' && name !== '.gitignore') out.push(createHash('sha256').update(readFileSync(full)).digest('hex'))
    }
  }
  for (const d of dirs) walk(d)
  return out.sort()
}

function fixInBackground(env: NodeJS.ProcessEnv): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'run.js'), '--fix', '--no-probe', '--codex-bin', CODEX.v089], {env, cwd: env.HOME})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

it('two --fix started at once: one does the work, the other exits 2 naming it, nothing is lost', async () => {
  const s = sandbox({layout: 'old'})
  for (let i = 0; i < 400; i++) s.write(path.join(s.codexDir, 'sessions', '2026', '02', String(i % 28).padStart(2, '0'), `rollout-${i}.jsonl`), `{"i":${i}}\n`)
  const before = contents(s.home)

  const [a, b] = await Promise.all([fixInBackground(s.env), fixInBackground(s.env)])
  const [winner, loser] = a.status === 0 ? [a, b] : [b, a]
  expect([winner.status, loser.status], `${a.stderr}\n${b.stderr}`).toEqual([0, 2])
  expect(loser.stderr).toMatch(/^codex-doctor: another codex-doctor --fix is running \(pid \d+/)
  expect(loser.stdout).toBe('')
  expect(winner.stdout).toMatch(/Fix run \S+:/)

  // every byte is in CODEX_HOME, the repository or a backup; the migration is complete
  expect(contents(s.home, path.join(s.root, 'state'))).toEqual(before)
  const after = cliJson(['--no-probe', '--codex-bin', CODEX.v089], s.env)
  for (const id of ['codex-home', 'links', 'stray-state']) expect(after.json.checks[id].status).toBe('pass')
})
