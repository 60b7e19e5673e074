import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // oclif writes straight to process.stdout; let tests that run commands in-process see it
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // real Codex binaries and git: two cores, so keep the pool small
    maxWorkers: 2,
  },
})
