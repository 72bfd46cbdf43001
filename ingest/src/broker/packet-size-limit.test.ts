import { describe, expect, it } from 'vitest';
import { MAX_MQTT_PACKET_BYTES, MqttPacketScanner } from './packet-size-limit.js';

// MQTT 3.1.1 §2.2.3 (and 5.0 §1.5.5): the remaining length's published encodings at the edges
// of each byte count.
const SPEC_LENGTHS: [length: number, encoded: number[]][] = [
  [0, [0x00]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [16_383, [0xff, 0x7f]],
  [16_384, [0x80, 0x80, 0x01]],
  [2_097_151, [0xff, 0xff, 0x7f]],
  [2_097_152, [0x80, 0x80, 0x80, 0x01]],
  [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
];

/** A PUBLISH (type 3) whose remaining length is `length`, body bytes all 0x61. */
function packet(length: number): Uint8Array {
  const encoded = SPEC_LENGTHS.find(([l]) => l === length)?.[1] ?? encodeLength(length);
  const out = new Uint8Array(1 + encoded.length + length).fill(0x61);
  out[0] = 0x30;
  out.set(encoded, 1);
  return out;
}

function encodeLength(length: number): number[] {
  const out: number[] = [];
  do {
    let b = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) b |= 0x80;
    out.push(b);
  } while (length > 0);
  return out;
}

/** Feeds `bytes` in chunks of `size`; the first refusal and how many bytes had been fed. */
function feedInChunks(scanner: MqttPacketScanner, bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) {
    const refused = scanner.feed(bytes.subarray(at, at + size));
    if (refused !== undefined) return { refused, fedUpTo: Math.min(bytes.length, at + size) };
  }
  return { refused: undefined, fedUpTo: bytes.length };
}

describe('MqttPacketScanner', () => {
  it('reads every published remaining-length encoding and refuses what exceeds the limit from its header alone', () => {
    for (const [length, encoded] of SPEC_LENGTHS) {
      const header = Uint8Array.from([0x30, ...encoded]);
      const size = header.length + length;
      for (const max of [size - 1, size]) {
        if (max < 2) continue;
        const refused = new MqttPacketScanner(max).feed(header);
        if (size > max) expect(refused, `${length} under ${max}`).toBe(`packet of ${size} bytes declared, over the ${max}-byte limit`);
        else expect(refused, `${length} under ${max}`).toBeUndefined();
      }
    }
  }); // prettier-ignore

  it('follows packet boundaries however the stream is cut', () => {
    // Small and large packets back to back, one of them empty and one with a 3-byte length.
    const lengths = [0, 5, 127, 128, 16_383, 16_384, 2, 20_000];
    const stream = Uint8Array.from(lengths.flatMap((l) => [...packet(l)]));
    const largest = Math.max(...lengths.map((l) => packet(l).length));
    for (const size of [1, 2, 3, 7, 100, 4_096, stream.length]) {
      expect(feedInChunks(new MqttPacketScanner(largest), stream, size).refused, `chunks of ${size}`).toBeUndefined();
      // One byte less and the largest packet is refused, on its header, before its body.
      const r = feedInChunks(new MqttPacketScanner(largest - 1), stream, size);
      expect(r.refused, `chunks of ${size}`).toMatch(/^packet of 20004 bytes declared/);
      expect(r.fedUpTo).toBeLessThanOrEqual(stream.length - 20_000 + Math.max(0, size - 1));
    }
  }); // prettier-ignore

  it('refuses a remaining length longer than four bytes', () => {
    const s = new MqttPacketScanner(MAX_MQTT_PACKET_BYTES);
    expect(s.feed(Uint8Array.from([0x30, 0x80, 0x80, 0x80]))).toBeUndefined();
    expect(s.feed(Uint8Array.from([0x80]))).toMatch(/over four bytes/);
  });

  it('leaves room for a whole batch with its headers and refuses a limit below two bytes', () => {
    expect(MAX_MQTT_PACKET_BYTES).toBe(256 * 1024 + 64 * 1024);
    for (const max of [0, 1, 1.5, Number.NaN]) expect(() => new MqttPacketScanner(max)).toThrow(RangeError);
  }); // prettier-ignore
});
