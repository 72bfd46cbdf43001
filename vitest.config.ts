import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import sibling packages from source, so `npm test` needs no build first;
// end-to-end tests that spawn the CLI use the built dist/ (CI builds before testing).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@enginechain\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}$1/src/$2.ts` },
      { find: /^@enginechain\/([a-z-]+)$/, replacement: `${root}$1/src/index.ts` },
    ],
  },
  test: {
    include: ['*/src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
