/** `enginechain ingest` as a real process, for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { repoRoot } from './run-cli.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Announced {
  brokerUrl: string;
  httpUrl: string;
  logOrigin: string;
  checkpointVerifierKey: string;
  receiptPublicKey: string;
  operatorTokenFile: string;
}

/** `enginechain ingest …` as a real process, once it printed the line that says where it listens. */
export function startIngest(
  args: string[],
): Promise<{ child: ChildProcess; info: Announced; stderr: () => string }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `${repoRoot}bin/enginechain.js`, 'ingest', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }); // prettier-ignore
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingest did not start:\n${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as Announced, stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`ingest exited ${code}:\n${stderr}`)));
  });
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
