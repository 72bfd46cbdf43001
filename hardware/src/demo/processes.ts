import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's `bin/enginechain.js`, found by walking up from this module: its depth
 * differs between sources (hardware/src/demo/) and the bundle (hardware/dist/, any chunk).
 */
function findBin(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'enginechain.js');
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) throw new Error('bin/enginechain.js not found above this module');
  }
}

const BIN = findBin();

/** A child `enginechain` process whose first stdout line is a JSON object it announces. */
export interface EnginechainProcess {
  readonly child: ChildProcess;
  /** The first JSON line the command printed (its interfaces). */
  readonly announced: Record<string, unknown>;
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts `enginechain <args>` in a process of its own. Its stderr and the rest of its stdout go
 * to `logPath`.
 */
export async function startEnginechain(
  args: readonly string[],
  options: { logPath: string; announce?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<EnginechainProcess> {
  // From TypeScript sources (tests, `node --import tsx`), children run from sources too, even
  // when this process got there another way (vitest); from dist/, plain node.
  const fromSource = import.meta.url.endsWith('.ts');
  const flags = fromSource ? ['--conditions=source', '--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...flags, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const log = createWriteStream(options.logPath, { flags: 'a' });
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let announced: Record<string, unknown> = {};
  if (options.announce ?? true) {
    announced = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buffer = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `enginechain ${args[0]} did not start within ${options.timeoutMs ?? 30_000} ms (see ${options.logPath})`,
          ),
        );
      }, options.timeoutMs ?? 30_000);
      const onData = (d: Buffer) => {
        buffer += d.toString('utf8');
        const nl = buffer.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.pipe(log);
        try {
          resolve(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        } catch {
          reject(
            new Error(
              `enginechain ${args[0]} printed ${JSON.stringify(buffer.slice(0, nl))} instead of JSON`,
            ),
          );
        }
      };
      child.stdout?.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `enginechain ${args[0]} exited with ${code} before starting (see ${options.logPath})`,
          ),
        );
      });
    });
  } else child.stdout?.pipe(log);
  return {
    child,
    announced,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
