/**
 * The real CAN capture (firmware-bridge/vectors/can, see its README): comma2k19's Toyota RAV4,
 * decoded through opendbc's toyota_new_mc_pt DBC and checked against comma's own decoded
 * values for the same drive.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCandumpLine } from '../can/candump.js';
import type { CanFrame } from '../can/frame.js';
import { DbcDecoder, valueName } from './decode.js';
import { parseDbc } from './parse.js';
import { referenceDecodeSignal } from './reference.js';
import type { DbcDatabase } from './types.js';

const dir = fileURLToPath(new URL('../../vectors/can/', import.meta.url));
const DBC = `${dir}toyota_new_mc_pt_generated.dbc`;
const LOG = `${dir}comma2k19_rav4_ex1_seg40_bus0.log`;

let db: DbcDatabase;
let decoder: DbcDecoder;
let frames: CanFrame[];

function frameFrom(line: string): CanFrame {
  const v = parseCandumpLine(line);
  if (!v.ok) throw v.error;
  return v.record.frame;
}

function csv(name: string): number[][] {
  const [, ...rows] = readFileSync(`${dir}${name}`, 'utf8').trim().split('\n');
  return rows.map((r) => r.split(',').map(Number));
}

beforeAll(() => {
  db = parseDbc(readFileSync(DBC, 'utf8'));
  decoder = new DbcDecoder(db);
  frames = readFileSync(LOG, 'latin1').trim().split('\n').map(frameFrom);
});

describe('opendbc toyota_new_mc_pt_generated.dbc', () => {
  it('loads all 58 messages, including `BO_ 869 DSU_CRUISE :` and `BO_ 1043 TIME :`', () => {
    expect(db.messages.length).toBe(58);
    expect(db.warnings).toEqual([]);
    const cruise = db.messages.find((m) => m.id === 869);
    expect(cruise?.name).toBe('DSU_CRUISE');
    expect(cruise?.length).toBe(7);
    expect(cruise?.signals.map((s) => s.name)).toContain('CRUISE_REQUEST');
    expect(db.messages.find((m) => m.id === 1043)?.name).toBe('TIME');
    expect(db.nodes).toEqual(['XXX', 'DSU', 'HCU', 'EPS', 'IPAS', 'CGW', 'BGM']);
  });

  it('reads byte order, sign, factor/offset, range, unit, receivers, comments and VAL_ tables', () => {
    const wheels = db.messages.find((m) => m.name === 'WHEEL_SPEEDS');
    const fr = wheels?.signals.find((s) => s.name === 'WHEEL_SPEED_FR');
    expect(fr).toMatchObject({
      startBit: 6,
      length: 15,
      byteOrder: 'motorola',
      signed: false,
      factor: 0.01,
      offset: -67.67,
      unit: 'km/h',
      receivers: ['AFS', 'BSR', 'DS1', 'FCM', 'KSS', 'MAV', 'SCS'],
    });
    const steer = db.messages
      .find((m) => m.id === 37)
      ?.signals.find((s) => s.name === 'STEER_ANGLE');
    expect(steer).toMatchObject({ signed: true, factor: 1.5, minimum: -500, maximum: 500 });
    const fraction = db.messages
      .find((m) => m.id === 37)
      ?.signals.find((s) => s.name === 'STEER_FRACTION');
    expect(fraction?.comment).toMatch(/^1\/15th of the signal STEER_ANGLE/);
    const cancel = db.messages
      .find((m) => m.id === 466)
      ?.signals.find((s) => s.name === 'CANCEL_REQ');
    expect(cancel?.byteOrder).toBe('intel');
    const gear = db.messages.find((m) => m.id === 956)?.signals.find((s) => s.name === 'GEAR');
    expect(gear?.valueNames?.get(32)).toBe('P');
    expect(gear?.valueNames?.get(0)).toBe('D');
  });
});

describe('RAV4 capture decoded (comma2k19 Example_1 segment 40)', () => {
  it('finds 38,983 frames in 32 ids with a definition and 14,817 without', () => {
    let known = 0;
    const ids = new Set<number>();
    for (const f of frames) {
      if (decoder.lookup(f.id, f.extended)) {
        known++;
        ids.add(f.id);
      }
    }
    expect(frames.length).toBe(53_800);
    expect(known).toBe(38_983);
    expect(ids.size).toBe(32);
    expect(frames.length - known).toBe(14_817);
  });

  it('README first-frame vectors: SPEED 29.38, wheels 28.86/28.86/28.46/28.65, RPM 2187.5, GAS_PEDAL 29, SET_SPEED 67, GEAR D', () => {
    const first = (id: number) => {
      const f = frames.find((x) => x.id === id);
      if (!f) throw new Error(`no frame 0x${id.toString(16)}`);
      const r = decoder.decode(f);
      if (r.kind !== 'decoded') throw new Error(`0x${id.toString(16)}: ${r.kind}`);
      return r;
    };
    const speed = decoder.decode(frameFrom('(46408.584954) can0 0B4#000000001D0B7A5E'));
    expect(speed.kind).toBe('decoded');
    if (speed.kind === 'decoded') expect(speed.values.SPEED).toBeCloseTo(29.38, 10);
    const wheels = first(0x0aa).values;
    expect(wheels.WHEEL_SPEED_FL).toBeCloseTo(28.86, 9);
    expect(wheels.WHEEL_SPEED_FR).toBeCloseTo(28.86, 9);
    expect(wheels.WHEEL_SPEED_RL).toBeCloseTo(28.46, 9);
    expect(wheels.WHEEL_SPEED_RR).toBeCloseTo(28.65, 9);
    expect(first(0x1c4).values.RPM).toBe(2187.5);
    expect(first(0x2c1).values.GAS_PEDAL).toBe(29);
    expect(first(0x1d3).values.SET_SPEED).toBe(67);
    const gear = first(0x3bc);
    const gearSignal = gear.message.signals.find((s) => s.name === 'GEAR');
    expect(gearSignal && valueName(gearSignal, gear.values.GEAR as number)).toBe('D');
  });

  it('candied@2.2.0 regression: Motorola SPEED from 0B4#000000001D0B7A5E is raw 2938, not 58', () => {
    const r = decoder.decode(frameFrom('(0.0) can0 0B4#000000001D0B7A5E'));
    if (r.kind !== 'decoded') throw new Error(r.kind);
    const raw = Math.round((r.values.SPEED as number) / 0.01);
    expect(raw).toBe(2938);
    expect(raw).not.toBe(58);
  });

  it('every WHEEL_SPEEDS frame matches comma ref_speed.csv within 1e-6 m/s (4,974 rows)', () => {
    const ref = csv('comma2k19_rav4_ex1_seg40_ref_speed.csv');
    const wheelFrames = frames.filter((f) => f.id === 0x0aa);
    expect(ref.length).toBe(4974);
    expect(wheelFrames.length).toBe(ref.length);
    let worst = 0;
    wheelFrames.forEach((f, i) => {
      const [t, speed, fl, fr, rl, rr] = ref[i] as number[];
      expect(Math.abs(f.time / 1000 - (t as number))).toBeLessThan(1e-6);
      const r = decoder.decode(f);
      if (r.kind !== 'decoded') throw new Error(r.kind);
      const v = r.values;
      const mps = [v.WHEEL_SPEED_FL, v.WHEEL_SPEED_FR, v.WHEEL_SPEED_RL, v.WHEEL_SPEED_RR].map(
        (x) => (x as number) / 3.6,
      );
      const expected = [fl, fr, rl, rr] as number[];
      for (let k = 0; k < 4; k++)
        worst = Math.max(worst, Math.abs((mps[k] as number) - (expected[k] as number)));
      const mean = mps.reduce((a, b) => a + b, 0) / 4;
      worst = Math.max(worst, Math.abs(mean - (speed as number)));
    });
    expect(worst).toBeLessThan(1e-6);
  });

  it('STEER_ANGLE + STEER_FRACTION equals comma ref_steering.csv for every frame (4,974 rows)', () => {
    const ref = csv('comma2k19_rav4_ex1_seg40_ref_steering.csv');
    const steerFrames = frames.filter((f) => f.id === 0x025);
    expect(steerFrames.length).toBe(ref.length);
    steerFrames.forEach((f, i) => {
      const [t, angle] = ref[i] as number[];
      expect(Math.abs(f.time / 1000 - (t as number))).toBeLessThan(1e-6);
      const r = decoder.decode(f);
      if (r.kind !== 'decoded') throw new Error(r.kind);
      const sum = (r.values.STEER_ANGLE as number) + (r.values.STEER_FRACTION as number);
      expect(Math.abs(sum - (angle as number)), `row ${i}`).toBeLessThan(1e-9);
    });
  });

  it('agrees with the bit-by-bit reference decoder on every signal of every known frame', () => {
    const out = new Float64Array(64);
    let checked = 0;
    const mismatches: string[] = [];
    for (const f of frames) {
      const r = decoder.decode(f);
      if (r.kind === 'unknown-id') continue;
      if (r.kind !== 'decoded') throw new Error(r.kind);
      const message = decoder.decodeInto(f.id, f.extended, f.data, out);
      r.message.signals.forEach((s, i) => {
        const ref = referenceDecodeSignal(s, f.data);
        if (r.values[s.name] !== ref || out[i] !== ref)
          mismatches.push(`${r.message.name}.${s.name} @${f.time}`);
        checked++;
      });
      if (message !== r.message) mismatches.push(`decodeInto message @${f.time}`);
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(200_000);
  });

  it('returns a typed verdict for zero-length frames and ids not in the DBC, without throwing', () => {
    const empty = frames.filter((f) => f.data.length === 0);
    expect(empty.length).toBe(520);
    for (const f of empty) expect(decoder.decode(f)).toEqual({ kind: 'unknown-id' });
    // A defined id arriving empty decodes to a `short` verdict with no values.
    const r = decoder.decode({ ...frameFrom('(0.0) can0 0B4#00'), data: new Uint8Array(0) });
    expect(r).toMatchObject({ kind: 'short', length: 0, values: {} });
    expect(decoder.decode(frameFrom('(0.0) can0 0B4#R'))).toMatchObject({ kind: 'remote' });
  });
});
