/**
 * Bundles the dashboard for browsers: client/main.ts (and the shared evidence verifier it
 * imports) into one ES module, plus the static files, into `outDir`. Used by `npm run build`
 * (ingest/tsup.config.ts) and, when the node runs from TypeScript sources, by the dashboard
 * plugin at startup, so the page served is never older than the sources.
 *
 * Three things make shared code browser-safe here:
 * - shared/src/crypto/backend.ts is swapped for backend.browser.ts (noble instead of
 *   node:crypto): one verifier, two backends, chosen at bundle time;
 * - shared sources are treated as side-effect free, so modules the page does not use (key
 *   files, CLI helpers, which import node:fs) drop out of the bundle;
 * - `Buffer` is a small injected subset (build/buffer-subset.ts).
 * Any Node built-in still reachable after tree-shaking fails the build, naming the importer.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dashboardDir = resolve(here, '..');
const repoRoot = resolve(dashboardDir, '../../..');
const sharedSrc = join(repoRoot, 'shared/src');
const nodeBackend = join(sharedSrc, 'crypto/backend.ts');
const browserBackend = join(sharedSrc, 'crypto/backend.browser.ts');

/** Files the page loads, besides the bundle; all served from the same origin. */
const STATIC_FILES = ['index.html', 'dashboard.css'];

const STUB_NAMESPACE = 'node-builtin-in-browser';

/** The esbuild plugin that makes the shared verifier run in a browser (see the file comment). */
export function browserSharedPlugin(): Plugin {
  return {
    name: 'enginechain-browser-shared',
    setup(build) {
      build.onResolve({ filter: /(^|\/)backend\.(js|ts)$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
        return target === nodeBackend ? { path: browserBackend, sideEffects: true } : undefined;
      });
      // Node built-ins resolve to a stub; if one survives tree-shaking the build fails below.
      build.onResolve({ filter: /^node:|^(fs|path|crypto|os|url|module|child_process)$/ }, (a) => ({
        path: `${a.path} (imported by ${a.importer.replace(`${repoRoot}/`, '')})`,
        namespace: STUB_NAMESPACE,
      }));
      build.onLoad({ filter: /.*/, namespace: STUB_NAMESPACE }, () => ({
        contents: 'module.exports = {};',
        loader: 'js',
      }));
      // Shared sources are pure modules: what the page does not import is dropped.
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(sharedSrc) || args.pluginData === 'resolving') return;
        return build
          .resolve(args.path, {
            kind: args.kind,
            importer: args.importer,
            resolveDir: args.resolveDir,
            pluginData: 'resolving',
          })
          .then((r) =>
            r.errors.length > 0 ? { errors: r.errors } : { path: r.path, sideEffects: false },
          );
      });
      build.onEnd((result) => {
        const stubs = Object.keys(result.metafile?.outputs ?? {}).flatMap((out) =>
          Object.keys(result.metafile?.outputs[out]?.inputs ?? {}).filter((i) =>
            i.startsWith(`${STUB_NAMESPACE}:`),
          ),
        );
        if (stubs.length > 0)
          result.errors.push({
            id: 'node-builtin',
            pluginName: 'enginechain-browser-shared',
            text: `Node built-ins reached the browser bundle: ${stubs.join(', ')}`,
            location: null,
            notes: [],
            detail: undefined,
          });
      });
    },
  };
}

export interface DashboardBuildOptions {
  /** Where index.html, app.js and the CSS go (created if missing). */
  readonly outDir: string;
  readonly minify?: boolean;
}

export interface DashboardBuildResult {
  readonly outDir: string;
  /** Bytes of app.js. */
  readonly bundleBytes: number;
}

/** Builds the dashboard into `outDir`. Throws with esbuild's messages when the build fails. */
export async function buildDashboard(
  options: DashboardBuildOptions,
): Promise<DashboardBuildResult> {
  const { build } = await import('esbuild');
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const require = createRequire(import.meta.url);
  const result = await build({
    entryPoints: [join(dashboardDir, 'client/main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    conditions: ['source'],
    inject: [join(here, 'buffer-subset.ts')],
    plugins: [browserSharedPlugin()],
    minify: options.minify ?? true,
    sourcemap: true,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'silent',
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
  for (const f of STATIC_FILES) await copyFile(join(dashboardDir, 'static', f), join(outDir, f));
  await copyFile(require.resolve('uplot/dist/uPlot.min.css'), join(outDir, 'uplot.css'));
  const bundle = await readFile(join(outDir, 'app.js'));
  await writeFile(join(outDir, 'build.json'), JSON.stringify({ builtAt: Date.now() }) + '\n');
  return { outDir, bundleBytes: bundle.length };
}
