import type { VehicleSnapshot } from '../vehicle/state.js';

/**
 * The simulated car's OBD-II side: an engine ECU (7E8) and a transmission ECU (7E9) on
 * ISO 15765-4 CAN 11/500, answering SAE J1979 services 01, 03, 04, 07, 09 and 0A from the
 * vehicle snapshot. The encoders are written from J1979 independently of the decoders in
 * firmware-bridge, so the tests that pair them check one against the other.
 */

export type PidEncoder = (s: VehicleSnapshot) => readonly number[];

export interface EmulatedEcu {
  /** Response CAN id, 11-bit, as the ELM327 prints it. */
  readonly header: string;
  readonly name: string;
  /** Service 01 PIDs (bitmaps excluded: derived from this map). */
  readonly pids: ReadonlyMap<number, PidEncoder>;
  /** Service 09 info types other than 00. */
  readonly info: ReadonlyMap<number, (s: VehicleSnapshot) => readonly number[]>;
  /** Whether this ECU reports the emissions DTCs of services 03/07/0A. */
  readonly reportsDtcs: boolean;
}

// A snapshot field that is missing or not finite encodes as 0 rather than as "NaN" on the wire.
const clamp = (v: number, max: number) =>
  Number.isFinite(v) ? Math.max(0, Math.min(max, Math.round(v))) : 0;
const byte = (v: number) => clamp(v, 255);
const word = (v: number) => {
  const w = clamp(v, 0xffff);
  return [w >> 8, w & 0xff];
};
const dword = (v: number) => {
  const d = clamp(v, 0xffffffff);
  return [(d >>> 24) & 0xff, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff];
};
const pct = (p: number) => byte((p * 255) / 100);
const ascii = (text: string, length: number) =>
  Array.from(text.padEnd(length, '\0').slice(0, length), (c) => c.charCodeAt(0));

const ENGINE_PIDS: [number, PidEncoder][] = [
  [0x01, (s) => [(s.dtcs.length > 0 ? 0x80 : 0) | Math.min(s.dtcs.length, 0x7f), 0x07, 0x65, 0x00]],
  [0x03, (s) => [s.engineRunning ? (s.coolantC >= 60 ? 0x02 : 0x01) : 0x00, 0x00]],
  [0x04, (s) => [pct(s.engineLoadPct)]],
  [0x05, (s) => [byte(s.coolantC + 40)]],
  [0x06, () => [0x81]],
  [0x07, () => [0x7e]],
  [0x0b, (s) => [byte(s.engineRunning ? 30 + s.engineLoadPct * 0.7 : 101)]],
  [0x0c, (s) => word(s.engineRpm * 4)],
  [0x0d, (s) => [byte(s.speedKmh)]],
  [0x0e, (s) => [byte((s.engineRunning ? 8 + s.engineLoadPct / 10 : 0) * 2 + 128)]],
  [0x0f, (s) => [byte(s.intakeAirC + 40)]],
  [0x10, (s) => word(s.mafGs * 100)],
  [0x11, (s) => [pct(s.throttlePct)]],
  [0x13, () => [0x03]],
  [0x15, (s) => [s.engineRunning ? 0x5a : 0x00, 0x80]],
  [0x1c, () => [0x07]],
  [0x1f, (s) => word(s.runTimeS)],
  [0x21, (s) => word(s.dtcs.length > 0 ? 12 : 0)],
  [0x2f, (s) => [pct(s.fuelLevelPct)]],
  [0x30, () => [0x28]],
  [0x31, () => word(1250)],
  [0x33, () => [101]],
  [0x42, (s) => word((s.engineRunning ? s.batteryV : s.batteryV - 0.1) * 1000)],
  [0x45, (s) => [pct(s.throttlePct * 0.9)]],
  [0x46, (s) => [byte(s.ambientAirC + 40)]],
  [0x49, (s) => [pct(Math.min(100, s.throttlePct + 14))]],
  [0x4a, (s) => [pct(Math.min(100, (s.throttlePct + 14) / 2))]],
  [0x4c, (s) => [pct(s.throttlePct)]],
  [0x51, () => [0x01]],
  [0x5c, (s) => [byte(s.coolantC + 45)]],
  [0xa6, (s) => dword(s.odometerKm * 10)],
];

const TRANSMISSION_PIDS: [number, PidEncoder][] = [
  [0x0d, (s) => [byte(s.speedKmh)]],
  [
    0xa4,
    (s) => [
      0x02,
      (Math.max(0, Math.min(15, s.gear)) << 4) & 0xf0,
      ...word(gearRatio(s.gear) * 1000),
    ],
  ],
];

function gearRatio(gear: number): number {
  return [0, 3.85, 2.24, 1.48, 1.12, 0.89, 0.74][gear] ?? 0;
}

/** Calibration IDs are 16 characters padded with NUL; ECU names 20 characters. */
export function vehicleEcus(): EmulatedEcu[] {
  return [
    {
      header: '7E8',
      name: 'ECM-EngineControl',
      pids: new Map(ENGINE_PIDS),
      info: new Map<number, (s: VehicleSnapshot) => readonly number[]>([
        [0x02, (s) => [0x01, ...ascii(s.vin, 17)]],
        [0x04, () => [0x02, ...ascii('ENGCAL-0451A', 16), ...ascii('ENGCAL-0451B', 16)]],
        [0x0a, () => [0x01, ...ascii('ECM-EngineControl', 20)]],
      ]),
      reportsDtcs: true,
    },
    {
      header: '7E9',
      name: 'TCM-TransmissionCtl',
      pids: new Map(TRANSMISSION_PIDS),
      info: new Map<number, (s: VehicleSnapshot) => readonly number[]>([
        [0x04, () => [0x01, ...ascii('TCMCAL-2207', 16)]],
        [0x0a, () => [0x01, ...ascii('TCM-TransmissionCtl', 20)]],
      ]),
      reportsDtcs: false,
    },
  ];
}

/**
 * The supported-PID bitmap at `base` for a set of PIDs: bit 7 of byte 0 is base+1. The last
 * bit (base+0x20) is set when the ECU supports anything beyond, so testers follow the chain.
 */
export function supportBitmap(base: number, pids: Iterable<number>): number[] {
  const out = [0, 0, 0, 0];
  const list = [...pids];
  for (const pid of list) {
    const i = pid - base - 1;
    if (i >= 0 && i < 31) out[i >> 3]! |= 0x80 >> (i & 7);
  }
  if (list.some((p) => p > base + 0x20)) out[3]! |= 0x01;
  return out;
}

/** `P0301` -> its two J1979 bytes. */
export function encodeDtc(code: string): [number, number] {
  const m = /^([PCBU])([0-3])([0-9A-F])([0-9A-F]{2})$/.exec(code);
  if (!m) throw new RangeError(`not a DTC: ${JSON.stringify(code)}`);
  const b1 = ('PCBU'.indexOf(m[1]!) << 6) | (Number(m[2]) << 4) | parseInt(m[3]!, 16);
  return [b1, parseInt(m[4]!, 16)];
}
