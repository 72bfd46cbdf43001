import type { ByteOrder } from './types.js';

/**
 * Where a signal's bits sit, one step per payload byte it touches:
 * `raw += ((data[byte] >> shift) & mask) * 2 ** valueShift`. Intel and Motorola differ only in
 * how the steps are computed, so the decoder and encoder share one inner loop.
 */
export interface BitStep {
  readonly byte: number;
  /** Lowest bit of the byte that belongs to the signal. */
  readonly shift: number;
  /** (1 << bits) - 1 for the `bits` of this byte the signal uses. */
  readonly mask: number;
  readonly bits: number;
  /** Which bit of the raw value the step's lowest bit is. */
  readonly valueShift: number;
}

/** Steps in value order (least significant first). */
export function bitSteps(startBit: number, length: number, byteOrder: ByteOrder): BitStep[] {
  const steps: BitStep[] = [];
  if (byteOrder === 'intel') {
    let k = 0;
    while (k < length) {
      const pos = startBit + k;
      const byte = pos >> 3;
      const shift = pos & 7;
      const bits = Math.min(8 - shift, length - k);
      steps.push({ byte, shift, mask: (1 << bits) - 1, bits, valueShift: k });
      k += bits;
    }
    return steps;
  }
  // Motorola: number the payload MSB-first (bit 7 of byte 0 is 0); the signal then occupies
  // [msb, msb + length) and its LSB is the last of those.
  const msb = (startBit >> 3) * 8 + (7 - (startBit & 7));
  const lsb = msb + length - 1;
  let k = 0;
  while (k < length) {
    const linear = lsb - k;
    const byte = linear >> 3;
    const shift = 7 - (linear & 7);
    const bits = Math.min(8 - shift, length - k);
    steps.push({ byte, shift, mask: (1 << bits) - 1, bits, valueShift: k });
    k += bits;
  }
  return steps;
}
