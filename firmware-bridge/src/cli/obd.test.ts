/**
 * `enginechain obd` against the ELM327 emulator over TCP and a REAL pty: the logic in-process,
 * and the real CLI spawned (that part needs every command file of the CLI to exist).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/support/run-cli.js';
import {
  fixedVehicle,
  openPtyPair,
  startElm327Server,
  TEST_VIN,
  type Elm327Server,
} from '../elm327/emulator.test-support.js';
import { runObdCheck, type ObdReport } from './obd.js';

let elm: Elm327Server;
beforeAll(async () => {
  elm = await startElm327Server({ vehicle: fixedVehicle(), tcp: { port: 0 }, pty: true });
});
afterAll(() => elm.close());

function expectCarReport(r: ObdReport): void {
  expect(r.adapter).toBe('ELM327 v1.5');
  expect(r.protocol).toBe('ISO 15765-4 CAN (11 bit ID, 500 kbaud)');
  expect(r.vin).toBe(TEST_VIN);
  expect(r.supportedPids).toEqual(expect.arrayContaining(['0C', '0D', '05', 'A4', 'A6']));
  expect(r.signals['Vehicle.Speed']).toEqual({ value: 50, unit: 'km/h' });
  expect(r.signals['Vehicle.Powertrain.CombustionEngine.Speed']).toEqual({
    value: 1726,
    unit: 'rpm',
  });
  expect(r.signals['Vehicle.Powertrain.CombustionEngine.ECT']).toEqual({
    value: 83,
    unit: 'celsius',
  });
  expect(r.signals['Vehicle.Powertrain.Transmission.CurrentGear']?.value).toBe(3);
  expect(r.signals['Vehicle.LowVoltageBattery.CurrentVoltage']).toEqual({ value: 14.1, unit: 'V' });
  expect(r.signals['Vehicle.OBD.FuelType']?.value).toBe('Gasoline');
  expect(r.dtcs).toEqual(['P0301', 'P0420']);
}

describe('runObdCheck', () => {
  it('reports adapter, protocol, VIN, PIDs, values and DTCs over TCP and over a pty', async () => {
    expectCarReport(await runObdCheck({ port: elm.url! }));
    expectCarReport(await runObdCheck({ port: elm.ptyPath!, baudRate: 38400 }));
  });
});

describe('enginechain obd (spawned CLI)', () => {
  it('--json prints exactly one JSON object', async () => {
    const r = await runCli(['obd', '--port', elm.url!, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expectCarReport(JSON.parse(lines[0]!) as ObdReport);
  });

  it('prints a readable report', async () => {
    const r = await runCli(['obd', '--port', elm.ptyPath!]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^adapter +ELM327 v1\.5/m);
    expect(r.stdout).toMatch(/^VIN +1HGCM82633A004352 +\(Honda\)/m);
    expect(r.stdout).toMatch(/^ {2}Vehicle\.Speed +50 km\/h$/m);
    expect(r.stdout).toMatch(/^DTCs +P0301 P0420$/m);
  });

  it('no adapter: non-zero exit and what to check', async () => {
    const pty = await openPtyPair();
    try {
      const r = await runCli(['obd', '--port', pty.hostPath, '--timeout', '300']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/check the port/);
      expect(r.stderr).toMatch(/powered/);
      expect(r.stderr).toMatch(/baud rate/);
      expect(r.stderr).toMatch(/ignition/);
      const j = await runCli(['obd', '--port', 'tcp://127.0.0.1:1', '--json']);
      expect(j.code).not.toBe(0);
      expect(JSON.parse(j.stdout)).toMatchObject({ code: 'no-adapter' });
    } finally {
      await pty.close();
    }
  }, 30_000);
});
