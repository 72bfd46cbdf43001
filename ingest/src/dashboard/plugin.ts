/**
 * Serves the dashboard (a static single page plus its bundle) at `/`, with a strict
 * Content-Security-Policy: scripts, styles and data from this origin only, no inline script,
 * no framing. The page talks only to the node's own API.
 *
 * Where the files come from:
 * - built (`npm run build`): dist/dashboard/, next to the bundled node code; missing files fail
 *   at startup, not at the first request;
 * - from TypeScript sources (tests, `node --import tsx`): bundled at startup with esbuild
 *   into a temporary directory removed on close, so the page always matches the sources and
 *   no test has to remember a build step (about a second on a busy 2-core machine).
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface DashboardOptions {
  /** Serve these built files instead (a directory holding index.html and app.js). */
  readonly root?: string;
}

/** The Content-Security-Policy every dashboard response carries. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const fromSources = import.meta.url.endsWith('.ts');

async function dashboardRoot(app: FastifyInstance, options: DashboardOptions): Promise<string> {
  if (options.root) return options.root;
  if (fromSources) {
    // A computed specifier keeps bundlers from following it: esbuild is a build tool, only
    // needed (and only present) when running from sources.
    const builder = new URL('./build/build-dashboard.ts', import.meta.url).href;
    const { buildDashboard } = (await import(
      builder
    )) as typeof import('./build/build-dashboard.js');
    const outDir = await mkdtemp(join(tmpdir(), 'enginechain-dashboard-'));
    app.addHook('onClose', async () => rm(outDir, { recursive: true, force: true }));
    await buildDashboard({ outDir });
    return outDir;
  }
  return fileURLToPath(new URL('./dashboard/', import.meta.url));
}

async function dashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const root = await dashboardRoot(app, options);
  for (const file of ['index.html', 'app.js']) {
    await access(join(root, file)).catch(() => {
      throw new Error(
        `dashboard: ${join(root, file)} is missing; run \`npm run build\` (or pass root)`,
      );
    });
  }
  // Encapsulated: the static routes and the CSP hook apply to the dashboard's files only.
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', DASHBOARD_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cache-control', 'no-cache');
      return payload;
    });
    await scope.register(fastifyStatic, {
      root,
      prefix: '/',
      index: ['index.html'],
      // One route per file present at startup: unknown paths fall through to the API's 404.
      wildcard: false,
      allowedPath: (path) => !path.endsWith('/build.json'),
    });
  });
}

/** The dashboard as a Fastify plugin; the node registers it last in buildApp. */
export const dashboardPlugin = fp(dashboard, { name: 'enginechain-dashboard', fastify: '5.x' });
