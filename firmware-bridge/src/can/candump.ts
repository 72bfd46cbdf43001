import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CanError, type CanErrorCode } from './errors.js';
import {
  bytesToHex,
  formatCanId,
  hexToBytes,
  isValidPayloadLength,
  parseHexInt,
  type CanFrame,
} from './frame.js';

/** One line of a candump log: the frame and the interface it was captured on. */
export interface CandumpRecord {
  readonly frame: CanFrame;
  /** Interface name as logged, e.g. `can0`, `vcan0`, `slcan0`. */
  readonly channel: string;
}

/** The verdict on one log line: a record, or why the line is not one. */
export type CandumpLineVerdict =
  | { readonly ok: true; readonly record: CandumpRecord }
  | { readonly ok: false; readonly error: CanError };

const bad = (code: CanErrorCode, message?: string): CandumpLineVerdict => ({
  ok: false,
  error: new CanError(code, message),
});

const TIME = /^\d+(\.\d+)?$/;

/**
 * Parses one `candump -l` line, e.g. `(46408.584954) can0 0B4#000000001D0B7A5E`.
 * Accepts what can-utils' `parse_canframe()` writes: 3-digit standard and 8-digit extended ids,
 * `ID#R` / `ID#R<len>` remote frames, `ID##<flags><data>` CAN FD, `.` between bytes, and the
 * ` R`/` T` direction suffix of `candump -x`. Untrusted input: never throws, returns a verdict.
 */
export function parseCandumpLine(line: string): CandumpLineVerdict {
  if (typeof line !== 'string') return bad('bad-line', 'line must be a string');
  const text = line.trim();
  if (text.charCodeAt(0) !== 40 /* ( */) return bad('bad-line', 'missing `(seconds)` timestamp');
  const close = text.indexOf(')');
  if (close < 0) return bad('bad-line', 'unterminated `(seconds)` timestamp');
  const timeText = text.slice(1, close);
  if (!TIME.test(timeText)) return bad('bad-time', `bad timestamp ${JSON.stringify(timeText)}`);
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (fields.length < 2 || fields.length > 3 || fields[0] === '') {
    return bad('bad-line', 'expected `interface ID#DATA` after the timestamp');
  }
  if (fields.length === 3 && fields[2] !== 'R' && fields[2] !== 'T') {
    return bad('bad-line', `unexpected trailing field ${JSON.stringify(fields[2])}`);
  }
  const channel = fields[0] as string;
  const token = fields[1] as string;
  const hash = token.indexOf('#');
  if (hash < 0) return bad('bad-line', 'missing `#` between id and data');
  if (hash !== 3 && hash !== 8) return bad('bad-id', `id must be 3 or 8 hex digits, got ${hash}`);
  const extended = hash === 8;
  const id = parseHexInt(token, 0, hash);
  if (id < 0) return bad('bad-id', `id ${JSON.stringify(token.slice(0, hash))} is not hex`);
  if (extended ? id > 0x1fffffff : id > 0x7ff) {
    return bad('bad-id', `id 0x${id.toString(16)} is out of range (error frames are not data)`);
  }
  const time = Number(timeText) * 1000;
  let rest = token.slice(hash + 1);
  if (rest.startsWith('#')) {
    const flags = parseHexInt(rest, 1, 2);
    if (rest.length < 2 || flags < 0)
      return bad('bad-flags', 'CAN FD `##` must be followed by one hex digit of flags');
    const data = payload(rest.slice(2));
    if (!data) return bad('bad-hex', `payload ${JSON.stringify(rest.slice(2))} is not hex bytes`);
    if (!isValidPayloadLength(data.length, true)) {
      return bad('bad-length', `${data.length} bytes is not a CAN FD length`);
    }
    return {
      ok: true,
      record: {
        channel,
        frame: { id, extended, rtr: false, fd: true, data, time, fdFlags: flags },
      },
    };
  }
  if (rest.startsWith('R') || rest.startsWith('r')) {
    const lenText = rest.slice(1);
    let dlc: number | undefined;
    if (lenText !== '') {
      dlc = parseHexInt(lenText, 0, 1);
      if (lenText.length !== 1 || dlc < 0 || dlc > 8)
        return bad('bad-length', 'RTR length must be one digit 0..8');
    }
    const frame: CanFrame =
      dlc === undefined
        ? { id, extended, rtr: true, fd: false, data: new Uint8Array(0), time }
        : { id, extended, rtr: true, fd: false, data: new Uint8Array(0), time, dlc };
    return { ok: true, record: { channel, frame } };
  }
  // can-utils may append `_<dlc>` for classic frames whose DLC code is 9..15 (len8_dlc).
  const underscore = rest.indexOf('_');
  if (underscore >= 0) rest = rest.slice(0, underscore);
  const data = payload(rest);
  if (!data) return bad('bad-hex', `payload ${JSON.stringify(rest)} is not hex bytes`);
  if (!isValidPayloadLength(data.length, false)) {
    return bad(
      'bad-length',
      `${data.length} bytes in a classic CAN frame (at most 8; CAN FD uses ##)`,
    );
  }
  return {
    ok: true,
    record: { channel, frame: { id, extended, rtr: false, fd: false, data, time } },
  };
}

function payload(hex: string): Uint8Array | undefined {
  return hexToBytes(hex.includes('.') ? hex.replaceAll('.', '') : hex);
}

/** Formats a frame as one `candump -l` line (no newline); the inverse of `parseCandumpLine`. */
export function formatCandumpLine(frame: CanFrame, channel = 'can0'): string {
  const seconds = (frame.time / 1000).toFixed(6);
  const id = formatCanId(frame.id, frame.extended);
  let body: string;
  if (frame.rtr) body = frame.dlc === undefined ? 'R' : `R${frame.dlc}`;
  else if (frame.fd)
    body = `#${(frame.fdFlags ?? 0).toString(16).toUpperCase()}${bytesToHex(frame.data)}`;
  else body = bytesToHex(frame.data);
  return `(${seconds}) ${channel} ${id}#${body}`;
}

/** Counts kept while reading a log: bad lines are reported, never fatal. */
export interface CandumpStats {
  lines: number;
  frames: number;
  /** Blank lines and `#` comments, skipped silently. */
  skipped: number;
  bad: number;
  readonly badByCode: Partial<Record<CanErrorCode, number>>;
  /** The first bad lines (up to 10), for a report that says where to look. */
  readonly firstBad: { line: number; code: CanErrorCode; message: string }[];
}

export function newCandumpStats(): CandumpStats {
  return { lines: 0, frames: 0, skipped: 0, bad: 0, badByCode: {}, firstBad: [] };
}

export interface ReadCandumpOptions {
  /** Filled in while reading; pass one to see the counts. */
  readonly stats?: CandumpStats;
}

/**
 * Streams a candump log line by line (a file path or any readable stream), yielding each good
 * frame in order. Bad lines are counted in `stats` and skipped. I/O errors (missing file)
 * reject the iteration.
 */
export async function* readCandump(
  input: string | Readable,
  options: ReadCandumpOptions = {},
): AsyncGenerator<CandumpRecord> {
  const stats = options.stats ?? newCandumpStats();
  const stream =
    typeof input === 'string' ? createReadStream(input, { encoding: 'latin1' }) : input;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  // readline swallows input errors; surface them (ENOENT) instead of ending quietly.
  let failure: unknown;
  stream.once('error', (err: unknown) => {
    failure = err;
    lines.close();
  });
  try {
    for await (const line of lines) {
      stats.lines++;
      if (line.trim() === '' || line.startsWith('#')) {
        stats.skipped++;
        continue;
      }
      const verdict = parseCandumpLine(line);
      if (verdict.ok) {
        stats.frames++;
        yield verdict.record;
      } else {
        stats.bad++;
        const code = verdict.error.code;
        stats.badByCode[code] = (stats.badByCode[code] ?? 0) + 1;
        if (stats.firstBad.length < 10) {
          stats.firstBad.push({ line: stats.lines, code, message: verdict.error.message });
        }
      }
    }
  } finally {
    lines.close();
    if (typeof input === 'string') (stream as Readable).destroy();
  }
  if (failure !== undefined) throw failure;
}

/**
 * Writes records as a candump log (a file path or a writable stream), honouring backpressure.
 * Resolves with the number of lines written once everything is flushed.
 */
export async function writeCandump(
  records: Iterable<CandumpRecord> | AsyncIterable<CandumpRecord>,
  output: string | Writable,
): Promise<number> {
  const stream = typeof output === 'string' ? createWriteStream(output) : output;
  let count = 0;
  let failure: unknown;
  const onError = (err: unknown) => (failure = err);
  stream.on('error', onError);
  try {
    for await (const { frame, channel } of records) {
      if (failure !== undefined) break;
      if (!stream.write(formatCandumpLine(frame, channel) + '\n')) await once(stream, 'drain');
      count++;
    }
  } finally {
    if (typeof output === 'string') {
      stream.end();
      if (failure === undefined)
        await once(stream, 'finish').catch((err: unknown) => (failure = err));
    }
    stream.off('error', onError);
  }
  if (failure !== undefined) throw failure;
  return count;
}

export interface ReplayOptions {
  /**
   * 1 replays at the log's own pace, N replays N× faster, `Infinity` as fast as possible.
   */
  readonly speed?: number;
  /** Injectable for tests: the clock (ms) and the wait. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Paces records by their timestamps: each is yielded no earlier than
 * `(frame.time - firstTime) / speed` ms after the first. Frames keep the log's own times.
 */
export async function* replayCandump(
  records: Iterable<CandumpRecord> | AsyncIterable<CandumpRecord>,
  options: ReplayOptions = {},
): AsyncGenerator<CandumpRecord> {
  const speed = options.speed ?? 1;
  if (!(typeof speed === 'number' && speed > 0))
    throw new CanError('bad-frame', 'speed must be a number > 0');
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  let start: number | undefined;
  let first = 0;
  for await (const record of records) {
    if (start === undefined) {
      start = now();
      first = record.frame.time;
    } else if (Number.isFinite(speed)) {
      const due = start + (record.frame.time - first) / speed;
      const wait = due - now();
      // Timers are coarse: sleep only when at least a millisecond is due, else emit in a burst.
      if (wait >= 1) await sleep(wait);
    }
    yield record;
  }
}
