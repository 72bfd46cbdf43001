import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DbcSignalSource,
  Elm327Client,
  Elm327Source,
  ImuSource,
  NmeaSource,
  ReconnectingSource,
  SlcanSource,
  type Reading,
  type SignalSource,
} from '@enginechain/firmware-bridge';
import {
  loadSimVehicleDbc,
  SIM_VEHICLE_VSS_MAPPING,
  startEnginechain,
  type EnginechainProcess,
} from '@enginechain/hardware';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

// Issue 4: `enginechain simulate` plays one consistent vehicle and serves it as an ELM327 (TCP
// and a pty), as SLCAN and as NMEA and IMU over ptys. One real simulate process here, every
// interface read at once by the real firmware-bridge sources, and its fault flags seen by them.

const dir = mkdtempSync(join(tmpdir(), 'enginechain-sim-ifs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 0 → 72 km/h in 10 s, then a long cruise: every interface must then say 72 km/h.
const CRUISE_KMH = 72;
const CYCLE = join(dir, 'cruise.csv');
writeFileSync(CYCLE, `t_s,speed_kmh\n0,0\n10,${CRUISE_KMH}\n3000,${CRUISE_KMH}\n`);

interface Interfaces {
  nmea: string;
  imu: string;
  slcan: string;
  elm327: string;
  elm327Pty: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function simulate(extra: string[]): Promise<EnginechainProcess> {
  const sim = await startEnginechain(
    ['simulate', '--cycle', CYCLE, '--speedup', '10', '--no-noise', '--elm327', 'tcp://127.0.0.1:0', '--json', ...extra],
    { logPath: join(dir, 'simulate.log') },
  ); // prettier-ignore
  cleanups.push(() => sim.stop());
  return sim;
}

/** Opens `source` and returns every reading it gives within `ms`, then closes it. */
async function collect(source: SignalSource, ms: number): Promise<Reading[]> {
  await source.open();
  cleanups.push(() => source.close());
  const out: Reading[] = [];
  const it = source.readings()[Symbol.asyncIterator]();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      it.next(),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 200))),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') continue;
    if (next.done) break;
    out.push(next.value);
  }
  await source.close();
  return out;
}

/** The latest reading of each signal within `ms`. */
async function latest(source: SignalSource, ms: number): Promise<Map<string, Reading>> {
  return new Map((await collect(source, ms)).map((r) => [r.name, r]));
}

const value = (m: Map<string, Reading>, name: string) => m.get(name)?.value as number | undefined;

describe('enginechain simulate: one vehicle on every interface', () => {
  it('ELM327 over TCP and pty, SLCAN, NMEA and IMU agree on speed, engine speed and VIN', async () => {
    const sim = await simulate(['--dtc', 'P0420@1', '--nmea-rate', '5']);
    const ifs = sim.announced.interfaces as Interfaces;
    expect(ifs.elm327).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    // 10 simulated seconds of acceleration take 1 s at ×10: wait for the cruise.
    await new Promise((r) => setTimeout(r, 1500));

    const obd: Record<string, { speed: number; rpm: number; vin: string }> = {};
    for (const [link, port] of [
      ['tcp', ifs.elm327],
      ['pty', ifs.elm327Pty],
    ] as const) {
      const client = await Elm327Client.connect({ port });
      cleanups.push(() => client.close());
      const [engine] = await client.readPids([0x0c, 0x0d]);
      const data = new Map(engine!.pids.map((p) => [p.pid, p.data]));
      const rpmBytes = data.get(0x0c)!;
      obd[link] = {
        speed: data.get(0x0d)![0]!,
        rpm: (rpmBytes[0]! * 256 + rpmBytes[1]!) / 4,
        vin: await client.readVin(),
      };
      expect(await client.readDtcs(0x03)).toEqual(['P0420']);
      await client.close();
    }
    expect(obd.tcp).toMatchObject({ speed: CRUISE_KMH, vin: sim.announced.vin });
    expect(obd.pty).toMatchObject({ speed: CRUISE_KMH, vin: sim.announced.vin });
    // Cruising in one gear: the engine turns at one speed, whoever asks.
    expect(obd.pty!.rpm).toBeCloseTo(obd.tcp!.rpm, 0);

    const can = await latest(
      new DbcSignalSource({
        frames: new SlcanSource({ path: ifs.slcan, bitrate: 500_000 }),
        database: loadSimVehicleDbc(),
        mapping: SIM_VEHICLE_VSS_MAPPING,
      }),
      1000,
    );
    expect(value(can, 'Vehicle.Speed')).toBeCloseTo(CRUISE_KMH, 2);
    expect(value(can, 'Vehicle.Powertrain.CombustionEngine.Speed')).toBeCloseTo(obd.tcp!.rpm, 0);

    const gnss = await latest(new NmeaSource({ path: ifs.nmea }), 1500);
    expect(value(gnss, 'Vehicle.CurrentLocation.Speed')).toBeCloseTo(CRUISE_KMH, 0);
    expect(gnss.get('Vehicle.CurrentLocation.Speed')?.unit).toBe('km/h');

    const imu = await latest(new ImuSource({ path: ifs.imu, baudRate: 115_200 }), 500);
    // Constant speed, no noise: no longitudinal acceleration.
    expect(Math.abs(value(imu, 'Vehicle.Acceleration.Longitudinal') ?? NaN)).toBeLessThan(0.01);
  }, 60_000);

  it('--elm327-drop-every and --elm327-garbage-every: readings go on over TCP and pty', async () => {
    const sim = await simulate(['--elm327-drop-every', '2', '--elm327-garbage-every', '0.3']);
    const ifs = sim.announced.interfaces as Interfaces;
    const runs = await Promise.all(
      [ifs.elm327, ifs.elm327Pty].map(async (port) => {
        const reconnectedAt: number[] = [];
        const source = new ReconnectingSource(
          new Elm327Source({ port, signals: ['Vehicle.Speed'] }),
          {
            backoff: { baseMs: 100, capMs: 500 },
            onStatus: (s) => void (s.kind === 'reconnected' && reconnectedAt.push(Date.now())),
          },
        );
        // 11 s for at least two recoveries: a reconnect's ELM327 init can itself be broken by
        // the line noise and miss an up window (one CI run saw a single recovery in 7 s).
        return { port, reconnectedAt, speeds: await collect(source, 11_000) };
      }),
    );
    for (const { port, reconnectedAt, speeds } of runs) {
      // The adapter dropped off every 2 s for 1 s: at least two drops in 11 s, each recovered
      // from, with readings after the second (up for a second before the next drop).
      expect(reconnectedAt.length, port).toBeGreaterThanOrEqual(2);
      expect(speeds.filter((r) => r.time > reconnectedAt[1]!).length, port).toBeGreaterThan(0);
      // Line noise breaks single replies, never a value: every speed is the car's.
      for (const r of speeds) expect(r.value, port).toBeGreaterThanOrEqual(0);
      for (const r of speeds) expect(r.value, port).toBeLessThanOrEqual(CRUISE_KMH);
      expect(speeds.at(-1)?.value, port).toBe(CRUISE_KMH);
    }
  }, 60_000);
});
