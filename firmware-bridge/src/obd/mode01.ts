import { signalForObd } from '@enginechain/shared';
import { assertByte, assertBytes, ObdError } from './errors.js';
import { isSupportBitmapPid, mode01Pid, type ObdFieldValue } from './pids.js';

/** One decoded value, named and unit-ed by the signal catalogue. */
export interface ObdValue {
  readonly name: string;
  readonly value: ObdFieldValue;
  readonly unit: string;
}

/** One PID's data as found in a service 01 response. */
export interface PidData {
  readonly pid: number;
  readonly data: Uint8Array;
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** `0C` for 0x0C: the form PIDs take in the CLI, configs and catalogue keys. */
export function pidHex(pid: number): string {
  assertByte(pid, 'pid');
  return hex2(pid);
}

/**
 * Decodes the data bytes of one service 01 PID (the bytes after `41 <pid>`) into named values.
 * Bitmap PIDs and PIDs whose content J1979 leaves configuration-specific give no values.
 * Extra bytes after the defined length are ignored (non-CAN ECUs pad); fewer are `truncated`.
 *
 * @example decodeMode01Pid(0x0c, Uint8Array.of(0x1a, 0xf8)) // [{ name: 'Vehicle.Powertrain.CombustionEngine.Speed', value: 1726, unit: 'rpm' }]
 */
export function decodeMode01Pid(pid: number, data: Uint8Array): ObdValue[] {
  assertByte(pid, 'pid');
  assertBytes(data, 'data');
  const def = mode01Pid(pid);
  if (!def) throw new ObdError('unknown-pid', `PID ${hex2(pid)} is not defined by SAE J1979`);
  const need = def.bytes ?? 1;
  if (data.length < need) {
    throw new ObdError(
      'truncated',
      `PID ${hex2(pid)} needs ${need} data bytes, the reply has ${data.length}`,
    );
  }
  if (!def.decode) return [];
  const fields = def.decode(def.bytes === undefined ? data : data.subarray(0, def.bytes));
  const out: ObdValue[] = [];
  for (const [field, value] of Object.entries(fields)) {
    const key = field === '' ? `01:${hex2(pid)}` : `01:${hex2(pid)}/${field}`;
    const info = signalForObd(key);
    // A decoder field without a catalogue entry is a bug in this package, caught by tests.
    if (!info) throw new Error(`signal catalogue has no entry for OBD key ${key}`);
    out.push({ name: info.name, value, unit: info.unit });
  }
  return out;
}

/**
 * Splits a service 01 positive response (`41 0C 1A F8 0D 32 ...`, one ECU's reassembled
 * message) into its PIDs. A CAN ECU may answer up to six PIDs in one message; each PID's length
 * comes from J1979, so a PID whose length is unknown may only come last.
 */
export function splitMode01Response(payload: Uint8Array): PidData[] {
  assertBytes(payload, 'payload');
  if (payload.length >= 1 && payload[0] === 0x7f) {
    const nrc = payload[2];
    throw new ObdError(
      'negative-response',
      `negative response to service ${hex2(payload[1] ?? 0)}${nrc === undefined ? '' : `: NRC ${hex2(nrc)}`}`,
    );
  }
  if (payload.length < 2 || payload[0] !== 0x41) {
    throw new ObdError('wrong-service', 'a service 01 response starts with 41 and a PID');
  }
  const out: PidData[] = [];
  let i = 1;
  while (i < payload.length) {
    const pid = payload[i]!;
    const def = mode01Pid(pid);
    if (!def) throw new ObdError('unknown-pid', `PID ${hex2(pid)} is not defined by SAE J1979`);
    const start = i + 1;
    // A PID of variable length takes the rest: nothing tells where it ends, so it must be last.
    const length = def.bytes ?? payload.length - start;
    if (start + length > payload.length) {
      throw new ObdError(
        'truncated',
        `PID ${hex2(pid)} needs ${length} data bytes, the reply has ${payload.length - start}`,
      );
    }
    out.push({ pid, data: payload.subarray(start, start + length) });
    i = start + length;
  }
  return out;
}

/** Decodes a whole service 01 response into values (see `splitMode01Response`). */
export function decodeMode01Response(payload: Uint8Array): ObdValue[] {
  return splitMode01Response(payload).flatMap((p) => decodeMode01Pid(p.pid, p.data));
}

/**
 * The PIDs a supported-PID bitmap (PID 00, 20, 40 ...) announces: bit 7 of the first byte is
 * `base + 1`, bit 0 of the fourth is `base + 0x20` (which says whether the next bitmap exists).
 */
export function decodeSupportedPids(base: number, data: Uint8Array): number[] {
  assertByte(base, 'base');
  assertBytes(data, 'data');
  if (!isSupportBitmapPid(base)) {
    throw new ObdError('bad-input', `base must be 00, 20, 40 ... E0, not ${hex2(base)}`);
  }
  if (data.length < 4) {
    throw new ObdError('truncated', `a supported-PID bitmap has 4 bytes, got ${data.length}`);
  }
  const out: number[] = [];
  for (let i = 0; i < 32; i++) {
    if ((data[i >> 3]! >> (7 - (i & 7))) & 1) out.push(base + 1 + i);
  }
  return out;
}

/** The inverse of `decodeSupportedPids`, for emulators and tests. */
export function encodeSupportedPids(base: number, pids: Iterable<number>): Uint8Array {
  assertByte(base, 'base');
  if (!isSupportBitmapPid(base)) {
    throw new ObdError('bad-input', `base must be 00, 20, 40 ... E0, not ${hex2(base)}`);
  }
  const out = new Uint8Array(4);
  for (const pid of pids) {
    const i = pid - base - 1;
    if (i < 0 || i > 31) continue;
    out[i >> 3]! |= 0x80 >> (i & 7);
  }
  return out;
}
