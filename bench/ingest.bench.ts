/**
 * Ingestion node (bench/ingest-node.ts), measured in a process of its own started with the
 * NODE_OPTIONS of hardware/kit/systemd/enginechain-ingest.service: the node as an operator runs
 * it, whatever flags `npm run bench` itself runs with.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kitUnitNodeOptions } from '@enginechain/hardware';
import type { BenchSection } from './report.js';

const script = fileURLToPath(new URL('./ingest-node.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export async function run(): Promise<BenchSection> {
  // BENCH_NODE_OPTIONS: try other flags against the same load (the report says which ran).
  const nodeOptions = process.env.BENCH_NODE_OPTIONS ?? kitUnitNodeOptions('enginechain-ingest');
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`bench/ingest-node.ts exited with ${code}`);
  const section = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as BenchSection;
  return {
    ...section,
    notes: [
      ...(section.notes ?? []),
      `Node flags: the node’s process ran with NODE_OPTIONS \`${nodeOptions}\`${process.env.BENCH_NODE_OPTIONS === undefined ? ', those of hardware/kit/systemd/enginechain-ingest.service' : ' (BENCH_NODE_OPTIONS)'}.`,
    ],
  };
}
