import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // tsup leaves `dependencies` to node_modules but bundles optional ones: socketcan would be
  // copied in with its native .node files (built for the build machine), and where it failed to
  // build (no compiler on the gateway) the bundle would not build at all. It is loaded lazily
  // (loadSocketCan) and must stay an import resolved at run time.
  external: ['socketcan'],
});
