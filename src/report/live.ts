import {Listr} from 'listr2'

import type {Check, CheckResult} from '../checks/types.js'
import type {RunHooks} from '../engine/run-checks.js'

/**
 * The live task list on a TTY: one line per check with a spinner until it ends. The list is
 * cleared afterwards, and the report (the same as off a TTY) is printed in its place.
 */
export async function liveChecks(checks: readonly Check[], work: (hooks: RunHooks) => Promise<CheckResult[]>): Promise<CheckResult[]> {
  const done = new Map<string, (result: CheckResult) => void>()
  const finished = new Map<string, Promise<CheckResult>>()
  for (const check of checks) finished.set(check.id, new Promise((resolve) => done.set(check.id, resolve)))

  const list = new Listr(
    checks.map((check) => ({
      title: check.title,
      task: async (_: unknown, task: {title: string}) => {
        const result = await finished.get(check.id)!
        task.title = `${check.title}: ${result.status}`
      },
    })),
    {concurrent: true, exitOnError: false, rendererOptions: {clearOutput: true, collapseErrors: true}},
  )
  const [results] = await Promise.all([work({onResult: (r) => done.get(r.id)?.(r)}), list.run()])
  return results
}
