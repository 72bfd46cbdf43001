import type { CanFrame } from '../can/frame.js';
import { bitSteps, type BitStep } from './bit-layout.js';
import { DbcError } from './errors.js';
import { messageKey } from './parse.js';
import type { DbcDatabase, DbcMessage, DbcSignal } from './types.js';

/** Reads a signal's raw value from a payload known to be long enough. */
type RawExtractor = (data: Uint8Array) => number;

/** What decoding one frame gave. Frames are data: nothing here throws. */
export type DecodeResult =
  | {
      readonly kind: 'decoded';
      readonly message: DbcMessage;
      /** Physical values (`raw × factor + offset`) by signal name. */
      readonly values: Record<string, number>;
    }
  | {
      /** Fewer bytes than the message's length: only the signals that fit are decoded. */
      readonly kind: 'short';
      readonly message: DbcMessage;
      readonly values: Record<string, number>;
      readonly length: number;
    }
  | { readonly kind: 'unknown-id' }
  | { readonly kind: 'remote'; readonly message: DbcMessage };

interface CompiledSignal {
  readonly signal: DbcSignal;
  readonly name: string;
  readonly extract: RawExtractor;
  readonly factor: number;
  readonly offset: number;
  /** Bytes the payload needs for this signal. */
  readonly needs: number;
  readonly muxValue: number;
}

/** A message's signals, precompiled once so decoding a frame is a handful of byte reads. */
export interface CompiledMessage {
  readonly message: DbcMessage;
  readonly signals: readonly CompiledSignal[];
  /** Bytes the payload needs for every signal to fit. */
  readonly needs: number;
  /** Index of the multiplexer switch in `signals`, -1 when not multiplexed. */
  readonly muxIndex: number;
}

const NO_MUX = -1;

function pow2(n: number): number {
  return 2 ** n;
}

/** Fast paths for the common layouts; the generic loop covers the rest. */
function compileExtractor(signal: DbcSignal): RawExtractor {
  const steps = bitSteps(signal.startBit, signal.length, signal.byteOrder);
  const len = signal.length;
  if (signal.valueType === 'float64' || len > 53) return bigExtractor(steps, signal);
  const unsigned = integerExtractor(steps, len);
  if (signal.valueType === 'float32') {
    const view = new DataView(new ArrayBuffer(4));
    return (d) => {
      view.setUint32(0, unsigned(d));
      return view.getFloat32(0);
    };
  }
  if (!signal.signed) return unsigned;
  if (len <= 32) {
    const s = 32 - len;
    return (d) => (unsigned(d) << s) >> s;
  }
  const half = pow2(len - 1);
  const full = pow2(len);
  return (d) => {
    const v = unsigned(d);
    return v >= half ? v - full : v;
  };
}

function integerExtractor(steps: readonly BitStep[], len: number): RawExtractor {
  const [a, b, c] = steps;
  if (len <= 31) {
    // Everything fits a positive int32: plain bit operations.
    if (steps.length === 1 && a) {
      const { byte, shift, mask } = a;
      return (d) => ((d[byte] as number) >> shift) & mask;
    }
    if (steps.length === 2 && a && b) {
      return (d) =>
        (((d[a.byte] as number) >> a.shift) & a.mask) |
        ((((d[b.byte] as number) >> b.shift) & b.mask) << b.valueShift);
    }
    if (steps.length === 3 && a && b && c) {
      return (d) =>
        (((d[a.byte] as number) >> a.shift) & a.mask) |
        ((((d[b.byte] as number) >> b.shift) & b.mask) << b.valueShift) |
        ((((d[c.byte] as number) >> c.shift) & c.mask) << c.valueShift);
    }
  }
  const bytes = Int32Array.from(steps, (s) => s.byte);
  const shifts = Int32Array.from(steps, (s) => s.shift);
  const masks = Int32Array.from(steps, (s) => s.mask);
  const scales = Float64Array.from(steps, (s) => pow2(s.valueShift));
  const n = steps.length;
  return (d) => {
    let raw = 0;
    for (let i = 0; i < n; i++)
      raw += (((d[bytes[i]!] as number) >> shifts[i]!) & masks[i]!) * scales[i]!;
    return raw;
  };
}

/** 54..64-bit integers and doubles: exact through BigInt, then one rounding to a Number. */
function bigExtractor(steps: readonly BitStep[], signal: DbcSignal): RawExtractor {
  const len = BigInt(signal.length);
  const view = new DataView(new ArrayBuffer(8));
  return (d) => {
    let raw = 0n;
    for (const s of steps)
      raw |= BigInt(((d[s.byte] as number) >> s.shift) & s.mask) << BigInt(s.valueShift);
    if (signal.valueType === 'float64') {
      view.setBigUint64(0, raw);
      return view.getFloat64(0);
    }
    if (signal.signed && raw >> (len - 1n) === 1n) raw -= 1n << len;
    return Number(raw);
  };
}

export function compileMessage(message: DbcMessage): CompiledMessage {
  const signals = message.signals.map((signal): CompiledSignal => {
    const steps = bitSteps(signal.startBit, signal.length, signal.byteOrder);
    return {
      signal,
      name: signal.name,
      extract: compileExtractor(signal),
      factor: signal.factor,
      offset: signal.offset,
      needs: Math.max(...steps.map((s) => s.byte)) + 1,
      muxValue: signal.multiplexerValue ?? NO_MUX,
    };
  });
  // The plain `M` switch selects the `m<N>` signals (extended multiplexing, SG_MUL_VAL_, is
  // not interpreted: every m<N> follows the first M).
  const muxIndex = signals.findIndex(
    (s) => s.signal.isMultiplexer && s.signal.multiplexerValue === undefined,
  );
  return {
    message,
    signals,
    needs: signals.reduce((m, s) => Math.max(m, s.needs), 0),
    muxIndex,
  };
}

/**
 * A DBC compiled for decoding: per-message extractors built once, then `decode()` per frame.
 * Pure: no counters or clocks inside (callers count verdicts).
 */
export class DbcDecoder {
  private readonly byKey = new Map<number, CompiledMessage>();
  private readonly byName = new Map<string, CompiledMessage>();

  constructor(readonly database: DbcDatabase) {
    if (!database || !Array.isArray(database.messages)) {
      throw new DbcError('bad-input', 'database must be what parseDbc returned');
    }
    for (const message of database.messages) {
      const compiled = compileMessage(message);
      this.byKey.set(messageKey(message.id, message.extended), compiled);
      this.byName.set(message.name, compiled);
    }
  }

  /** The compiled message for an id, or undefined when the DBC does not define it. */
  lookup(id: number, extended: boolean): CompiledMessage | undefined {
    return this.byKey.get(extended ? id + 0x20000000 : id);
  }

  messageByName(name: string): DbcMessage | undefined {
    return this.byName.get(name)?.message;
  }

  decode(frame: CanFrame): DecodeResult {
    const compiled = this.byKey.get(frame.extended ? frame.id + 0x20000000 : frame.id);
    if (compiled === undefined) return UNKNOWN;
    if (frame.rtr) return { kind: 'remote', message: compiled.message };
    const data = frame.data;
    const values = decodeCompiled(compiled, data);
    if (data.length < compiled.message.length) {
      return { kind: 'short', message: compiled.message, values, length: data.length };
    }
    return { kind: 'decoded', message: compiled.message, values };
  }

  /**
   * The allocation-free path for hot loops: writes each signal's physical value into `out`
   * (indexed like `message.signals`; NaN for signals absent by multiplexing or length).
   * Returns the message, or undefined for an id not in the DBC.
   */
  decodeInto(
    id: number,
    extended: boolean,
    data: Uint8Array,
    out: Float64Array,
  ): DbcMessage | undefined {
    const compiled = this.byKey.get(extended ? id + 0x20000000 : id);
    if (compiled === undefined) return undefined;
    const signals = compiled.signals;
    const full = data.length >= compiled.needs;
    let mux = NO_MUX;
    if (compiled.muxIndex >= 0) {
      const s = signals[compiled.muxIndex]!;
      if (data.length >= s.needs) mux = s.extract(data);
    }
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i]!;
      out[i] =
        (full || data.length >= s.needs) && (s.muxValue === NO_MUX || s.muxValue === mux)
          ? s.extract(data) * s.factor + s.offset
          : NaN;
    }
    return compiled.message;
  }
}

const UNKNOWN: DecodeResult = Object.freeze({ kind: 'unknown-id' });

function decodeCompiled(compiled: CompiledMessage, data: Uint8Array): Record<string, number> {
  const values: Record<string, number> = {};
  const signals = compiled.signals;
  const full = data.length >= compiled.needs;
  let mux = NO_MUX;
  if (compiled.muxIndex >= 0) {
    const s = signals[compiled.muxIndex]!;
    if (full || data.length >= s.needs) mux = s.extract(data);
  }
  for (let i = 0; i < signals.length; i++) {
    const s = signals[i]!;
    if (s.muxValue !== NO_MUX && s.muxValue !== mux) continue;
    if (!full && data.length < s.needs) continue;
    values[s.name] = s.extract(data) * s.factor + s.offset;
  }
  return values;
}

/** Convenience: parse-once decoders are what callers want; this names the intent. */
export function compileDbc(database: DbcDatabase): DbcDecoder {
  return new DbcDecoder(database);
}

/**
 * The `VAL_` name for a physical value (e.g. GEAR_PACKET.GEAR 0 → `D`), or undefined. VAL_
 * keys are raw values, so the physical value is mapped back first.
 */
export function valueName(signal: DbcSignal, physical: number): string | undefined {
  if (!signal.valueNames) return undefined;
  const raw = Math.round((physical - signal.offset) / signal.factor);
  return signal.valueNames.get(raw);
}
