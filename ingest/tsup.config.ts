import { defineConfig } from 'tsup';
import { buildDashboard } from './src/dashboard/build/build-dashboard.js';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'verify-worker': 'src/pipeline/verify-worker.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The browser bundle is built after the node code (its own esbuild run, platform browser,
  // crypto backend swapped for noble) so `clean` never races it: dist/dashboard/ is what
  // dashboardPlugin serves when the node runs from dist.
  onSuccess: async () => {
    const { bundleBytes } = await buildDashboard({ outDir: 'dist/dashboard' });
    console.log(`dashboard: dist/dashboard/app.js ${(bundleBytes / 1024).toFixed(0)} KiB`);
  },
});
