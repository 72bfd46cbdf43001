import { bitSteps } from './bit-layout.js';
import { DbcError } from './errors.js';
import type { DbcMessage, DbcSignal } from './types.js';

export interface EncodeOptions {
  /**
   * Clamp values outside the signal's raw range to its ends instead of throwing (an emulator
   * sending a speed its DBC cannot represent saturates, as an ECU does).
   */
  readonly clamp?: boolean;
}

/** The raw integer for a physical value: `round((value - offset) / factor)`, range-checked. */
export function physicalToRaw(
  signal: DbcSignal,
  value: number,
  options: EncodeOptions = {},
): bigint {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DbcError('bad-value', `${signal.name}: value must be a finite number`);
  }
  if (signal.valueType !== 'integer')
    throw new DbcError('bad-value', `${signal.name}: use floatToBits for float signals`);
  if (signal.factor === 0)
    throw new DbcError('bad-value', `${signal.name}: factor 0 cannot be inverted`);
  const len = BigInt(signal.length);
  const min = signal.signed ? -(1n << (len - 1n)) : 0n;
  const max = signal.signed ? (1n << (len - 1n)) - 1n : (1n << len) - 1n;
  let raw = BigInt(Math.round((value - signal.offset) / signal.factor));
  if (raw < min || raw > max) {
    if (!options.clamp) {
      throw new DbcError(
        'bad-value',
        `${signal.name}: ${value} is outside what ${signal.length} bits hold`,
      );
    }
    raw = raw < min ? min : max;
  }
  return raw;
}

function floatToBits(signal: DbcSignal, value: number): bigint {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new DbcError('bad-value', `${signal.name}: value must be a number`);
  }
  const physical = (value - signal.offset) / signal.factor;
  const view = new DataView(new ArrayBuffer(8));
  if (signal.valueType === 'float32') {
    view.setFloat32(0, physical);
    return BigInt(view.getUint32(0));
  }
  view.setFloat64(0, physical);
  return view.getBigUint64(0);
}

/** Writes one signal's value into `data` in place (other bits are kept). */
export function encodeSignal(
  data: Uint8Array,
  signal: DbcSignal,
  value: number,
  options: EncodeOptions = {},
): void {
  const bits =
    signal.valueType === 'integer'
      ? physicalToRaw(signal, value, options)
      : floatToBits(signal, value);
  const unsigned = bits < 0n ? bits + (1n << BigInt(signal.length)) : bits;
  for (const step of bitSteps(signal.startBit, signal.length, signal.byteOrder)) {
    if (step.byte >= data.length) {
      throw new DbcError(
        'bad-input',
        `${signal.name}: needs byte ${step.byte}, data has ${data.length}`,
      );
    }
    const part = Number((unsigned >> BigInt(step.valueShift)) & BigInt(step.mask));
    const keep = (data[step.byte] as number) & ~(step.mask << step.shift) & 0xff;
    data[step.byte] = keep | (part << step.shift);
  }
}

/**
 * Encodes a message's payload (`message.length` bytes) from physical values by signal name.
 * Signals left out are zero. For a multiplexed message, give the switch: only the `m<N>`
 * signals it selects are written (others given are refused, as they would be lost).
 */
export function encodeMessage(
  message: DbcMessage,
  values: Readonly<Record<string, number>>,
  options: EncodeOptions = {},
): Uint8Array {
  if (!message || !Array.isArray(message.signals))
    throw new DbcError('bad-input', 'message must be a DbcMessage');
  if (typeof values !== 'object' || values === null)
    throw new DbcError('bad-input', 'values must be an object');
  const data = new Uint8Array(message.length);
  const known = new Set(message.signals.map((s) => s.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name))
      throw new DbcError('bad-input', `values: ${message.name} has no signal ${name}`);
  }
  const mux = message.signals.find((s) => s.isMultiplexer && s.multiplexerValue === undefined);
  const muxValue = mux ? values[mux.name] : undefined;
  for (const signal of message.signals) {
    const value = values[signal.name];
    if (value === undefined) continue;
    if (signal.multiplexerValue !== undefined && mux) {
      const selected =
        muxValue !== undefined && Number(physicalToRaw(mux, muxValue)) === signal.multiplexerValue;
      if (!selected) {
        throw new DbcError(
          'bad-input',
          `values: ${signal.name} needs ${mux.name} = ${signal.multiplexerValue}, got ${muxValue ?? 'none'}`,
        );
      }
    }
    encodeSignal(data, signal, value, options);
  }
  return data;
}
