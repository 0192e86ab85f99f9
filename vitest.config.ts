import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['p4runtime-ts/src/**/*.test.ts', 'sim/**/*.test.ts', 'plugin/**/*.test.ts', 'controller/**/*.test.ts', 'hw-test/**/*.test.ts', 'scenarios/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores here: more workers only fight over them.
    maxWorkers: 2,
    // .ci/run reads the counts from this report.
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});
