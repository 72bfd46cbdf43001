import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimulation } from './simulate.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'enginechain-simulate-'));
// 6 s of driving: accelerate to 36 km/h and stop.
const SHORT_CYCLE = join(dir, 'short.csv');
writeFileSync(SHORT_CYCLE, 't_s,speed_kmh\n0,0\n2,36\n4,36\n6,0\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first `count` lines a device writes to `path`. */
async function readLines(path: string, count: number): Promise<string[]> {
  const port = new SerialPort({ path, baudRate: 115_200 });
  let buffer = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no lines from ${path}`)), 5000);
      port.on('data', (d: Buffer) => {
        buffer += d.toString('latin1');
        if (buffer.split('\r\n').length > count + 1) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await new Promise<void>((r) => port.close(() => r()));
  }
  return buffer.split('\r\n').slice(1, count + 1); // the first may be cut
}

/** Spawns the real CLI like test/support/run-cli.ts, but keeps the child for signals. */
function spawnCli(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', `${repoRoot}bin/enginechain.js`, ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('startSimulation', () => {
  it('serves NMEA and IMU from the same vehicle on ptys and ends with the cycle', async () => {
    const sim = await startSimulation({
      cycle: SHORT_CYCLE,
      speedup: 2,
      pty: true,
      nmeaRateHz: 10,
      noise: false,
    });
    try {
      expect(sim.simulator.durationS).toBe(6);
      const [nmeaPath, imuPath] = [sim.interfaces.nmea ?? '', sim.interfaces.imu ?? ''];
      expect(existsSync(nmeaPath)).toBe(true);
      const nmea = await readLines(nmeaPath, 8);
      expect(nmea.some((l) => /^\$GNRMC,\d{6}\.\d\d,A,/.test(l))).toBe(true);
      expect(nmea.some((l) => l.startsWith('$GNGGA,'))).toBe(true);
      const imu = await readLines(imuPath, 5);
      for (const line of imu)
        expect(line).toMatch(
          /^\$IMU,\d+,-?\d+\.\d{4},-?\d+\.\d{4},-?\d+\.\d{4},-?\d+\.\d{4}\*[0-9A-F]{2}$/,
        );
      const started = Date.now();
      await sim.finished;
      // 6 simulated seconds at ×2: about 3 s of wall time in all.
      expect(Date.now() - started).toBeLessThan(4000);
      expect(existsSync(nmeaPath)).toBe(false);
    } finally {
      await sim.stop();
    }
  });

  it('refuses a crash the vehicle is too slow for, and an unknown cycle', async () => {
    await expect(startSimulation({ cycle: SHORT_CYCLE, crashAtS: 1 })).rejects.toThrow(/crashAtS/);
    await expect(startSimulation({ cycle: 'wltp' })).rejects.toMatchObject({
      code: 'cycle-not-found',
    });
  });
});

// These spawn the real CLI, which starts only once every package's command files exist.
describe('enginechain simulate (CLI)', () => {
  it('prints one JSON line with the interfaces and exits 0 when the cycle ends', async () => {
    const run = spawnCli([
      'simulate',
      '--cycle',
      SHORT_CYCLE,
      '--speedup',
      '6',
      '--pty',
      '--json',
      '--no-noise',
    ]);
    expect(await run.exited).toBe(0);
    const lines = run.out().trim().split('\n');
    expect(lines.length).toBe(1);
    const summary = JSON.parse(lines[0] ?? '') as {
      durationS: number;
      interfaces: Record<string, string>;
    };
    expect(summary.durationS).toBe(6);
    expect(summary.interfaces.nmea).toMatch(/host$/);
    expect(summary.interfaces.imu).toMatch(/host$/);
  }, 30_000);

  it('closes cleanly on SIGTERM: exit 0, ptys removed', async () => {
    const run = spawnCli(['simulate', '--cycle', 'udds', '--json']);
    const deadline = Date.now() + 20_000;
    while (!run.out().includes('\n') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const summary = JSON.parse(run.out()) as { interfaces: { nmea: string } };
    expect(existsSync(summary.interfaces.nmea)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(existsSync(summary.interfaces.nmea)).toBe(false);
  }, 30_000);

  it('says what is wrong with a bad flag or cycle and exits non-zero', async () => {
    const bad = spawnCli(['simulate', '--cycle', 'wltp']);
    expect(await bad.exited).toBe(1);
    expect(bad.err()).toMatch(/no drive cycle "wltp"/);
    const speed = spawnCli(['simulate', '--cycle', 'udds', '--speedup', '-3']);
    expect(await speed.exited).not.toBe(0);
    expect(speed.err()).toMatch(/speedup.*positive number/);
  }, 30_000);
});
