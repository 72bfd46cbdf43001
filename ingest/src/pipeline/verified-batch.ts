import { batchHash, encodeLogEntry, leafHash, type BatchPayload } from '@enginechain/shared';
import type { AcceptedBatch } from '../storage/ingest-store.js';

/**
 * What the main thread needs of a verified batch, made where it was verified (a worker): the
 * log entry already encoded and hashed, the batch's time span and sample count. Samples are
 * not copied out: the store keeps the evidence bytes and reads samples from them. It crosses
 * from the worker in VerifyAnswers.
 */
export interface VerifiedBatch {
  readonly deviceId: string;
  readonly seq: number;
  readonly vin: string | null;
  readonly kind: string;
  readonly start: number;
  /** Latest time the batch covers: start, every sample and every event end. */
  readonly end: number;
  readonly receivedAt: number;
  readonly sampleCount: number;
  readonly events: AcceptedBatch['events'];
  readonly declaredDrops: AcceptedBatch['declaredDrops'];
  /** SHA-256 of the batch's bytes as received. */
  readonly hash: Uint8Array;
  readonly prev: Uint8Array;
  /** The log entry's RFC 9162 leaf hash. */
  readonly leafHash: Uint8Array;
  readonly logEntry: Uint8Array;
}

/** A verification's outcome: the batch prepared for storage, or why it was refused. */
export type VerifyResult =
  | { readonly ok: true; readonly batch: VerifiedBatch }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** A worker's answer to one request (`id`): its VerifyResult. */
export type VerifyAnswer = VerifyResult & { readonly id: number };

/**
 * Answers of one worker message, column by column, because a message is cloned field by field
 * on both threads: an object per answer, with its nested ones, cost the two threads about
 * 2 µs per batch between them, this about 0.4. Byte fields of every verified batch (hash ‖ prev
 * ‖ leafHash, 32 bytes each, then the log entry) are packed in `packed`, which is moved
 * (transferred) to the main thread, where they arrive as views into it.
 */
export interface VerifyAnswers {
  /**
   * NUMBERS_PER_ANSWER per answer: id, seq, start, end, receivedAt, sampleCount, and where its
   * byte fields lie in `packed` (offset, length). A negative length marks a refusal.
   */
  readonly numbers: Float64Array;
  /** STRINGS_PER_ANSWER per answer: deviceId, vin, kind; for a refusal code, message, null. */
  readonly strings: (string | null)[];
  /** Events and declared drops, for the answers (by index) whose batch has any. */
  readonly extras: {
    readonly index: number;
    readonly events: VerifiedBatch['events'];
    readonly declaredDrops: VerifiedBatch['declaredDrops'];
  }[];
  readonly packed: Uint8Array<ArrayBuffer>;
}

const NO_EVENTS: VerifiedBatch['events'] = [];
const NO_DROPS: VerifiedBatch['declaredDrops'] = [];
const NUMBERS_PER_ANSWER = 8;
const STRINGS_PER_ANSWER = 3;
const HASHES_BYTES = 96;

/** One message's worth of answers (the worker's side). */
export function encodeAnswers(answers: readonly VerifyAnswer[]): VerifyAnswers {
  let size = 0;
  for (const a of answers) if (a.ok) size += HASHES_BYTES + a.batch.logEntry.length;
  const packed = new Uint8Array(size);
  const numbers = new Float64Array(answers.length * NUMBERS_PER_ANSWER);
  const strings = new Array<string | null>(answers.length * STRINGS_PER_ANSWER);
  const extras: VerifyAnswers['extras'] = [];
  let at = 0;
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i] as VerifyAnswer;
    const n = i * NUMBERS_PER_ANSWER;
    const t = i * STRINGS_PER_ANSWER;
    numbers[n] = a.id;
    if (!a.ok) {
      numbers[n + 7] = -1;
      strings[t] = a.code;
      strings[t + 1] = a.message;
      strings[t + 2] = null;
      continue;
    }
    const b = a.batch;
    const length = HASHES_BYTES + b.logEntry.length;
    numbers[n + 1] = b.seq;
    numbers[n + 2] = b.start;
    numbers[n + 3] = b.end;
    numbers[n + 4] = b.receivedAt;
    numbers[n + 5] = b.sampleCount;
    numbers[n + 6] = at;
    numbers[n + 7] = length;
    strings[t] = b.deviceId;
    strings[t + 1] = b.vin;
    strings[t + 2] = b.kind;
    if (b.events.length > 0 || b.declaredDrops.length > 0)
      extras.push({ index: i, events: b.events, declaredDrops: b.declaredDrops });
    packed.set(b.hash, at);
    packed.set(b.prev, at + 32);
    packed.set(b.leafHash, at + 64);
    packed.set(b.logEntry, at + HASHES_BYTES);
    at += length;
  }
  return { numbers, strings, extras, packed };
}

/** How many answers `message` holds. */
export const answerCount = (message: VerifyAnswers): number =>
  message.numbers.length / NUMBERS_PER_ANSWER;

/** Hands each answer of `message` to `take`, in order (the main thread's side). */
export function decodeAnswers(message: VerifyAnswers, take: (answer: VerifyAnswer) => void): void {
  const { numbers, strings, packed } = message;
  let extra = 0;
  const count = answerCount(message);
  for (let i = 0; i < count; i++) {
    const n = i * NUMBERS_PER_ANSWER;
    const t = i * STRINGS_PER_ANSWER;
    const id = numbers[n] as number;
    const length = numbers[n + 7] as number;
    if (length < 0) {
      take({ id, ok: false, code: strings[t] as string, message: strings[t + 1] as string });
      continue;
    }
    const at = numbers[n + 6] as number;
    const more = message.extras[extra];
    const own = more?.index === i ? more : undefined;
    if (own) extra++;
    take({
      id,
      ok: true,
      batch: {
        deviceId: strings[t] as string,
        seq: numbers[n + 1] as number,
        vin: strings[t + 1] as string | null,
        kind: strings[t + 2] as string,
        start: numbers[n + 2] as number,
        end: numbers[n + 3] as number,
        receivedAt: numbers[n + 4] as number,
        sampleCount: numbers[n + 5] as number,
        events: own ? own.events : NO_EVENTS,
        declaredDrops: own ? own.declaredDrops : NO_DROPS,
        hash: packed.subarray(at, at + 32),
        prev: packed.subarray(at + 32, at + 64),
        leafHash: packed.subarray(at + 64, at + HASHES_BYTES),
        logEntry: packed.subarray(at + HASHES_BYTES, at + length),
      },
    });
  }
}

/**
 * Builds the VerifiedBatch of a payload that passed verification (pure; the caller verified).
 * `hash` defaults to the SHA-256 of `bytes`.
 */
export function toVerifiedBatch(
  payload: BatchPayload,
  bytes: Uint8Array,
  receivedAt: number,
  hash: Uint8Array = batchHash(bytes),
): VerifiedBatch {
  const logEntry = encodeLogEntry({
    type: 'batch',
    deviceId: payload.deviceId,
    seq: payload.seq,
    batchHash: hash,
    receivedAt,
  });
  let end = payload.start;
  let sampleCount = 0;
  for (const c of payload.signals) {
    // Deltas are unsigned: the last sample of a column is its latest.
    let time = payload.start;
    for (const d of c.timeDeltas) time += d;
    if (time > end) end = time;
    sampleCount += c.timeDeltas.length;
  }
  for (const e of payload.events) if (e.end > end) end = e.end;
  return {
    deviceId: payload.deviceId,
    seq: payload.seq,
    vin: payload.vin,
    kind: payload.kind,
    start: payload.start,
    end,
    receivedAt,
    sampleCount,
    events:
      payload.events.length === 0
        ? NO_EVENTS
        : payload.events.map((e) => ({
            type: e.type,
            priority: e.priority,
            start: e.start,
            end: e.end,
            data: e.trace ? { ...e.data, traceId: e.trace.id } : e.data,
          })),
    declaredDrops:
      payload.dropped.length === 0
        ? NO_DROPS
        : payload.dropped.map((d) => ({
            seq: d.seq,
            // A copy: the decoder's may view the whole message buffer, which cloning would copy.
            hash: d.hash.slice(),
            sampleCount: d.samples,
            firstTime: d.start,
            lastTime: d.end,
          })),
    hash,
    prev: payload.prev,
    leafHash: leafHash(logEntry),
    logEntry,
  };
}

/** The store's row set for a verified batch (`vin` when the batch carried none: the device's). */
export function toAcceptedBatch(
  v: VerifiedBatch,
  bytes: Uint8Array,
  deviceVin: string,
  wasHeld: boolean,
  signedBy?: Uint8Array,
): AcceptedBatch {
  return {
    deviceId: v.deviceId,
    seq: v.seq,
    hash: v.hash,
    bytes,
    vin: v.vin ?? deviceVin,
    kind: v.kind,
    startTime: v.start,
    endTime: v.end,
    receivedAt: v.receivedAt,
    sampleCount: v.sampleCount,
    events: v.events,
    declaredDrops: v.declaredDrops,
    logEntry: v.logEntry,
    leafHash: v.leafHash,
    wasHeld,
    ...(signedBy ? { signedBy } : {}),
  };
}
