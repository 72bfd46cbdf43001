import type { DbcSignal } from './types.js';

/**
 * A deliberately naive decoder taken straight from the DBC rules, one bit at a time with
 * BigInt, to cross-check the compiled one (`DbcDecoder`). Motorola walks the "sawtooth": from
 * the MSB at `startBit`, the next less significant bit is one lower in the same byte, or bit 7
 * of the next byte after bit 0. Slow on purpose; tests and the benchmark only.
 * Returns undefined when the payload is too short for the signal.
 */
export function referenceDecodeSignal(signal: DbcSignal, data: Uint8Array): number | undefined {
  const positions: number[] = [];
  if (signal.byteOrder === 'intel') {
    for (let i = 0; i < signal.length; i++) positions.push(signal.startBit + i); // LSB first
  } else {
    let bit = signal.startBit; // MSB first
    for (let i = 0; i < signal.length; i++) {
      positions.push(bit);
      bit = bit % 8 === 0 ? bit + 15 : bit - 1;
    }
    positions.reverse(); // LSB first
  }
  let raw = 0n;
  for (let i = 0; i < positions.length; i++) {
    const pos = positions[i] as number;
    const byte = data[Math.floor(pos / 8)];
    if (byte === undefined) return undefined;
    if ((byte >> (pos % 8)) & 1) raw += 1n << BigInt(i);
  }
  let value: number;
  if (signal.valueType === 'float32' || signal.valueType === 'float64') {
    const view = new DataView(new ArrayBuffer(8));
    if (signal.valueType === 'float32') {
      view.setUint32(0, Number(raw));
      value = view.getFloat32(0);
    } else {
      view.setBigUint64(0, raw);
      value = view.getFloat64(0);
    }
  } else {
    if (signal.signed && raw >= 1n << BigInt(signal.length - 1)) raw -= 1n << BigInt(signal.length);
    value = Number(raw);
  }
  return value * signal.factor + signal.offset;
}
