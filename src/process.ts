/**
 * Every child process goes through here, on node:child_process: a healthy run starts one or two
 * `git`s, and a process library would cost more to load than they cost to run.
 */
import {spawn} from 'node:child_process'

export interface RunResult {
  stdout: string
  stderr: string
  exitCode: number | undefined
  signal: string | undefined
  timedOut: boolean
  /** Set when the program could not be started at all (ENOENT, EACCES…). */
  failedToStart: string | undefined
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
  input?: string
  /** On timeout, kill the child's whole process group: a launcher (npm's codex.js) leaves its real binary holding our pipes otherwise. */
  killTree?: boolean
  /** Killed (as on a timeout) when this aborts: a run whose answer is no longer wanted. */
  signal?: AbortSignal
  /** 'ignore': no pipe for stderr (a caller that reads only the exit code and stdout saves one). */
  stderr?: 'ignore'
}

const MAX_BUFFER = 16 * 1024 * 1024

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(file, args, {
        env: options.env ?? process.env,
        cwd: options.cwd,
        // its own process group, so that a timeout can kill it with every child it started
        detached: options.killTree ?? false,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', options.stderr ?? 'pipe'],
      })
    } catch (error) {
      resolve({stdout: '', stderr: '', exitCode: undefined, signal: undefined, timedOut: false, failedToStart: (error as NodeJS.ErrnoException).code ?? String(error)})
      return
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    let timedOut = false
    let failedToStart: string | undefined
    const kill = () => {
      try {
        // a hung child is killed hard: it may ignore SIGTERM
        if (options.killTree && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        else child.kill('SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BUFFER) kill()
      else into.push(chunk)
    }
    child.stdout?.on('data', collect(out))
    child.stderr?.on('data', collect(err))
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            kill()
          }, options.timeoutMs)
    const onAbort = () => kill()
    if (options.signal?.aborted) kill()
    else options.signal?.addEventListener('abort', onAbort, {once: true})
    child.on('error', (error: NodeJS.ErrnoException) => {
      failedToStart = error.code ?? error.message
    })
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined)
      child.stdin.end(options.input)
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      // a program that could not start still closes, with a negative errno as its "code"
      const started = failedToStart === undefined
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: started ? (code ?? undefined) : undefined,
        signal: signal ?? undefined,
        timedOut,
        failedToStart: started || timedOut ? undefined : failedToStart,
      })
    })
  })
}

/** Variables that would point git at another repository than `repo` (set, e.g., when we run inside a git hook). */
const GIT_LOCATORS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_NAMESPACE', 'GIT_PREFIX']

/** `git -C repo …`, never redirected to another repository by the environment. */
export async function git(repo: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env = {...(options.env ?? process.env)}
  for (const key of GIT_LOCATORS) delete env[key]
  return run('git', ['-C', repo, ...args], {...options, env, timeoutMs: options.timeoutMs ?? 10_000})
}
