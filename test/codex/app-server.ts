/**
 * A real Codex asked, through `codex app-server` (JSON-RPC on stdin/stdout, no network needed),
 * which skills it loads. Run only with HOME, CODEX_HOME and XDG_* in a temp folder; the server's
 * whole process group is killed before the caller removes that folder.
 */
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'

export interface ListedSkill {
  name: string
  description: string
  path: string
  scope: string
}

export interface SkillsList {
  skills: ListedSkill[]
  /** SKILL.md files Codex could not load, with its reason. */
  errors: {path: string; message: string}[]
}

/** SIGKILLs a process group and waits until none of it is left (the app-server writes into CODEX_HOME until it dies). */
export async function killGroup(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pid, 0)
      return true
    } catch {
      return false
    }
  }
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    return
  }
  for (let waited = 0; alive() && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20))
}

/** `skills/list` for `cwds` (default: CODEX_HOME itself), with the given environment. */
export async function codexSkillsList(bin: string, codexHome: string, env: NodeJS.ProcessEnv, cwds: readonly string[] = [codexHome]): Promise<SkillsList> {
  // its own process group: npm's launcher starts the native binary, and both must be gone before the sandbox is removed
  const child = spawn(bin, ['app-server'], {env: {...env, CODEX_HOME: codexHome}, cwd: cwds[0], stdio: ['pipe', 'pipe', 'ignore'], detached: true})
  const send = (msg: object) => child.stdin.write(JSON.stringify({jsonrpc: '2.0', ...msg}) + '\n')
  try {
    return await new Promise<SkillsList>((resolve, reject) => {
      let buffer = ''
      const timer = setTimeout(() => reject(new Error('codex app-server did not answer skills/list within 30 s')), 30_000)
      child.on('error', reject)
      child.on('exit', (code) => reject(new Error(`codex app-server exited (${code}) before answering`)))
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          const msg = JSON.parse(line) as {id?: number; result?: {data: {skills: ListedSkill[]; errors: {path: string; message?: string}[]}[]}}
          if (msg.id === 1) {
            send({method: 'initialized'})
            send({id: 2, method: 'skills/list', params: {cwds}})
          } else if (msg.id === 2 && msg.result) {
            clearTimeout(timer)
            const data = msg.result.data
            resolve({
              skills: data.flatMap((d) => d.skills).map((k) => ({name: k.name, description: k.description, path: k.path, scope: k.scope})),
              errors: data.flatMap((d) => d.errors).map((e) => ({path: e.path, message: e.message ?? ''})),
            })
          }
        }
      })
      send({id: 1, method: 'initialize', params: {clientInfo: {name: 'codex-doctor-test', version: '0'}}})
    })
  } finally {
    await killGroup(child.pid!)
  }
}

/**
 * Starts `codex app-server` (stdin held open, its own process group) and waits for its answer to
 * `initialize`: by then it has opened its state in CODEX_HOME. The caller kills it with killGroup.
 */
export async function startAppServer(bin: string, env: NodeJS.ProcessEnv, cwd: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(bin, ['app-server'], {env, cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true})
  try {
    await new Promise<void>((resolve, reject) => {
      let buffer = ''
      const timer = setTimeout(() => reject(new Error('codex app-server did not answer initialize within 30 s')), 30_000)
      child.on('error', reject)
      child.on('exit', (code) => reject(new Error(`codex app-server exited early (${code})`)))
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        if (buffer.split('\n').some((line) => line.includes('"id":1'))) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stdin.write(JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {clientInfo: {name: 'codex-doctor-test', version: '0'}}}) + '\n')
    })
  } catch (error) {
    await killGroup(child.pid!)
    throw error
  }
  child.removeAllListeners('exit')
  return child
}
