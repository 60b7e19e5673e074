/** Milliseconds on a monotonic clock. Not `performance.now()`: its first use loads nine modules of perf_hooks. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
