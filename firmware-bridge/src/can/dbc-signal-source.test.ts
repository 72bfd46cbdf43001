import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDbc } from '../dbc/parse.js';
import { signalSourceConformance, takeReadings } from '../source/conformance.js';
import { AdapterError } from '../source/errors.js';
import { CandumpReplaySource } from './candump-replay-source.js';
import { DbcSignalSource, TOYOTA_VSS_MAPPING } from './dbc-signal-source.js';

const dir = fileURLToPath(new URL('../../vectors/can/', import.meta.url));
const LOG = `${dir}comma2k19_rav4_ex1_seg40_bus0.log`;
const database = parseDbc(readFileSync(`${dir}toyota_new_mc_pt_generated.dbc`, 'utf8'));

function rav4(speed = Infinity): DbcSignalSource {
  return new DbcSignalSource({
    frames: new CandumpReplaySource({ path: LOG, speed }),
    database,
    mapping: TOYOTA_VSS_MAPPING,
  });
}

signalSourceConformance('DbcSignalSource over a candump replay of the RAV4 capture', async () => ({
  source: rav4(),
  teardown: async () => {},
}));

signalSourceConformance('DbcSignalSource over a real-time candump replay', async () => ({
  source: rav4(1),
  teardown: async () => {},
}));

describe('DbcSignalSource on the RAV4 capture', () => {
  it('turns the whole minute into VSS readings matching the README figures', async () => {
    const source = rav4();
    await source.open();
    const byName = new Map<string, number[]>();
    for await (const r of source.readings()) {
      expect(r.source).toBe(`candump:${LOG}`);
      const list = byName.get(r.name) ?? [];
      list.push(r.value as number);
      byName.set(r.name, list);
    }
    const speed = byName.get('Vehicle.Speed') ?? [];
    expect(speed[0]).toBeCloseTo(29.38, 9);
    expect(Math.max(...speed)).toBeCloseTo(73.05, 9);
    const rpm = byName.get('Vehicle.Powertrain.CombustionEngine.Speed') ?? [];
    expect(Math.round(Math.min(...rpm))).toBe(955);
    expect(Math.round(Math.max(...rpm))).toBe(2544);
    const gas = byName.get('Vehicle.Chassis.Accelerator.PedalPosition') ?? [];
    expect([Math.min(...gas), Math.max(...gas)]).toEqual([0, 39]);
    expect(byName.get('Vehicle.Chassis.SteeringWheel.Angle')?.length).toBe(4974);
    expect(byName.get('Vehicle.Powertrain.Transmission.SelectedGear')?.[0]).toBe(127);
    expect(source.stats.frames).toBe(53_800);
    expect(source.stats.unmapped).toBe(53_800 - source.stats.mapped);
    await source.close();
  });

  it('dates readings by the log time base', async () => {
    const source = rav4();
    await source.open();
    const [first] = await takeReadings(source, 1);
    expect(first?.time).toBeCloseTo(46408584.943, 3);
    await source.close();
  });

  it('refuses a mapping that names a message or signal the DBC lacks', () => {
    const frames = new CandumpReplaySource({ path: LOG });
    expect(
      () =>
        new DbcSignalSource({
          frames,
          database,
          mapping: [{ message: 'NOPE', signals: 'X', name: 'Vehicle.Speed', unit: 'km/h' }],
        }),
    ).toThrow(AdapterError);
    expect(
      () =>
        new DbcSignalSource({
          frames,
          database,
          mapping: [{ message: 'SPEED', signals: 'X', name: 'Vehicle.Speed', unit: 'km/h' }],
        }),
    ).toThrow(/has no signal X/);
  });

  it('rejects open on a missing log with no-adapter', async () => {
    const source = new DbcSignalSource({
      frames: new CandumpReplaySource({ path: '/nonexistent.log' }),
      database,
      mapping: TOYOTA_VSS_MAPPING,
    });
    await expect(source.open()).rejects.toMatchObject({ code: 'no-adapter' });
  });
});
