/**
 * ELM327 reply parsing as data: the reply forms of the ELM327 datasheet (DSL v2.x examples)
 * and the ones clones give, without I/O.
 */
import { describe, expect, it } from 'vitest';
import { decodeVinResponse } from '../obd/index.js';
import { AdapterError } from '../source/errors.js';
import {
  assembleMessages,
  replyFormat,
  replyLines,
  statusError,
  throwIfStatus,
  type EcuMessage,
} from './reply.js';

const CAN_H1 = replyFormat('6', true);
const CAN_H0 = replyFormat('6', false);
const hex = (m: EcuMessage) =>
  Array.from(m.data, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
const VIN = '1D4GP00R55B123456'; // the datasheet's example VIN

describe('replyLines', () => {
  it('drops the echo, SEARCHING..., blank lines and non-printable bytes; splits CR and CRLF', () => {
    const raw = '0100\r\r\nSEARCHING...\r\n7E8 06 41 00 BE 3F A8 13\r\x00\x07\r\n\r\n';
    expect(replyLines(raw, '0100')).toEqual(['7E8 06 41 00 BE 3F A8 13']);
    expect(replyLines('SEARCHING...7E8064100BE3FA813\r\r', '0100')).toEqual(['7E8064100BE3FA813']);
    expect(replyLines('ATZ\r\r\rELM327 v1.5\r\r', 'ATZ')).toEqual(['ELM327 v1.5']);
    expect(replyLines('BUS INIT: ...OK\r41 00 BE 1F B8 10\r')).toEqual(['41 00 BE 1F B8 10']);
  });
});

describe('status replies become typed errors', () => {
  it.each([
    ['NO DATA', 'no-data', 'NoDataError'],
    ['NODATA', 'no-data', 'NoDataError'],
    ['?', 'unsupported', 'AdapterError'],
    ['STOPPED', 'timeout', 'AdapterError'],
    ['CAN ERROR', 'bus-error', 'AdapterError'],
    ['BUS INIT: ...ERROR', 'bus-error', 'AdapterError'],
    ['BUS INIT: ERROR', 'bus-error', 'AdapterError'],
    ['UNABLE TO CONNECT', 'bus-error', 'AdapterError'],
    ['BUFFER FULL', 'buffer-full', 'AdapterError'],
    ['BUS BUSY', 'bus-error', 'AdapterError'],
    ['FB ERROR', 'bus-error', 'AdapterError'],
    ['DATA ERROR', 'protocol', 'ProtocolError'],
    ['<RX ERROR', 'protocol', 'ProtocolError'],
    ['LV RESET', 'disconnected', 'AdapterError'],
    ['ERR94', 'unsupported', 'AdapterError'],
  ])('%s -> %s', (line, code, name) => {
    const err = statusError(line);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err?.code).toBe(code);
    expect(err?.name).toBe(name);
    expect(() => throwIfStatus(['7E8 03 41 0D 32', line])).toThrow(err!.message);
  });
  it('data is not a status', () => {
    expect(statusError('7E8 03 41 0D 32')).toBeUndefined();
    expect(statusError('41 0C 1A F8')).toBeUndefined();
  });
});

describe('assembleMessages', () => {
  it('single frames with headers, with and without spaces (ATS1/ATS0)', () => {
    const spaced = assembleMessages(['7E8 04 41 0C 1A F8'], CAN_H1);
    const packed = assembleMessages(['7E804410C1AF8'], CAN_H1);
    expect(spaced).toEqual(packed);
    expect(spaced.map((m) => [m.ecu, hex(m)])).toEqual([['7E8', '41 0C 1A F8']]);
  });

  it('several ECUs answering one request (7E8 engine, 7E9 transmission)', () => {
    const m = assembleMessages(['7E8 03 41 0D 32', '7E9 03 41 0D 31'], CAN_H1);
    expect(m.map((x) => [x.ecu, hex(x)])).toEqual([
      ['7E8', '41 0D 32'],
      ['7E9', '41 0D 31'],
    ]);
  });

  it('ISO-TP raw form with headers (datasheet VIN), frames of two ECUs interleaved', () => {
    const lines = [
      '7E8 10 14 49 02 01 31 44 34',
      '7E9 10 0B 49 04 01 41 42 43',
      '7E8 21 47 50 30 30 52 35 35',
      '7E9 21 44 45 46 47 48 00 00',
      '7E8 22 42 31 32 33 34 35 36',
    ];
    const m = assembleMessages(lines, CAN_H1);
    expect(m.map((x) => x.ecu)).toEqual(['7E9', '7E8']);
    expect(hex(m[0]!)).toBe('49 04 01 41 42 43 44 45 46 47 48');
    expect(decodeVinResponse([m[1]!.data])).toBe(VIN);
  });

  it('ISO-TP formatted form without headers (ATH0 ATCAF1), exactly as the datasheet prints it', () => {
    const lines = [
      '014',
      '0: 49 02 01 31 44 34',
      '1: 47 50 30 30 52 35 35',
      '2: 42 31 32 33 34 35 36',
    ];
    const m = assembleMessages(lines, CAN_H0);
    expect(m).toHaveLength(1);
    expect(m[0]!.ecu).toBe('');
    expect(decodeVinResponse([m[0]!.data])).toBe(VIN);
    // ATS0 prints the same without spaces.
    const packed = assembleMessages(
      ['014', '0:490201314434', '1:47503030523535', '2:42313233343536'],
      CAN_H0,
    );
    expect(packed).toEqual(m);
  });

  it('ATCAF0: raw frames with PCI and padding, headers off', () => {
    const caf0 = replyFormat('6', false, false);
    const single = assembleMessages(['03 41 0D 32 00 00 00 00'], caf0);
    expect(hex(single[0]!)).toBe('41 0D 32');
    const multi = assembleMessages(['10 0A 43 04 03 01 04 20', '21 01 71 C1 00 00 00 00'], caf0);
    expect(hex(multi[0]!)).toBe('43 04 03 01 04 20 01 71 C1 00');
  });

  it('legacy buses with headers: three header bytes and a checksum byte', () => {
    const legacy = replyFormat('3', true);
    const m = assembleMessages(['48 6B 10 41 0D 32 A1', '48 6B 18 41 0D 31 A8'], legacy);
    expect(m.map((x) => [x.ecu, hex(x)])).toEqual([
      ['486B10', '41 0D 32'],
      ['486B18', '41 0D 31'],
    ]);
  });

  it('refuses a multi-frame reply cut short, a sequence gap and non-hex text', () => {
    expect(() => assembleMessages(['7E8 10 14 49 02 01 31 44 34'], CAN_H1)).toThrow(/cut short/);
    expect(() => assembleMessages(['014', '0: 49 02 01 31 44 34'], CAN_H0)).toThrow(/cut short/);
    expect(() =>
      assembleMessages(['7E8 10 14 49 02 01 31 44 34', '7E8 22 47 50 30 30 52 35 35'], CAN_H1),
    ).toThrow(/frame 2 .* where 1 was due/);
    expect(() => assembleMessages(['7E8 21 47 50'], CAN_H1)).toThrow(/without a first frame/);
    expect(() => assembleMessages(['7E8 04 41 0C 1A'], CAN_H1)).toThrow(/does not fit/);
    expect(() => assembleMessages(['HELLO WORLD'], CAN_H0)).toThrow(/not hex/);
  });

  it('hostile inputs give typed AdapterErrors', () => {
    for (const bad of [undefined, null, 'x', 42, {}]) {
      expect(() => assembleMessages(bad as unknown as string[], CAN_H1)).toThrow(AdapterError);
      if (typeof bad !== 'string') {
        expect(() => replyLines(bad as unknown as string)).toThrow(AdapterError);
      }
    }
    for (const line of ['\x00\xff', '7E8 ZZ', '7E8', '7E8 F0 00', '0:', '1: 00']) {
      try {
        assembleMessages([line], CAN_H1);
        assembleMessages([line], CAN_H0);
      } catch (err) {
        expect(err).toBeInstanceOf(AdapterError);
      }
    }
    expect(() => replyFormat('Z', true)).toThrow(AdapterError);
  });
});
