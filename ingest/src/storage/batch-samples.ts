/**
 * Samples are not stored as rows: every batch row keeps its evidence bytes, a compact columnar
 * encoding of them already, and queries decode those. This is that decoding and the paging on
 * top of it, the same for every backend; a backend supplies the candidate batch rows.
 */
import { decodeCoseSign1, readPayloadColumns, scaledToNumber } from '@enginechain/shared';
import { StoreError } from './ingest-store.js';
import type {
  SampleChunk,
  SampleChunkQuery,
  SamplePage,
  SamplePageQuery,
  StoredSample,
} from './ingest-store.js';

/** A sample's id is its batch's leaf index × this + its place in the batch (SamplePage). */
export const SAMPLE_ID_SPAN = 2 ** 20;

/** A stored batch whose time span meets the query, as the backend reads it. */
export interface SampleBatchRow {
  readonly device_id: string;
  readonly seq: number;
  readonly leaf_index: number;
  readonly start_time: number;
  readonly bytes: Uint8Array;
}

/**
 * Calls `each` for every sample of a stored batch (all, or those named in `wanted`), column by
 * column, with the sample's id (see SamplePage). Samples are read from the evidence bytes,
 * which were verified before they were stored; booleans come back as 0 and 1.
 */
function unpackSamples(
  row: SampleBatchRow,
  wanted: ReadonlySet<string> | undefined,
  each: (name: string, unit: string, time: number, value: number | string, id: number) => void,
): void {
  // Only the columns asked for are read: a batch may carry a hundred signals, a query want two.
  let read: ReturnType<typeof readPayloadColumns>;
  try {
    const cose = decodeCoseSign1(row.bytes);
    if (!cose.ok) throw cose.error;
    read = readPayloadColumns(cose.value.payload, wanted);
  } catch (err) {
    throw new StoreError('schema', `stored batch ${String(row.device_id)}/${String(row.seq)} does not decode: ${err instanceof Error ? err.message : String(err)}`);
  }
  const base = row.leaf_index * SAMPLE_ID_SPAN;
  for (const { column: c, firstSample } of read.columns) {
    const v = c.values;
    let time = read.start;
    for (let i = 0, k = firstSample; i < c.timeDeltas.length; i++, k++) {
      time += c.timeDeltas[i] as number;
      const value =
        v.type === 'scaled' ? scaledToNumber(v.integers[i] as number, v.exponent)
        : v.type === 'float' ? (v.numbers[i] as number)
        : v.type === 'string' ? (v.strings[i] as string)
        : v.booleans[i] ? 1 : 0;
      each(c.name, c.unit, time, value, base + k);
    }
  }
} // prettier-ignore

const byTimeThenId = (a: { time: number; id: number }, b: { time: number; id: number }) =>
  a.time - b.time || a.id - b.id;

/** Samples of `rows` within [from, to], in time order (equal times in batch and column order). */
export function samplesIn(
  rows: Iterable<SampleBatchRow>,
  from: number,
  to: number,
  names?: readonly string[],
): (StoredSample & { deviceId: string; seq: number })[] {
  const wanted = names ? new Set(names) : undefined;
  const out: (StoredSample & { deviceId: string; seq: number; id: number })[] = [];
  for (const r of rows) {
    const deviceId = r.device_id;
    const seq = r.seq;
    unpackSamples(r, wanted, (name, unit, time, value, id) => {
      if (time >= from && time <= to) out.push({ deviceId, seq, name, time, value, unit, id });
    });
  }
  out.sort(byTimeThenId);
  return out.map(({ id: _id, ...sample }) => sample);
}

/** Checks a SampleChunkQuery's size and gives the cursor to read after (the very start when none). */
export function sampleChunkStart(q: SampleChunkQuery): { startTime: number; leafIndex: number } {
  if (!Number.isSafeInteger(q.batches) || q.batches < 1)
    throw new StoreError('bad-input', `batches: expected an integer ≥ 1, got ${q.batches}`);
  return q.after ?? { startTime: Number.MIN_SAFE_INTEGER, leafIndex: -1 };
}

/** The chunk of `rows`, the batches a backend read for `q` (at most q.batches, in start order). */
export function sampleChunkOf(rows: readonly SampleBatchRow[], q: SampleChunkQuery): SampleChunk {
  const wanted = q.names ? new Set(q.names) : undefined;
  const batches = rows.map((r) => {
    const samples: (StoredSample & { id: number })[] = [];
    unpackSamples(r, wanted, (name, unit, time, value, id) =>
      samples.push({ id, name, time, value, unit }),
    );
    samples.sort(byTimeThenId);
    return {
      startTime: r.start_time,
      leafIndex: r.leaf_index,
      samples: samples.map(({ id: _id, ...sample }) => sample),
    };
  });
  const last = rows[rows.length - 1];
  return {
    batches,
    next:
      last && rows.length >= q.batches
        ? { startTime: last.start_time, leafIndex: last.leaf_index }
        : undefined,
  };
}

/**
 * Builds one page of samples from the batches meeting [`from`, q.to] (`from` below), fed
 * earliest start first: no sample is earlier than its batch's start, so once the page is full
 * a batch starting after its last sample cannot change it, and `add` says to stop reading.
 */
export class SamplePageBuilder {
  /** Where the batch rows start: the later of q.from and the cursor's time. */
  readonly from: number;
  private readonly wanted: ReadonlySet<string> | undefined;
  private readonly samples: (StoredSample & { id: number })[] = [];
  private fullUpTo = Infinity;

  constructor(private readonly q: SamplePageQuery) {
    this.from = Math.max(q.from, q.after?.time ?? q.from);
    this.wanted = q.names ? new Set(q.names) : undefined;
  }

  /** Takes a batch's samples; false when the page is settled and no more rows are needed. */
  add(r: SampleBatchRow): boolean {
    if (r.start_time > this.fullUpTo) return false;
    const { q, from, samples } = this;
    const after = q.after;
    unpackSamples(r, this.wanted, (name, unit, time, value, id) => {
      if (time < from || time > q.to) return;
      if (after && time === after.time && id <= after.id) return;
      samples.push({ id, name, time, value, unit });
    });
    if (samples.length > q.limit) {
      samples.sort(byTimeThenId);
      samples.length = q.limit + 1;
      this.fullUpTo = (samples[q.limit] as { time: number }).time;
    }
    return true;
  }

  page(): SamplePage {
    const { samples: page, q } = this;
    page.sort(byTimeThenId);
    const more = page.length > q.limit;
    page.length = Math.min(page.length, q.limit);
    const last = page[page.length - 1];
    return {
      samples: page,
      next: more && last ? { time: last.time, id: last.id } : undefined,
    };
  }
}
