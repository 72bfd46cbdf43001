import { describe, expect, it } from 'vitest';
import {
  decodeLogEntry,
  encodeLogEntry,
  newVinSalt,
  vinCommitment,
  type LogEntry,
} from './log-entry.js';

const deviceId = '00112233445566778899aabbccddeeff';

describe('log entries', () => {
  const entries: LogEntry[] = [
    { type: 'batch', deviceId, seq: 7, batchHash: new Uint8Array(32).fill(9), receivedAt: 1_764_000_000_123 },
    { type: 'registration', deviceId, publicKey: new Uint8Array(33).fill(2), vinCommitment: new Uint8Array(32).fill(3), at: 5 },
    { type: 'revocation', deviceId, at: 6, reason: 'stolen gateway' },
    { type: 'key-rotation', deviceId, publicKey: new Uint8Array(33).fill(5), fromSeq: 42, at: 8 },
    { type: 'access', recordHash: new Uint8Array(32).fill(4), at: 7 },
  ]; // prettier-ignore

  it('round-trips every entry type, deterministically', () => {
    for (const e of entries) {
      const bytes = encodeLogEntry(e);
      expect(decodeLogEntry(bytes)).toEqual(e);
      expect(encodeLogEntry(decodeLogEntry(bytes))).toEqual(bytes);
    }
  });

  it('refuses extra fields, wrong sizes and unknown types', () => {
    const bytes = encodeLogEntry(entries[0]!);
    expect(() => decodeLogEntry(bytes.slice(0, -1))).toThrow();
    expect(() => decodeLogEntry(new Uint8Array([0xa1, 0x00, 0x61, 0x78]))).toThrow(/deviceId/);
    expect(() => decodeLogEntry(new Uint8Array([0x80]))).toThrow(/not a map/);
  });

  it('commits to a VIN without revealing it, bound to its salt', () => {
    const salt = newVinSalt();
    const c = vinCommitment('1HGCM82633A004352', salt);
    expect(c).toHaveLength(32);
    expect(vinCommitment('1HGCM82633A004352', salt)).toEqual(c);
    expect(vinCommitment('1HGCM82633A004353', salt)).not.toEqual(c);
    expect(vinCommitment('1HGCM82633A004352', newVinSalt())).not.toEqual(c);
  });
});
