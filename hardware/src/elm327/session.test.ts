/**
 * The emulator's command interpreter against the replies the ELM327 datasheet prints, byte
 * for byte, and the J1979 encodings of the simulated car.
 */
import { describe, expect, it } from 'vitest';
import type { VehicleSnapshot } from '../vehicle/state.js';
import { Elm327Faults } from './faults.js';
import { Elm327Session, isoTpFrames } from './session.js';
import { encodeDtc, supportBitmap, vehicleEcus } from './vehicle-ecus.js';

const CAR: Partial<VehicleSnapshot> = {
  vin: '1D4GP00R55B123456', // the ELM327 datasheet's example VIN
  speedKmh: 50,
  engineRpm: 1726,
  engineRunning: true,
  coolantC: 83,
  intakeAirC: 29,
  mafGs: 5,
  batteryV: 12.6,
  gear: 3,
  dtcs: ['P0133'],
};

function session(faults = new Elm327Faults()) {
  const s = new Elm327Session({
    vehicle: () => CAR as VehicleSnapshot,
    ecus: vehicleEcus(),
    faults,
    version: 'ELM327 v1.5',
  });
  return { s, faults, send: (cmd: string) => s.handle(cmd).text };
}

describe('Elm327Session: AT commands', () => {
  it('ATZ echoes, resets and prints the banner; ATE0/ATL0 take effect on their own reply', () => {
    const { send } = session();
    expect(send('ATZ')).toBe('ATZ\r\r\nELM327 v1.5\r\n\r\n>');
    expect(send('ATE0')).toBe('ATE0\rOK\r\n\r\n>');
    expect(send('ATL0')).toBe('OK\r\r>');
    expect(send('AT I')).toBe('ELM327 v1.5\r\r>');
    expect(send('ATRV')).toBe('12.6V\r\r>');
    expect(send('ATXYZ')).toBe('?\r\r>');
  });

  it('ATDPN is 0 before the search, A6 after it; a fixed protocol answers as set', () => {
    const { send } = session();
    send('ATE0');
    send('ATL0');
    expect(send('ATDPN')).toBe('0\r\r>');
    expect(send('0100')).toMatch(/^SEARCHING\.\.\.\r41 00 /);
    expect(send('ATDPN')).toBe('A6\r\r>');
    expect(send('ATDP')).toBe('AUTO, ISO 15765-4 (CAN 11/500)\r\r>');
    expect(send('0100')).not.toMatch(/SEARCHING/);
    send('ATSP6');
    expect(send('ATDPN')).toBe('6\r\r>');
  });
});

describe('Elm327Session: OBD requests', () => {
  function quiet(opts: { headers?: boolean; spaces?: boolean; caf?: boolean } = {}) {
    const t = session();
    for (const c of [
      'ATE0',
      'ATL0',
      `ATS${opts.spaces === false ? 0 : 1}`,
      `ATH${opts.headers ? 1 : 0}`,
      `ATCAF${opts.caf === false ? 0 : 1}`,
      'ATSP6',
    ]) {
      t.send(c);
    }
    return t;
  }

  it('010C / 010D: the J1979 example values, with and without headers', () => {
    const { send } = quiet();
    expect(send('010C')).toBe('41 0C 1A F8\r\r>');
    const h = quiet({ headers: true });
    expect(h.send('010D')).toBe('7E8 03 41 0D 32\r7E9 03 41 0D 32\r\r>');
    const packed = quiet({ headers: true, spaces: false });
    expect(packed.send('010C')).toBe('7E804410C1AF8\r\r>');
  });

  it('multi-PID request, and the response count stops after that many frames', () => {
    const h = quiet({ headers: true });
    expect(h.send('010C0D')).toBe('7E8 06 41 0C 1A F8 0D 32\r7E9 03 41 0D 32\r\r>');
    expect(h.send('010C0D0F10')).toBe(
      '7E8 10 0B 41 0C 1A F8 0D 32\r7E8 21 0F 45 10 01 F4 00 00\r7E9 03 41 0D 32\r\r>',
    );
    expect(h.send('010C0D0F102')).toBe(
      '7E8 10 0B 41 0C 1A F8 0D 32\r7E8 21 0F 45 10 01 F4 00 00\r\r>',
    );
    expect(h.send('010D1')).toBe('7E8 03 41 0D 32\r\r>');
  });

  it('mode 09 VIN exactly as the datasheet prints it: formatted (ATH0 ATCAF1) and raw (ATH1)', () => {
    expect(quiet().send('0902')).toBe(
      '014\r0: 49 02 01 31 44 34\r1: 47 50 30 30 52 35 35\r2: 42 31 32 33 34 35 36\r\r>',
    );
    expect(quiet({ headers: true }).send('0902')).toBe(
      '7E8 10 14 49 02 01 31 44 34\r7E8 21 47 50 30 30 52 35 35\r7E8 22 42 31 32 33 34 35 36\r\r>',
    );
    expect(quiet({ caf: false }).send('0902')).toBe(
      '10 14 49 02 01 31 44 34\r21 47 50 30 30 52 35 35\r22 42 31 32 33 34 35 36\r\r>',
    );
  });

  it('DTCs: mode 03 with a count byte, mode 04 clears, injected codes, NO DATA for nothing', () => {
    const { send, faults } = quiet();
    expect(send('03')).toBe('43 01 01 33\r\r>');
    faults.setDtcs(['P0301', 'C0035', 'U0100', 'B1342']);
    expect(send('03')).toBe('00A\r0: 43 04 03 01 40 35\r1: C1 00 93 42 00 00 00\r\r>');
    expect(send('04')).toBe('44\r\r>');
    expect(send('03')).toBe('43 00\r\r>');
    // Permanent codes (service 0A) outlive the clear: the car's own and every one stored.
    expect(send('0A')).toBe('00C\r0: 4A 05 01 33 03 01\r1: 40 35 C1 00 93 42 00\r\r>');
    expect(send('0130')).toBe('41 30 28\r\r>');
    expect(send('01FF')).toBe('NO DATA\r\r>');
    expect(send('0X')).toBe('?\r\r>');
  });

  it('injected statuses and NO DATA PIDs', () => {
    const { send, faults } = quiet();
    faults.failNext('CAN ERROR').failNext('BUFFER FULL');
    expect(send('010C')).toBe('CAN ERROR\r\r>');
    expect(send('010C')).toBe('BUFFER FULL\r\r>');
    faults.noDataPids.add(0x0c);
    expect(send('010C')).toBe('NO DATA\r\r>');
    expect(send('010C0D')).toBe('41 0D 32\r41 0D 32\r\r>');
  });
});

describe('encoders', () => {
  it('ISO-TP frames, DTC bytes and supported-PID bitmaps', () => {
    expect(isoTpFrames([0x41, 0x0d, 0x32])).toEqual([[3, 0x41, 0x0d, 0x32, 0, 0, 0, 0]]);
    expect(isoTpFrames(Array.from({ length: 20 }, (_, i) => i))).toHaveLength(3);
    expect(encodeDtc('P0133')).toEqual([0x01, 0x33]);
    expect(encodeDtc('U0100')).toEqual([0xc1, 0x00]);
    expect(() => encodeDtc('X0100')).toThrow(RangeError);
    // The classic 41 00 BE 1F B8 10 bitmap.
    const pids = [1, 3, 4, 5, 6, 7, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x14, 0x15, 0x1c];
    expect(supportBitmap(0, pids)).toEqual([0xbe, 0x1f, 0xb8, 0x10]);
  });
});
