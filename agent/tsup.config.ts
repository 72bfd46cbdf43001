import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  },
  {
    // The `agent` command runs for years on a board with little RAM: its entry is one minified
    // bundle of everything it runs except native addons, so Node keeps one small source string
    // (ASCII, not UTF-16) instead of hundreds of module sources (docs/benchmarks.md measures it).
    entry: ['src/cli.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    minify: true,
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.charset = 'ascii';
      // Native addons stay imports resolved at run time, built for the board (tsup's own
      // `external` loses to `noExternal` above).
      options.external = ['better-sqlite3', 'serialport', '@serialport/*', 'socketcan'];
    },
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: {
      js: "import { createRequire as __agentRequire } from 'node:module'; const require = __agentRequire(import.meta.url);",
    },
  },
]);
