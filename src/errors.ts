/** Bad usage or configuration: the run stops with one line and exit code 2 (SPEC). */
export class UsageError extends Error {
  override name = 'UsageError'
}
