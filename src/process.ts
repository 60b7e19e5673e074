/** Every child process goes through here (execa, imported lazily: it costs ~100 ms of start-up). */
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
}

export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const {execa} = await import('execa')
  const subprocess = execa(file, args, {
    env: options.env,
    extendEnv: options.env === undefined,
    cwd: options.cwd,
    timeout: options.killTree ? undefined : options.timeoutMs,
    // its own process group, so that a timeout can kill it with every child it started
    detached: options.killTree ?? false,
    // a hung child is killed hard: it may ignore SIGTERM
    killSignal: 'SIGKILL',
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 16 * 1024 * 1024,
  })
  let treeTimedOut = false
  const timer =
    options.killTree && options.timeoutMs !== undefined
      ? setTimeout(() => {
          treeTimedOut = true
          try {
            if (subprocess.pid !== undefined) process.kill(-subprocess.pid, 'SIGKILL')
          } catch {
            subprocess.kill('SIGKILL')
          }
        }, options.timeoutMs)
      : undefined
  const result = await subprocess.finally(() => clearTimeout(timer))
  const timedOut = result.timedOut || treeTimedOut
  const failedToStart = result.failed && result.exitCode === undefined && !timedOut && !result.isTerminated ? (result.cause as NodeJS.ErrnoException | undefined)?.code ?? result.shortMessage : undefined
  return {
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut,
    failedToStart,
  }
}

/** Variables that would point git at another repository than `repo` (set, e.g., when we run inside a git hook). */
const GIT_LOCATORS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_NAMESPACE', 'GIT_PREFIX']

/** `git -C repo …`, never redirected to another repository by the environment. */
export async function git(repo: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env = {...(options.env ?? process.env)}
  for (const key of GIT_LOCATORS) delete env[key]
  return run('git', ['-C', repo, ...args], {...options, env, timeoutMs: options.timeoutMs ?? 10_000})
}
