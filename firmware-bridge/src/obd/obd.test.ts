import { SIGNAL_CATALOGUE, signalInfo } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import {
  decodeCalibrationIds,
  decodeDtcResponse,
  decodeEcuName,
  decodeMode01Pid,
  decodeMode01Response,
  decodeSupportedPids,
  decodeVinResponse,
  dtcToBytes,
  encodeSupportedPids,
  MODE01_PIDS,
  ObdError,
  OBD_ERROR_CODES,
  parseBatteryVoltage,
  splitMode01Response,
  type ObdValue,
} from './index.js';

const bytes = (hex: string) =>
  Uint8Array.from(hex.trim().split(/\s+/).filter(Boolean), (h) => parseInt(h, 16));
const value = (values: ObdValue[], name: string) => values.find((v) => v.name === name)?.value;
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0).toString(16)).join(' ');

describe('service 01: published SAE J1979 / ELM327 datasheet examples', () => {
  // Each: the response bytes, the VSS name, the physical value the standard's example gives.
  const cases: [string, string, number | string | boolean][] = [
    ['41 0C 1A F8', 'Vehicle.Powertrain.CombustionEngine.Speed', 1726],
    ['41 0D 32', 'Vehicle.Speed', 50],
    ['41 05 7B', 'Vehicle.Powertrain.CombustionEngine.ECT', 83], // ELM327 datasheet
    ['41 0F 45', 'Vehicle.OBD.IntakeTemp', 29],
    ['41 04 FF', 'Vehicle.OBD.EngineLoad', 100],
    ['41 11 00', 'Vehicle.OBD.ThrottlePosition', 0],
    ['41 06 80', 'Vehicle.OBD.ShortTermFuelTrim1', 0],
    ['41 06 00', 'Vehicle.OBD.ShortTermFuelTrim1', -100],
    ['41 0A FF', 'Vehicle.OBD.FuelPressure', 765],
    ['41 0E 00', 'Vehicle.OBD.TimingAdvance', -64],
    ['41 10 FF FF', 'Vehicle.OBD.MAF', 655.35],
    ['41 1F 01 2C', 'Vehicle.OBD.RunTime', 300],
    ['41 2F FF', 'Vehicle.Powertrain.FuelSystem.RelativeLevel', 100],
    ['41 32 80 00', 'Vehicle.OBD.EVAPVaporPressure', -8192],
    ['41 3C 11 94', 'Vehicle.OBD.Catalyst.Bank1.Temperature1', 410],
    ['41 42 31 0A', 'Vehicle.OBD.ControlModuleVoltage', 12.554],
    ['41 44 80 00', 'Vehicle.OBD.CommandedEquivalenceRatio', 1],
    ['41 46 3C', 'Vehicle.Exterior.AirTemperature', 20],
    ['41 51 01', 'Vehicle.OBD.FuelType', 'Gasoline'],
    ['41 51 04', 'Vehicle.OBD.FuelType', 'Diesel'],
    ['41 1C 06', 'Vehicle.OBD.OBDStandards', 6],
    ['41 54 FF FF', 'Vehicle.OBD.EVAPVaporPressureAlternate', -1],
    ['41 5C 82', 'Vehicle.OBD.OilTemperature', 90],
    ['41 5E 00 64', 'Vehicle.OBD.FuelRate', 5],
    ['41 61 7D', 'Vehicle.OBD.DriverDemandEngineTorque', 0],
    ['41 A6 00 01 E2 40', 'Vehicle.TraveledDistance', 12345.6],
    ['41 A4 02 30 0C 80', 'Vehicle.Powertrain.Transmission.CurrentGear', 3],
    ['41 03 02 00', 'Vehicle.OBD.FuelStatus', 'CL'],
    ['41 12 04', 'Vehicle.OBD.AirStatus', 'OUTSIDE_OR_OFF'],
    ['41 02 01 33', 'Vehicle.OBD.FreezeDTC', 'P0133'],
  ];
  it.each(cases)('%s -> %s = %s', (hex, name, expected) => {
    const values = decodeMode01Response(bytes(hex));
    const got = value(values, name);
    if (typeof expected === 'number') expect(got).toBeCloseTo(expected, 6);
    else expect(got).toBe(expected);
    const info = signalInfo(name);
    expect(values.find((v) => v.name === name)?.unit).toBe(info?.unit);
  });

  it('PID 01 monitor status: MIL, DTC count and ignition type', () => {
    const v = decodeMode01Pid(0x01, bytes('83 07 65 04'));
    expect(value(v, 'Vehicle.OBD.Status.IsMILOn')).toBe(true);
    expect(value(v, 'Vehicle.OBD.Status.DTCCount')).toBe(3);
    expect(value(v, 'Vehicle.OBD.Status.IgnitionType')).toBe('SPARK');
    const diesel = decodeMode01Pid(0x01, bytes('00 0F 00 00'));
    expect(value(diesel, 'Vehicle.OBD.Status.IsMILOn')).toBe(false);
    expect(value(diesel, 'Vehicle.OBD.Status.IgnitionType')).toBe('COMPRESSION');
  });

  it('O2 sensors: voltage and trim, and no trim when B is FF', () => {
    const v = decodeMode01Pid(0x15, bytes('5A 80'));
    expect(value(v, 'Vehicle.OBD.O2.Sensor2.Voltage')).toBeCloseTo(0.45);
    expect(value(v, 'Vehicle.OBD.O2.Sensor2.ShortTermFuelTrim')).toBe(0);
    const unused = decodeMode01Pid(0x14, bytes('5A FF'));
    expect(unused.map((x) => x.name)).toEqual(['Vehicle.OBD.O2.Sensor1.Voltage']);
    const wide = decodeMode01Pid(0x34, bytes('80 00 80 00'));
    expect(value(wide, 'Vehicle.OBD.O2WR.Sensor1.Lambda')).toBe(1);
    expect(value(wide, 'Vehicle.OBD.O2WR.Sensor1.Current')).toBe(0);
  });

  it('splits a multi-PID CAN reply (up to six PIDs in one message)', () => {
    const r = splitMode01Response(bytes('41 0C 1A F8 0D 32 05 7B 11 33 04 80 10 01 F4'));
    expect(r.map((p) => p.pid)).toEqual([0x0c, 0x0d, 0x05, 0x11, 0x04, 0x10]);
    const v = decodeMode01Response(bytes('41 0C 1A F8 0D 32 10 01 F4'));
    expect(v.map((x) => [x.name, x.value])).toEqual([
      ['Vehicle.Powertrain.CombustionEngine.Speed', 1726],
      ['Vehicle.Speed', 50],
      ['Vehicle.OBD.MAF', 5],
    ]);
  });

  it('every defined PID decodes all-zero and all-FF data to catalogued values', () => {
    for (const def of MODE01_PIDS) {
      for (const fill of [0x00, 0xff]) {
        const data = new Uint8Array(def.bytes ?? 7).fill(fill);
        for (const v of decodeMode01Pid(def.pid, data)) {
          const info = signalInfo(v.name);
          expect(info, v.name).toBeDefined();
          expect(v.unit).toBe(info!.unit);
          if (typeof v.value === 'number') expect(Number.isFinite(v.value)).toBe(true);
        }
      }
    }
  });

  it('every catalogue entry with a service 01 key is produced by the decoder', () => {
    const produced = new Set<string>();
    for (const def of MODE01_PIDS) {
      const data = new Uint8Array(def.bytes ?? 7).fill(0xff);
      data[0] = 0xff;
      if (def.pid === 0x03) data.set([2, 2]);
      for (const v of decodeMode01Pid(def.pid, data)) produced.add(v.name);
      // O2 sensors: FF means "no trim", so also decode a value with a trim.
      if (def.pid >= 0x14 && def.pid <= 0x1b) {
        for (const v of decodeMode01Pid(def.pid, bytes('10 80'))) produced.add(v.name);
      }
    }
    const expected = SIGNAL_CATALOGUE.filter((s) => s.obd?.some((k) => k.startsWith('01:'))).map(
      (s) => s.name,
    );
    expect(expected.filter((n) => !produced.has(n))).toEqual([]);
  });
});

describe('supported-PID bitmaps', () => {
  it('decodes the classic 41 00 BE 1F B8 10 example', () => {
    expect(decodeSupportedPids(0x00, bytes('BE 1F B8 10'))).toEqual([
      0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x14, 0x15,
      0x1c,
    ]);
  });
  it('round-trips through encodeSupportedPids, with the next-bitmap bit', () => {
    const pids = [0x21, 0x2f, 0x33, 0x40];
    expect(decodeSupportedPids(0x20, encodeSupportedPids(0x20, pids))).toEqual(pids);
  });
});

describe('DTCs (services 03, 07, 0A)', () => {
  it('ELM327 datasheet example: 43 01 33 00 00 00 00 is P0133 (legacy framing)', () => {
    expect(decodeDtcResponse(0x03, [bytes('43 01 33 00 00 00 00')], 'legacy')).toEqual(['P0133']);
  });
  it('legacy framing: three per message, several messages', () => {
    const msgs = [bytes('43 01 33 41 23 81 11'), bytes('43 C1 00 00 00 00 00')];
    expect(decodeDtcResponse(0x03, msgs, 'legacy')).toEqual(['P0133', 'C0123', 'B0111', 'U0100']);
  });
  it('CAN framing: count byte then codes', () => {
    expect(decodeDtcResponse(0x07, [bytes('47 02 03 01 04 20')], 'can')).toEqual([
      'P0301',
      'P0420',
    ]);
    expect(decodeDtcResponse(0x0a, [bytes('4A 00')], 'can')).toEqual([]);
    expect(() => decodeDtcResponse(0x03, [bytes('43 03 03 01')], 'can')).toThrow(
      expect.objectContaining({ code: 'bad-dtc' }),
    );
  });
  it('letters and digits: every DTC round-trips through its two bytes', () => {
    for (const code of ['P0000', 'P3FFF', 'C1234', 'B2ABC', 'U3F0A', 'P0301']) {
      const [b1, b2] = dtcToBytes(code);
      const msg = Uint8Array.of(0x43, 1, b1!, b2!);
      if (code === 'P0000') continue;
      expect(decodeDtcResponse(0x03, [msg], 'can')).toEqual([code]);
    }
  });
});

describe('service 09: VIN and calibration IDs', () => {
  const VIN = '1D4GP00R55B123456'; // the ELM327 datasheet's example VIN

  it('ELM327 datasheet CAN example (ISO-TP reassembled)', () => {
    const msg = bytes(`49 02 01 ${ascii(VIN)}`);
    expect(decodeVinResponse([msg])).toBe(VIN);
  });
  it('ELM327 datasheet J1850 example: five numbered messages, 00 padding', () => {
    const msgs = [
      '49 02 01 00 00 00 31',
      '49 02 02 44 34 47 50',
      '49 02 03 30 30 52 35',
      '49 02 04 35 42 31 32',
      '49 02 05 33 34 35 36',
    ].map(bytes);
    expect(decodeVinResponse(msgs)).toBe(VIN);
    expect(decodeVinResponse([...msgs].reverse())).toBe(VIN);
  });
  it('tolerates a missing count byte, 00/01 padding, a left-over ISO-TP length and trailing junk', () => {
    expect(decodeVinResponse([bytes(`49 02 ${ascii(VIN)}`)])).toBe(VIN);
    expect(decodeVinResponse([bytes(`49 02 01 00 00 01 ${ascii(VIN)} 00 00`)])).toBe(VIN);
    expect(decodeVinResponse([bytes(`10 14 49 02 01 ${ascii(VIN)}`)])).toBe(VIN);
    expect(decodeVinResponse([bytes(`49 02 01 ${ascii(VIN)} FF 20`)])).toBe(VIN);
  });
  it('picks the window with the right check digit when padding is made of VIN characters', () => {
    const vin = '1HGCM82633A004352';
    expect(decodeVinResponse([bytes(`49 02 01 ${ascii('000' + vin)}`)])).toBe(vin);
  });
  it('refuses a VIN cut short (what a one-frame response count does to it)', () => {
    expect(() => decodeVinResponse([bytes(`49 02 01 ${ascii('1D4')}`)])).toThrow(
      expect.objectContaining({ code: 'bad-vin' }),
    );
  });
  it('calibration IDs and ECU name', () => {
    const cal = (s: string) => ascii(s.padEnd(16, '\0')).replace(/\b0\b/g, '00');
    const msg = bytes(`49 04 02 ${cal('JMB*36761500')} ${cal('JMB*47872611')}`);
    expect(decodeCalibrationIds([msg])).toEqual(['JMB*36761500', 'JMB*47872611']);
    const name = bytes(`49 0A 01 ${ascii('ECM-EngineControl').replace(/$/, ' 00 00 00')}`);
    expect(decodeEcuName([name])).toBe('ECM-EngineControl');
  });
});

describe('ATRV', () => {
  it.each([
    ['12.6V', 12.6],
    ['14.25V', 14.25],
    [' 11.9 V ', 11.9],
  ])('%s', (reply, volts) => expect(parseBatteryVoltage(reply)).toBe(volts));
  it('refuses what is not a voltage', () => {
    expect(() => parseBatteryVoltage('?')).toThrow(
      expect.objectContaining({ code: 'bad-voltage' }),
    );
  });
});

describe('hostile inputs: every public decoder throws a typed ObdError, never anything else', () => {
  const hostile: unknown[] = [
    undefined,
    null,
    0,
    -1,
    1.5,
    NaN,
    '41 0C',
    [],
    {},
    [0x41, 0x0c],
    new Uint8Array(0),
    Uint8Array.of(0x41),
    Uint8Array.of(0x7f, 0x01, 0x12),
    Uint8Array.of(0x41, 0x0c, 0x1a),
    Uint8Array.of(0x41, 0x99),
    new Uint8Array(300).fill(0xff),
  ];
  const calls: [string, (x: unknown) => unknown][] = [
    ['decodeMode01Pid(pid)', (x) => decodeMode01Pid(x as number, new Uint8Array(4))],
    ['decodeMode01Pid(data)', (x) => decodeMode01Pid(0x0c, x as Uint8Array)],
    ['decodeMode01Response', (x) => decodeMode01Response(x as Uint8Array)],
    ['decodeSupportedPids', (x) => decodeSupportedPids(0, x as Uint8Array)],
    ['decodeDtcResponse', (x) => decodeDtcResponse(0x03, [x as Uint8Array], 'can')],
    ['decodeDtcResponse(list)', (x) => decodeDtcResponse(0x03, x as Uint8Array[], 'legacy')],
    ['decodeVinResponse', (x) => decodeVinResponse([x as Uint8Array])],
    ['decodeVinResponse(list)', (x) => decodeVinResponse(x as Uint8Array[])],
    ['decodeCalibrationIds', (x) => decodeCalibrationIds([x as Uint8Array])],
    ['parseBatteryVoltage', (x) => parseBatteryVoltage(x as string)],
    ['dtcToBytes', (x) => dtcToBytes(x as string)],
  ];
  it.each(calls)('%s', (_name, call) => {
    for (const input of hostile) {
      try {
        call(input);
      } catch (err) {
        expect(err, String(input)).toBeInstanceOf(ObdError);
        expect(Object.keys(OBD_ERROR_CODES)).toContain((err as ObdError).code);
      }
    }
  });
});
