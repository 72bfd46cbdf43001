/**
 * Samples <-> columns. The builder picks, per column, the smallest decimal exponent that
 * gives back every value exactly (12.3 km/h -> 123 × 10^-1), else float64: lossless either
 * way, and integers of one or two bytes are what makes a batch small.
 */
import { WireFormatError } from '../cbor/wire-format-error.js';
import { MIN_EXPONENT } from './payload-codec.js';
import type { BatchSample, ColumnValues, SignalColumn } from './types.js';

/** Deepest scale the builder tries: 10^-9 covers every sensor we read (GNSS uses 10^-7). */
const BUILDER_MAX_DECIMALS = 9;

function bad(field: string, what: string): never {
  throw new WireFormatError('bad-input', `${field}: ${what}`);
}

/** value = integer × 10^exponent, computed the one way decoders must compute it. */
export function scaledToNumber(integer: number, exponent: number): number {
  return exponent === 0
    ? integer
    : exponent < 0
      ? integer / 10 ** -exponent
      : integer * 10 ** exponent;
}

function chooseNumeric(values: readonly number[]): ColumnValues {
  for (let decimals = 0; decimals <= Math.min(BUILDER_MAX_DECIMALS, -MIN_EXPONENT); decimals++) {
    const factor = 10 ** decimals;
    const integers: number[] = new Array<number>(values.length);
    let exact = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      const m = Math.round(v * factor);
      if (!Number.isSafeInteger(m) || !Object.is(scaledToNumber(m, -decimals), v)) {
        exact = false;
        break;
      }
      integers[i] = m;
    }
    if (exact) return { type: 'scaled', exponent: decimals === 0 ? 0 : -decimals, integers };
  }
  return { type: 'float', numbers: [...values] };
}

/**
 * Groups samples into one column per signal name, sorted by name; within a column, by time
 * (stable). Times are rounded to whole ms and must not precede `start`. All samples of one
 * name must share the unit and the value type (number, string or boolean).
 */
export function columnsFromSamples(samples: readonly BatchSample[], start: number): SignalColumn[] {
  if (!Array.isArray(samples)) bad('samples', 'expected an array');
  if (!Number.isSafeInteger(start) || start < 0)
    bad('start', 'expected Unix ms as a non-negative integer');
  // Parallel arrays per name, not an object per sample: an agent cuts batches of 10k samples
  // on a board with little RAM, and every object here would outlive a young-generation GC.
  const byName = new Map<
    string,
    { unit: string; times: number[]; values: (number | string | boolean)[]; ordered: boolean }
  >();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (typeof s?.name !== 'string' || s.name === '')
      bad(`samples[${i}].name`, 'expected a VSS path');
    // '' is the unit of VSS enumerations and strings.
    if (typeof s.unit !== 'string') bad(`samples[${i}].unit`, 'expected a VSS unit');
    if (typeof s.time !== 'number' || !Number.isFinite(s.time))
      bad(`samples[${i}].time`, 'expected Unix ms');
    const t = Math.round(s.time);
    if (t < start) bad(`samples[${i}].time`, `${t} is before the batch start ${start}`);
    const kind = typeof s.value;
    if (kind !== 'number' && kind !== 'string' && kind !== 'boolean')
      bad(`samples[${i}].value`, 'expected number, string or boolean');
    let group = byName.get(s.name);
    if (group === undefined) {
      group = { unit: s.unit, times: [], values: [], ordered: true };
      byName.set(s.name, group);
    } else {
      if (group.unit !== s.unit)
        bad(`samples[${i}].unit`, `${s.name} has unit ${group.unit} elsewhere in the batch`);
      if (typeof group.values[0] !== kind)
        bad(`samples[${i}].value`, `${s.name} mixes value types`);
      if (t < (group.times[group.times.length - 1] as number)) group.ordered = false;
    }
    group.times.push(t);
    group.values.push(s.value);
  }
  const names = [...byName.keys()].sort();
  return names.map((name) => {
    const group = byName.get(name) as {
      unit: string;
      times: number[];
      values: (number | string | boolean)[];
      ordered: boolean;
    };
    let { times, values } = group;
    if (!group.ordered) {
      // Stable: samples of one time keep their order.
      const order = times.map((_, i) => i).sort((x, y) => (times[x] as number) - (times[y] as number) || x - y); // prettier-ignore
      times = order.map((i) => times[i] as number);
      values = order.map((i) => values[i] as number | string | boolean);
    }
    let previous = start;
    const timeDeltas = new Array<number>(times.length);
    for (let i = 0; i < times.length; i++) {
      const t = times[i] as number;
      timeDeltas[i] = t - previous;
      previous = t;
    }
    const first = values[0];
    let columnValues: ColumnValues;
    if (typeof first === 'number') columnValues = chooseNumeric(values as number[]);
    else if (typeof first === 'string')
      columnValues = { type: 'string', strings: values as string[] };
    else columnValues = { type: 'boolean', booleans: values as boolean[] };
    return { name, unit: group.unit, timeDeltas, values: columnValues };
  });
}

/** The samples of every column, column by column, each in time order. */
export function samplesFromColumns(columns: readonly SignalColumn[], start: number): BatchSample[] {
  const out: BatchSample[] = [];
  for (const c of columns) {
    let time = start;
    const v = c.values;
    for (let i = 0; i < c.timeDeltas.length; i++) {
      time += c.timeDeltas[i] as number;
      let value: number | string | boolean;
      switch (v.type) {
        case 'scaled':
          value = scaledToNumber(v.integers[i] as number, v.exponent);
          break;
        case 'float':
          value = v.numbers[i] as number;
          break;
        case 'string':
          value = v.strings[i] as string;
          break;
        case 'boolean':
          value = v.booleans[i] as boolean;
          break;
      }
      out.push({ name: c.name, unit: c.unit, time, value });
    }
  }
  return out;
}

/** Number of samples in a batch's columns. */
export function sampleCount(columns: readonly SignalColumn[]): number {
  return columns.reduce((n, c) => n + c.timeDeltas.length, 0);
}
