/**
 * SAE J1979 service 01 PIDs: length and formula of each, as the standard (and its public
 * summary, Wikipedia "OBD-II PIDs") defines them. Values come out in the unit the signal
 * catalogue (`@enginechain/shared` SIGNAL_CATALOGUE) gives for the field's `obd` key, which is
 * where the VSS names live.
 */

export type ObdFieldValue = number | string | boolean;

export interface Mode01Pid {
  readonly pid: number;
  /**
   * Data bytes after the PID byte. Undefined where J1979 revisions disagree (68, C3, C4): such a
   * PID is only ever requested alone, so its length is whatever the ECU sent.
   */
  readonly bytes: number | undefined;
  readonly description: string;
  /**
   * Field values by key (`''` for a PID with a single value, else the part after `/` in the
   * catalogue's `obd` key). Absent for bitmaps and for PIDs whose content J1979 leaves
   * manufacturer- or configuration-specific: those still parse (their length is known) but
   * yield no readings.
   */
  readonly decode?: (d: Uint8Array) => Record<string, ObdFieldValue>;
}

/** PID 1C values (J1979 Table A.x, "OBD requirements to which vehicle is designed"). */
export const OBD_STANDARDS: Readonly<Record<number, string>> = {
  1: 'OBD-II as defined by the CARB',
  2: 'OBD as defined by the EPA',
  3: 'OBD and OBD-II',
  4: 'OBD-I',
  5: 'Not OBD compliant',
  6: 'EOBD (Europe)',
  7: 'EOBD and OBD-II',
  8: 'EOBD and OBD',
  9: 'EOBD, OBD and OBD II',
  10: 'JOBD (Japan)',
  11: 'JOBD and OBD II',
  12: 'JOBD and EOBD',
  13: 'JOBD, EOBD, and OBD II',
  17: 'Engine Manufacturer Diagnostics (EMD)',
  18: 'Engine Manufacturer Diagnostics Enhanced (EMD+)',
  19: 'Heavy Duty On-Board Diagnostics (Child/Partial) (HD OBD-C)',
  20: 'Heavy Duty On-Board Diagnostics (HD OBD)',
  21: 'World Wide Harmonized OBD (WWH OBD)',
  23: 'Heavy Duty Euro OBD Stage I without NOx control (HD EOBD-I)',
  24: 'Heavy Duty Euro OBD Stage I with NOx control (HD EOBD-I N)',
  25: 'Heavy Duty Euro OBD Stage II without NOx control (HD EOBD-II)',
  26: 'Heavy Duty Euro OBD Stage II with NOx control (HD EOBD-II N)',
  28: 'Brazil OBD Phase 1 (OBDBr-1)',
  29: 'Brazil OBD Phase 2 (OBDBr-2)',
  30: 'Korean OBD (KOBD)',
  31: 'India OBD I (IOBD I)',
  32: 'India OBD II (IOBD II)',
  33: 'Heavy Duty Euro OBD Stage VI (HD EOBD-IV)',
};

/** PID 51 values. */
export const FUEL_TYPES: readonly string[] = [
  'Not available',
  'Gasoline',
  'Methanol',
  'Ethanol',
  'Diesel',
  'LPG',
  'CNG',
  'Propane',
  'Electric',
  'Bifuel running Gasoline',
  'Bifuel running Methanol',
  'Bifuel running Ethanol',
  'Bifuel running LPG',
  'Bifuel running CNG',
  'Bifuel running Propane',
  'Bifuel running Electricity',
  'Bifuel running electric and combustion engine',
  'Hybrid gasoline',
  'Hybrid Ethanol',
  'Hybrid Diesel',
  'Hybrid Electric',
  'Hybrid running electric and combustion engine',
  'Hybrid Regenerative',
  'Bifuel running diesel',
];

/** PID 03 states; exactly one bit may be set per fuel system. */
const FUEL_SYSTEM_STATUS: Readonly<Record<number, string>> = {
  1: 'OL',
  2: 'CL',
  4: 'OL_DRIVE',
  8: 'OL_FAULT',
  16: 'CL_FAULT',
};

/** PID 12 states. */
const AIR_STATUS: Readonly<Record<number, string>> = {
  1: 'UPSTREAM',
  2: 'DOWNSTREAM',
  4: 'OUTSIDE_OR_OFF',
  8: 'PUMP_DIAGNOSTICS',
};

// Byte accessors: a decoder only runs on `bytes` or more bytes (checked by the caller), so the
// non-null assertions below cannot fail.
const u8 = (d: Uint8Array, i: number): number => d[i]!;
const u16 = (d: Uint8Array, i: number): number => d[i]! * 256 + d[i + 1]!;
const s16 = (d: Uint8Array, i: number): number => {
  const v = u16(d, i);
  return v >= 0x8000 ? v - 0x10000 : v;
};
const u32 = (d: Uint8Array, i: number): number => u16(d, i) * 65536 + u16(d, i + 2);
const bit = (byte: number, n: number): boolean => ((byte >> n) & 1) === 1;

const percent = (d: Uint8Array) => ({ '': (u8(d, 0) * 100) / 255 });
const trim = (v: number) => (v * 100) / 128 - 100;
const temp = (d: Uint8Array) => ({ '': u8(d, 0) - 40 });
const torque = (d: Uint8Array) => ({ '': u8(d, 0) - 125 });
const pct = (a: number) => (a * 100) / 255;

/**
 * The fields whose bit is set in byte A (bit n for the n-th field), for the PIDs that start with
 * a byte of "supported" flags. A field may also yield undefined (not in a short reply).
 */
function present(
  d: Uint8Array,
  fields: readonly (readonly [string, () => ObdFieldValue | undefined])[],
): Record<string, ObdFieldValue> {
  const out: Record<string, ObdFieldValue> = {};
  fields.forEach(([field, value], i) => {
    if (!bit(u8(d, 0), i)) return;
    const v = value();
    if (v !== undefined) out[field] = v;
  });
  return out;
}

/** Boost and VGT control loop state, 2 bits. */
const LOOP_STATUS: readonly string[] = ['RESERVED', 'OPEN_LOOP', 'CLOSED_LOOP', 'FAULT'];
const loopStatus = (v: number): string => LOOP_STATUS[v]!;

/** WWH-OBD malfunction indicator display state (PIDs 90, 91). */
const MIL_STATES: Readonly<Record<number, string>> = {
  0: 'OFF',
  1: 'ON_DEMAND',
  2: 'SHORT',
  3: 'CONTINUOUS',
  14: 'ERROR',
  15: 'NOT_AVAILABLE',
};
const milState = (v: number): string => MIL_STATES[v] ?? `RESERVED(${v})`;

/** NOx inducement level state (PID 94), 2 bits. */
const INDUCEMENT: readonly string[] = ['INACTIVE', 'ENABLED', 'ACTIVE', 'NOT_AVAILABLE'];
const inducement = (v: number): string => INDUCEMENT[v]!;

/** PID 92 control loops, by bit. */
const FUEL_CONTROLS = [
  'pressure1',
  'quantity1',
  'timing1',
  'balance1',
  'pressure2',
  'quantity2',
  'timing2',
  'balance2',
] as const;

/** J1979 DTC encoding: two bytes, letter in the top two bits. Shared with modes 02/03/07/0A. */
export function dtcFromBytes(b1: number, b2: number): string {
  const letter = 'PCBU'[b1 >> 6]!;
  return `${letter}${(b1 >> 4) & 3}${(b1 & 0xf).toString(16)}${b2.toString(16).padStart(2, '0')}`.toUpperCase();
}

function monitorStatus(d: Uint8Array) {
  return {
    mil: bit(u8(d, 0), 7),
    dtcCount: u8(d, 0) & 0x7f,
    ignition: bit(u8(d, 1), 3) ? 'COMPRESSION' : 'SPARK',
  };
}

function fuelSystem(byte: number): string {
  return FUEL_SYSTEM_STATUS[byte] ?? `INVALID(0x${byte.toString(16).padStart(2, '0')})`;
}

function o2(d: Uint8Array) {
  const out: Record<string, number> = { voltage: u8(d, 0) / 200 };
  // B = FF: this sensor is not used in the trim calculation, so there is no trim to report.
  if (u8(d, 1) !== 0xff) out.trim = trim(u8(d, 1));
  return out;
}

const lambda = (d: Uint8Array) => (u16(d, 0) * 2) / 65536;

const definitions: Mode01Pid[] = [];
function def(
  pid: number,
  bytes: number | undefined,
  description: string,
  decode?: (d: Uint8Array) => Record<string, ObdFieldValue>,
): void {
  definitions.push(decode ? { pid, bytes, description, decode } : { pid, bytes, description });
}

for (const base of [0x00, 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0]) {
  const from = (base + 1).toString(16).toUpperCase().padStart(2, '0');
  const to = (base + 0x20).toString(16).toUpperCase().padStart(2, '0');
  def(base, 4, `PIDs supported [${from} - ${to}]`);
}
def(0x01, 4, 'Monitor status since DTCs cleared', monitorStatus);
def(0x02, 2, 'DTC that caused freeze frame', (d) => ({
  '': u16(d, 0) === 0 ? '' : dtcFromBytes(u8(d, 0), u8(d, 1)),
}));
def(0x03, 2, 'Fuel system status', (d) => {
  const out: Record<string, string> = { system1: fuelSystem(u8(d, 0)) };
  if (u8(d, 1) !== 0) out.system2 = fuelSystem(u8(d, 1));
  return out;
});
def(0x04, 1, 'Calculated engine load', percent);
def(0x05, 1, 'Engine coolant temperature', temp);
for (const pid of [0x06, 0x07, 0x08, 0x09]) {
  def(pid, 1, `Fuel trim ${pid - 5}`, (d) => ({ '': trim(u8(d, 0)) }));
}
def(0x0a, 1, 'Fuel pressure (gauge)', (d) => ({ '': 3 * u8(d, 0) }));
def(0x0b, 1, 'Intake manifold absolute pressure', (d) => ({ '': u8(d, 0) }));
def(0x0c, 2, 'Engine speed', (d) => ({ '': u16(d, 0) / 4 }));
def(0x0d, 1, 'Vehicle speed', (d) => ({ '': u8(d, 0) }));
def(0x0e, 1, 'Timing advance', (d) => ({ '': u8(d, 0) / 2 - 64 }));
def(0x0f, 1, 'Intake air temperature', temp);
def(0x10, 2, 'Mass air flow sensor air flow rate', (d) => ({ '': u16(d, 0) / 100 }));
def(0x11, 1, 'Throttle position', percent);
def(0x12, 1, 'Commanded secondary air status', (d) => ({
  '': AIR_STATUS[u8(d, 0)] ?? `INVALID(0x${u8(d, 0).toString(16).padStart(2, '0')})`,
}));
def(0x13, 1, 'Oxygen sensors present (2 banks)', (d) => ({ '': u8(d, 0) }));
for (let pid = 0x14; pid <= 0x1b; pid++) def(pid, 2, `Oxygen sensor ${pid - 0x13}`, o2);
def(0x1c, 1, 'OBD standards this vehicle conforms to', (d) => ({ '': u8(d, 0) }));
def(0x1d, 1, 'Oxygen sensors present (4 banks)', (d) => ({ '': u8(d, 0) }));
def(0x1e, 1, 'Auxiliary input status', (d) => ({ '': bit(u8(d, 0), 0) }));
def(0x1f, 2, 'Run time since engine start', (d) => ({ '': u16(d, 0) }));
def(0x21, 2, 'Distance traveled with MIL on', (d) => ({ '': u16(d, 0) }));
def(0x22, 2, 'Fuel rail pressure (relative to manifold vacuum)', (d) => ({
  '': 0.079 * u16(d, 0),
}));
def(0x23, 2, 'Fuel rail gauge pressure', (d) => ({ '': 10 * u16(d, 0) }));
for (let pid = 0x24; pid <= 0x2b; pid++) {
  def(pid, 4, `Oxygen sensor ${pid - 0x23} (wide range, voltage)`, (d) => ({
    lambda: lambda(d),
    voltage: (u16(d, 2) * 8) / 65536,
  }));
}
def(0x2c, 1, 'Commanded EGR', percent);
def(0x2d, 1, 'EGR error', (d) => ({ '': trim(u8(d, 0)) }));
def(0x2e, 1, 'Commanded evaporative purge', percent);
def(0x2f, 1, 'Fuel tank level input', percent);
def(0x30, 1, 'Warm-ups since codes cleared', (d) => ({ '': u8(d, 0) }));
def(0x31, 2, 'Distance traveled since codes cleared', (d) => ({ '': u16(d, 0) }));
def(0x32, 2, 'Evap system vapor pressure', (d) => ({ '': s16(d, 0) / 4 }));
def(0x33, 1, 'Absolute barometric pressure', (d) => ({ '': u8(d, 0) }));
for (let pid = 0x34; pid <= 0x3b; pid++) {
  def(pid, 4, `Oxygen sensor ${pid - 0x33} (wide range, current)`, (d) => ({
    lambda: lambda(d),
    current: u16(d, 2) / 256 - 128,
  }));
}
for (const [pid, what] of [
  [0x3c, 'bank 1, sensor 1'],
  [0x3d, 'bank 2, sensor 1'],
  [0x3e, 'bank 1, sensor 2'],
  [0x3f, 'bank 2, sensor 2'],
] as const) {
  def(pid, 2, `Catalyst temperature ${what}`, (d) => ({ '': u16(d, 0) / 10 - 40 }));
}
def(0x41, 4, 'Monitor status this drive cycle', (d) => ({
  ignition: bit(u8(d, 1), 3) ? 'COMPRESSION' : 'SPARK',
}));
def(0x42, 2, 'Control module voltage', (d) => ({ '': u16(d, 0) / 1000 }));
def(0x43, 2, 'Absolute load value', (d) => ({ '': (u16(d, 0) * 100) / 255 }));
def(0x44, 2, 'Commanded air-fuel equivalence ratio', (d) => ({ '': lambda(d) }));
def(0x45, 1, 'Relative throttle position', percent);
def(0x46, 1, 'Ambient air temperature', temp);
for (const [pid, what] of [
  [0x47, 'Absolute throttle position B'],
  [0x48, 'Absolute throttle position C'],
  [0x49, 'Accelerator pedal position D'],
  [0x4a, 'Accelerator pedal position E'],
  [0x4b, 'Accelerator pedal position F'],
  [0x4c, 'Commanded throttle actuator'],
] as const) {
  def(pid, 1, what, percent);
}
def(0x4d, 2, 'Time run with MIL on', (d) => ({ '': u16(d, 0) }));
def(0x4e, 2, 'Time since trouble codes cleared', (d) => ({ '': u16(d, 0) }));
def(0x4f, 4, 'Maximum values for equivalence ratio, O2 voltage, O2 current, MAP', (d) => ({
  ratio: u8(d, 0),
  voltage: u8(d, 1),
  current: u8(d, 2),
  map: u8(d, 3) * 10,
}));
def(0x50, 4, 'Maximum value for air flow rate from MAF sensor', (d) => ({ '': u8(d, 0) * 10 }));
def(0x51, 1, 'Fuel type', (d) => ({
  '': FUEL_TYPES[u8(d, 0)] ?? `Reserved (${u8(d, 0)})`,
}));
def(0x52, 1, 'Ethanol fuel %', percent);
def(0x53, 2, 'Absolute evap system vapor pressure', (d) => ({ '': u16(d, 0) / 200 }));
// J1979 defines 54 as signed, 1 Pa per bit (the "A*256+B-32767" often quoted is off by one).
def(0x54, 2, 'Evap system vapor pressure', (d) => ({ '': s16(d, 0) }));
for (const [pid, what] of [
  [0x55, 'Short term secondary oxygen sensor trim, bank 1 and 3'],
  [0x56, 'Long term secondary oxygen sensor trim, bank 1 and 3'],
  [0x57, 'Short term secondary oxygen sensor trim, bank 2 and 4'],
  [0x58, 'Long term secondary oxygen sensor trim, bank 2 and 4'],
] as const) {
  def(pid, 2, what, (d) => ({ a: trim(u8(d, 0)), b: trim(u8(d, 1)) }));
}
def(0x59, 2, 'Fuel rail absolute pressure', (d) => ({ '': 10 * u16(d, 0) }));
def(0x5a, 1, 'Relative accelerator pedal position', percent);
def(0x5b, 1, 'Hybrid battery pack remaining life', percent);
def(0x5c, 1, 'Engine oil temperature', temp);
def(0x5d, 2, 'Fuel injection timing', (d) => ({ '': u16(d, 0) / 128 - 210 }));
def(0x5e, 2, 'Engine fuel rate', (d) => ({ '': u16(d, 0) / 20 }));
def(0x5f, 1, 'Emission requirements to which vehicle is designed', (d) => ({ '': u8(d, 0) }));
def(0x61, 1, "Driver's demand engine - percent torque", torque);
def(0x62, 1, 'Actual engine - percent torque', torque);
def(0x63, 2, 'Engine reference torque', (d) => ({ '': u16(d, 0) }));
def(0x64, 5, 'Engine percent torque data', (d) => ({
  idle: u8(d, 0) - 125,
  point1: u8(d, 1) - 125,
  point2: u8(d, 2) - 125,
  point3: u8(d, 3) - 125,
  point4: u8(d, 4) - 125,
}));
// PIDs 65 and later start with a byte of "supported" bits: a value is reported only when the
// ECU says that sensor or field exists (J1979-DA; bit n of A goes with the n-th field unless
// noted). Layouts are cross-checked with two independent public decoders (Scapy's
// contrib/automotive/obd and AndrOBD's pids.csv); where those disagree with J1979, J1979 wins
// and the comment says why.
def(0x65, 2, 'Auxiliary input / output supported', (d) =>
  present(d, [
    ['pto', () => bit(u8(d, 1), 0)],
    // N/D_STAT: automatic transmission in drive (or reverse) rather than park/neutral.
    ['autoInDrive', () => bit(u8(d, 1), 1)],
    // N/G_STAT: manual transmission in gear rather than neutral / clutch pressed.
    ['manualInGear', () => bit(u8(d, 1), 2)],
    ['glowPlugLamp', () => bit(u8(d, 1), 3)],
  ]),
);
// From 66 on, byte A says which of the sensors that follow are present: report only those.
def(0x66, 5, 'Mass air flow sensor', (d) =>
  present(d, [
    ['a', () => u16(d, 1) / 32],
    ['b', () => u16(d, 3) / 32],
  ]),
);
def(0x67, 3, 'Engine coolant temperature', (d) =>
  present(d, [
    ['a', () => u8(d, 1) - 40],
    ['b', () => u8(d, 2) - 40],
  ]),
);
// J1979-DA grew 68 from 3 to 7 bytes (bank 1 sensors 1-3, bank 2 sensors 1-3); the short form
// is bank 1 sensors 1 and 2. Both start the same way, so the length the ECU sent decides.
def(0x68, undefined, 'Intake air temperature sensor', (d) =>
  present(
    d,
    (['a', 'b', 'b1s3', 'b2s1', 'b2s2', 'b2s3'] as const).map(
      (field, i) => [field, () => (d.length > i + 1 ? u8(d, i + 1) - 40 : undefined)] as const,
    ),
  ),
);
def(0x69, 7, 'Commanded EGR and EGR error', (d) =>
  present(d, [
    ['commandedA', () => pct(u8(d, 1))],
    ['actualA', () => pct(u8(d, 2))],
    ['errorA', () => trim(u8(d, 3))],
    ['commandedB', () => pct(u8(d, 4))],
    ['actualB', () => pct(u8(d, 5))],
    ['errorB', () => trim(u8(d, 6))],
  ]),
);
const fourPercents = (d: Uint8Array, fields: readonly string[]) =>
  present(
    d,
    fields.map((f, i) => [f, () => pct(u8(d, i + 1))] as const),
  );
def(
  0x6a,
  5,
  'Commanded diesel intake air flow control and relative intake air flow position',
  (d) => fourPercents(d, ['commandedA', 'positionA', 'commandedB', 'positionB']),
);
def(0x6b, 5, 'Exhaust gas recirculation temperature', (d) =>
  present(
    d,
    (['b1s1', 'b1s2', 'b2s1', 'b2s2'] as const).map(
      (f, i) => [f, () => u8(d, i + 1) - 40] as const,
    ),
  ),
);
def(0x6c, 5, 'Commanded throttle actuator control and relative throttle position', (d) =>
  fourPercents(d, ['commandedA', 'positionA', 'commandedB', 'positionB']),
);
def(0x6d, 11, 'Fuel pressure control system', (d) =>
  present(d, [
    ['commandedA', () => 10 * u16(d, 1)],
    ['pressureA', () => 10 * u16(d, 3)],
    ['temperatureA', () => u8(d, 5) - 40],
    ['commandedB', () => 10 * u16(d, 6)],
    ['pressureB', () => 10 * u16(d, 8)],
    ['temperatureB', () => u8(d, 10) - 40],
  ]),
);
def(0x6e, 9, 'Injection pressure control system', (d) =>
  present(d, [
    ['commandedA', () => 10 * u16(d, 1)],
    ['pressureA', () => 10 * u16(d, 3)],
    ['commandedB', () => 10 * u16(d, 5)],
    ['pressureB', () => 10 * u16(d, 7)],
  ]),
);
def(0x6f, 3, 'Turbocharger compressor inlet pressure', (d) =>
  present(d, [
    ['a', () => u8(d, 1)],
    ['b', () => u8(d, 2)],
  ]),
);
// Byte J carries the two loop states (bits 0-1 for A, 2-3 for B), announced by bits 4 and 5.
def(0x70, 10, 'Boost pressure control', (d) =>
  present(d, [
    ['commandedA', () => u16(d, 1) / 32],
    ['pressureA', () => u16(d, 3) / 32],
    ['commandedB', () => u16(d, 5) / 32],
    ['pressureB', () => u16(d, 7) / 32],
    ['statusA', () => loopStatus(u8(d, 9) & 3)],
    ['statusB', () => loopStatus((u8(d, 9) >> 2) & 3)],
  ]),
);
def(0x71, 6, 'Variable Geometry turbo (VGT) control', (d) =>
  present(d, [
    ['commandedA', () => pct(u8(d, 1))],
    ['positionA', () => pct(u8(d, 2))],
    ['commandedB', () => pct(u8(d, 3))],
    ['positionB', () => pct(u8(d, 4))],
    ['statusA', () => loopStatus(u8(d, 5) & 3)],
    ['statusB', () => loopStatus((u8(d, 5) >> 2) & 3)],
  ]),
);
def(0x72, 5, 'Wastegate control', (d) =>
  fourPercents(d, ['commandedA', 'positionA', 'commandedB', 'positionB']),
);
def(0x73, 5, 'Exhaust pressure', (d) =>
  present(d, [
    ['a', () => u16(d, 1) / 100],
    ['b', () => u16(d, 3) / 100],
  ]),
);
// J1979 scales turbocharger speed at 10 rpm per bit (0 to 655,350 rpm): at 1 rpm per bit a
// passenger-car turbo (150,000 rpm and more) would not fit in 16 bits.
def(0x74, 5, 'Turbocharger RPM', (d) =>
  present(d, [
    ['a', () => 10 * u16(d, 1)],
    ['b', () => 10 * u16(d, 3)],
  ]),
);
for (const [pid, which] of [
  [0x75, 'A'],
  [0x76, 'B'],
] as const) {
  def(pid, 7, `Turbocharger ${which} temperature`, (d) =>
    present(d, [
      ['compressorInlet', () => u8(d, 1) - 40],
      ['compressorOutlet', () => u8(d, 2) - 40],
      ['turbineInlet', () => u16(d, 3) / 10 - 40],
      ['turbineOutlet', () => u16(d, 5) / 10 - 40],
    ]),
  );
}
def(0x77, 5, 'Charge air cooler temperature (CACT)', (d) =>
  present(
    d,
    (['b1s1', 'b1s2', 'b2s1', 'b2s2'] as const).map(
      (f, i) => [f, () => u8(d, i + 1) - 40] as const,
    ),
  ),
);
const egt = (d: Uint8Array, first: number) =>
  present(
    d,
    [0, 1, 2, 3].map((s) => [`s${first + s}`, () => u16(d, 1 + 2 * s) / 10 - 40] as const),
  );
def(0x78, 9, 'Exhaust gas temperature (EGT) bank 1', (d) => egt(d, 1));
def(0x79, 9, 'Exhaust gas temperature (EGT) bank 2', (d) => egt(d, 1));
// The delta pressure is signed (a filter can read below its outlet); inlet and outlet are not.
for (const [pid, bank] of [
  [0x7a, 1],
  [0x7b, 2],
] as const) {
  def(pid, 7, `Diesel particulate filter (DPF) bank ${bank}`, (d) =>
    present(d, [
      ['delta', () => s16(d, 1) / 100],
      ['inlet', () => u16(d, 3) / 100],
      ['outlet', () => u16(d, 5) / 100],
    ]),
  );
}
def(0x7c, 9, 'Diesel particulate filter (DPF) temperature', (d) =>
  present(
    d,
    (['b1Inlet', 'b1Outlet', 'b2Inlet', 'b2Outlet'] as const).map(
      (f, i) => [f, () => u16(d, 1 + 2 * i) / 10 - 40] as const,
    ),
  ),
);
// 7D/7E: one status byte, no support byte.
const nteStatus = (d: Uint8Array) => ({
  inside: bit(u8(d, 0), 0),
  outside: bit(u8(d, 0), 1),
  carveOut: bit(u8(d, 0), 2),
  deficiency: bit(u8(d, 0), 3),
});
def(0x7d, 1, 'NOx NTE (Not-To-Exceed) control area status', nteStatus);
def(0x7e, 1, 'PM NTE (Not-To-Exceed) control area status', nteStatus);
def(0x7f, 13, 'Engine run time', (d) =>
  present(d, [
    ['total', () => u32(d, 1)],
    ['idle', () => u32(d, 5)],
    ['pto', () => u32(d, 9)],
  ]),
);
// Emission-increasing AECDs: five devices per PID, two 4-byte second counters each (timer 1:
// active with emissions up to the limit, timer 2: above it).
for (const [pid, firstDevice] of [
  [0x81, 1],
  [0x82, 6],
  [0x89, 11],
  [0x8a, 16],
] as const) {
  def(pid, 41, `Engine run time for AECD #${firstDevice}-#${firstDevice + 4}`, (d) => {
    const out: Record<string, number> = {};
    for (let i = 0; i < 5; i++) {
      if (!bit(u8(d, 0), i)) continue;
      out[`aecd${firstDevice + i}t1`] = u32(d, 1 + 8 * i);
      out[`aecd${firstDevice + i}t2`] = u32(d, 5 + 8 * i);
    }
    return out;
  });
}
const fourPpm = (d: Uint8Array) =>
  present(
    d,
    (['b1s1', 'b1s2', 'b2s1', 'b2s2'] as const).map(
      (f, i) => [f, () => u16(d, 1 + 2 * i)] as const,
    ),
  );
def(0x83, 9, 'NOx sensor', fourPpm);
def(0x84, 1, 'Manifold surface temperature', temp);
def(0x85, 10, 'NOx reagent system', (d) =>
  present(d, [
    ['consumption', () => u16(d, 1) / 200],
    ['demand', () => u16(d, 3) / 200],
    ['level', () => pct(u8(d, 5))],
    ['warningTime', () => u32(d, 6)],
  ]),
);
def(0x86, 5, 'Particulate matter (PM) sensor', (d) =>
  present(d, [
    ['b1s1', () => u16(d, 1) * 0.0125],
    ['b2s1', () => u16(d, 3) * 0.0125],
  ]),
);
def(0x87, 5, 'Intake manifold absolute pressure', (d) =>
  present(d, [
    ['a', () => u16(d, 1) / 32],
    ['b', () => u16(d, 3) / 32],
  ]),
);
// SCR inducement: A is a status byte (no support byte); B and C hold 4-bit histories of the same
// flags for the last 10,000 km blocks, D-M distances in km.
def(0x88, 13, 'SCR Induce System', (d) => ({
  reagentLow: bit(u8(d, 0), 0),
  reagentIncorrect: bit(u8(d, 0), 1),
  consumptionDeviation: bit(u8(d, 0), 2),
  noxTooHigh: bit(u8(d, 0), 3),
  active: bit(u8(d, 0), 7),
  inducementDistance: u16(d, 3),
  blockDistance: u16(d, 5),
  inducementDistance2: u16(d, 7),
  inducementDistance3: u16(d, 9),
  inducementDistance4: u16(d, 11),
}));
def(0x8b, 7, 'Diesel Aftertreatment', (d) =>
  present(d, [
    ['dpfRegenerating', () => bit(u8(d, 1), 0)],
    ['dpfActiveRegeneration', () => bit(u8(d, 1), 1)],
    ['noxAdsorberRegenerating', () => bit(u8(d, 1), 2)],
    ['noxAdsorberDesulfurizing', () => bit(u8(d, 1), 3)],
    ['dpfTrigger', () => pct(u8(d, 2))],
    ['regenerationInterval', () => u16(d, 3)],
    ['regenerationDistance', () => u16(d, 5)],
  ]),
);
// 8C and 9C: four O2 concentrations (100/65,535 % per bit) then four lambdas (1/8192 per bit).
const wideO2 = (d: Uint8Array, sensors: readonly string[]) =>
  present(d, [
    ...sensors.map((s, i) => [`${s}Percent`, () => (u16(d, 1 + 2 * i) * 100) / 65535] as const),
    ...sensors.map((s, i) => [`${s}Lambda`, () => u16(d, 9 + 2 * i) / 8192] as const),
  ]);
def(0x8c, 17, 'O2 Sensor (Wide Range)', (d) => wideO2(d, ['b1s1', 'b1s2', 'b2s1', 'b2s2']));
def(0x8d, 1, 'Throttle Position G', percent);
def(0x8e, 1, 'Engine Friction - Percent Torque', torque);
def(0x8f, 7, 'PM Sensor Bank 1 & 2', (d) =>
  present(d, [
    ['b1Active', () => bit(u8(d, 1), 0)],
    ['b1Regenerating', () => bit(u8(d, 1), 1)],
    ['b1Output', () => u16(d, 2) / 100],
    ['b2Active', () => bit(u8(d, 4), 0)],
    ['b2Regenerating', () => bit(u8(d, 4), 1)],
    ['b2Output', () => u16(d, 5) / 100],
  ]),
);
def(0x90, 3, 'WWH-OBD Vehicle OBD System Information', (d) => ({
  milState: milState((u8(d, 0) >> 2) & 0xf),
  milHours: u16(d, 1),
}));
def(0x91, 5, 'WWH-OBD ECU OBD System Information', (d) => ({
  ecuMilState: milState(u8(d, 0) & 0xf),
  ecuMilHours: u16(d, 1),
  ecuMilHoursMax: u16(d, 3),
}));
// Fuel System Control: A says which control loops exist, B whether each is closed.
def(0x92, 2, 'Fuel System Control', (d) =>
  present(
    d,
    FUEL_CONTROLS.map((f, i) => [f, () => bit(u8(d, 1), i)] as const),
  ),
);
def(0x93, 3, 'WWH-OBD Vehicle OBD Counters support', (d) =>
  present(d, [['continuousMilHours', () => u16(d, 1)]]),
);
def(0x94, 12, 'NOx Warning And Inducement System', (d) => ({
  warning: bit(u8(d, 1), 0),
  level1: inducement((u8(d, 1) >> 1) & 3),
  level2: inducement((u8(d, 1) >> 3) & 3),
  level3: inducement((u8(d, 1) >> 5) & 3),
  reagentQualityHours: u16(d, 2),
  reagentConsumptionHours: u16(d, 4),
  dosingHours: u16(d, 6),
  egrValveHours: u16(d, 8),
  monitoringHours: u16(d, 10),
}));
def(0x98, 9, 'Exhaust Gas Temperature Sensor bank 1, sensors 5-8', (d) => egt(d, 5));
def(0x99, 9, 'Exhaust Gas Temperature Sensor bank 2, sensors 5-8', (d) => egt(d, 5));
def(0x9a, 6, 'Hybrid/EV Vehicle System Data, Battery, Voltage', (d) =>
  present(d, [
    ['chargingState', () => u8(d, 1)],
    ['voltage', () => u16(d, 2) / 64],
    ['current', () => s16(d, 4) / 10],
  ]),
);
// A: bits 0-3 say which of type, concentration, tank temperature and level exist; bits 4-7 are
// the DEF type code.
def(0x9b, 4, 'Diesel Exhaust Fluid Sensor Data', (d) =>
  present(d, [
    ['type', () => u8(d, 0) >> 4],
    ['concentration', () => u8(d, 1) / 4],
    ['temperature', () => u8(d, 2) - 40],
    ['level', () => pct(u8(d, 3))],
  ]),
);
def(0x9c, 17, 'O2 Sensor Data', (d) => wideO2(d, ['b1s3', 'b1s4', 'b2s3', 'b2s4']));
def(0x9d, 4, 'Engine Fuel Rate', (d) => ({ engine: u16(d, 0) / 50, vehicle: u16(d, 2) / 50 }));
def(0x9e, 2, 'Engine Exhaust Flow Rate', (d) => ({ '': u16(d, 0) / 5 }));
// 9F, A3, A7 and A8: the public J1979 summaries give their length but not their layout, and the
// two independent decoders above do not decode them; they are length-checked only until the
// J1979-DA table is at hand, rather than guessed.
def(0x9f, 9, 'Fuel System Percentage Use');
def(0xa1, 9, 'NOx Sensor Corrected Data', fourPpm);
def(0xa2, 2, 'Cylinder Fuel Rate', (d) => ({ '': u16(d, 0) / 32 }));
def(0xa3, 9, 'Evap System Vapor Pressure');
def(0xa4, 4, 'Transmission Actual Gear', (d): Record<string, number> => {
  if (!bit(u8(d, 0), 1)) return {};
  return { gear: u8(d, 1) >> 4, ratio: u16(d, 2) / 1000 };
});
def(0xa5, 4, 'Commanded Diesel Exhaust Fluid Dosing', (d): Record<string, number> =>
  bit(u8(d, 0), 0) ? { '': u8(d, 1) / 2 } : {},
);
def(0xa6, 4, 'Odometer', (d) => ({ '': u32(d, 0) / 10 }));
def(0xa7, 4, 'NOx Sensor Concentration Sensors 3 and 4');
def(0xa8, 4, 'NOx Sensor Corrected Concentration Sensors 3 and 4');
def(0xa9, 4, 'ABS Disable Switch State', (d) => present(d, [['', () => bit(u8(d, 1), 0)]]));
// C3 is manufacturer-shaped (drive condition ID, engine speed, ...): length only. C4's byte B
// carries the engine idle (bit 5) and stop (bit 6) requests.
def(0xc3, undefined, 'Fuel Level Input A/B');
def(
  0xc4,
  undefined,
  'Exhaust Particulate Control System Diagnostic Time/Count',
  (d): Record<string, boolean> =>
    d.length < 2 ? {} : { idleRequest: bit(u8(d, 1), 5), stopRequest: bit(u8(d, 1), 6) },
);

definitions.sort((a, b) => a.pid - b.pid);

/** Every service 01 PID enginechain knows, in PID order. */
export const MODE01_PIDS: readonly Mode01Pid[] = Object.freeze(definitions);

const BY_PID = new Map(definitions.map((d) => [d.pid, d]));

/** The definition of a service 01 PID, or undefined when J1979 does not define it. */
export function mode01Pid(pid: number): Mode01Pid | undefined {
  return BY_PID.get(pid);
}

/** Whether `pid` is one of the supported-PID bitmaps 00, 20, 40 ... C0. */
export function isSupportBitmapPid(pid: number): boolean {
  return pid % 0x20 === 0 && pid <= 0xe0;
}
