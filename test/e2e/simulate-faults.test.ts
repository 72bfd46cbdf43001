import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEnginechain } from '@enginechain/hardware';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

// The installer's first check against a simulated car whose adapter misbehaves.
describe('enginechain obd against `enginechain simulate` with ELM327 faults', () => {
  it('reports what the car answers and leaves out what it does not (NO DATA for 0D)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enginechain-faults-'));
    const sim = await startEnginechain(
      ['simulate', '--cycle', 'hwfet', '--elm327', 'tcp://127.0.0.1:0', '--elm327-no-data', '0D', '--elm327-delay', '5', '--json'],
      { logPath: join(dir, 'sim.log') },
    ); // prettier-ignore
    try {
      const url = (sim.announced.interfaces as { elm327: string }).elm327;
      const r = await runCli(['obd', '--port', url, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { vin: string; signals: Record<string, unknown> };
      expect(report.vin).toBe(sim.announced.vin);
      expect(report.signals['Vehicle.Powertrain.CombustionEngine.Speed']).toMatchObject({
        unit: 'rpm',
      });
      expect(report.signals['Vehicle.Speed']).toBeUndefined();
    } finally {
      await sim.stop();
    }
  }, 60_000);

  it('says what to check when no adapter answers, and exits non-zero', async () => {
    const r = await runCli(['obd', '--port', 'tcp://127.0.0.1:9', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/check the port/);
  }, 60_000);
});
