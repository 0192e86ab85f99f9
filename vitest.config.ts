import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // Tests run p4runtime-ts from its TypeScript sources (as tsconfig.json's paths do), so they need
  // no build; the carryover command and the package test run the built JavaScript.
  resolve: {
    alias: [
      { find: /^p4runtime-ts$/, replacement: source('./p4runtime-ts/src/index.ts') },
      { find: /^p4runtime-ts\/proto$/, replacement: source('./p4runtime-ts/src/proto/index.ts') },
    ],
  },
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
