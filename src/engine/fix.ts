import type {Check, CheckResult} from '../checks/types.js'
import type {Context} from '../context/types.js'
import {UsageError} from '../errors.js'
import type {FixReport} from '../report/json.js'

export async function fixRun(_ctx: Context, _checks: readonly Check[], _results: readonly CheckResult[], _options: {dryRun: boolean}): Promise<FixReport> {
  throw new UsageError('--fix is not available yet')
}
