/**
 * The socat pty pair behind every emulated serial device: a simulator that is killed outright
 * (SIGKILL, a crash) must not leave its socat processes holding ptys for good.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openPtyPair } from './pty-pair.js';

const PTY_PAIR = fileURLToPath(new URL('./pty-pair.ts', import.meta.url));

/** Pids of the processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('openPtyPair', () => {
  it('links two ptys and removes them on close', async () => {
    const pair = await openPtyPair();
    expect(processesMentioning(pair.hostPath)).toHaveLength(1);
    await pair.close();
    await pair.close();
    expect(processesMentioning(pair.hostPath)).toEqual([]);
  });

  it('socat ends when the process that opened the pair is SIGKILLed', async () => {
    const script = `const { openPtyPair } = await import(${JSON.stringify(PTY_PAIR)});
      const pair = await openPtyPair();
      process.stdout.write(JSON.stringify({ hostPath: pair.hostPath }) + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const hostPath = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve((JSON.parse(out) as { hostPath: string }).hostPath);
      });
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    const dir = hostPath.replace(/\/host$/, '');
    try {
      expect(processesMentioning(hostPath)).toHaveLength(1);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const deadline = Date.now() + 5000;
      while (processesMentioning(hostPath).length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(processesMentioning(hostPath)).toEqual([]);
    } finally {
      for (const pid of processesMentioning(hostPath)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
