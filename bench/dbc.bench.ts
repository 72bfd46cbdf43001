/**
 * DBC decoding (firmware-bridge/src/dbc): frames per second over the real RAV4 capture's 38,983
 * frames that have a definition in opendbc's toyota_new_mc_pt DBC, every signal of each frame
 * decoded. Results are first checked equal to the bit-by-bit reference decoder. Imports the
 * folders directly so `npx tsx bench/run.ts dbc` needs no build.
 */
import { readFileSync } from 'node:fs';
import { parseCandumpLine } from '../firmware-bridge/src/can/candump.js';
import type { CanFrame } from '../firmware-bridge/src/can/frame.js';
import { DbcDecoder, parseDbc, referenceDecodeSignal } from '../firmware-bridge/src/dbc/index.js';
import { fmt, opsPerSecond, type BenchSection } from './report.js';

const dir = new URL('../firmware-bridge/vectors/can/', import.meta.url);
/** cantools 39 with its C bit-unpacker, measured on this machine by the issue author. */
const CANTOOLS_FRAMES_PER_S = 600_000;
const GOAL_RATIO = 1.5;

export async function run(): Promise<BenchSection> {
  const dbcText = readFileSync(new URL('toyota_new_mc_pt_generated.dbc', dir), 'utf8');
  const database = parseDbc(dbcText);
  const decoder = new DbcDecoder(database);
  const frames: CanFrame[] = [];
  for (const line of readFileSync(new URL('comma2k19_rav4_ex1_seg40_bus0.log', dir), 'latin1')
    .trim()
    .split('\n')) {
    const v = parseCandumpLine(line);
    if (v.ok && decoder.lookup(v.record.frame.id, v.record.frame.extended))
      frames.push(v.record.frame);
  }
  if (frames.length !== 38_983)
    throw new Error(`expected 38,983 defined frames, got ${frames.length}`);

  let signals = 0;
  for (const f of frames) {
    const r = decoder.decode(f);
    if (r.kind !== 'decoded') throw new Error(`0x${f.id.toString(16)}: ${r.kind}`);
    for (const s of r.message.signals) {
      if (r.values[s.name] !== referenceDecodeSignal(s, f.data))
        throw new Error(`${r.message.name}.${s.name} differs`);
      signals++;
    }
  }

  let sink = 0;
  const passObjects =
    opsPerSecond(() => {
      for (let i = 0; i < frames.length; i++) {
        const r = decoder.decode(frames[i] as CanFrame);
        if (r.kind === 'decoded') sink += r.message.length;
      }
    }, 3_000) * frames.length;
  const out = new Float64Array(64);
  const passInto =
    opsPerSecond(() => {
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i] as CanFrame;
        if (decoder.decodeInto(f.id, f.extended, f.data, out)) sink += out[0] as number;
      }
    }, 3_000) * frames.length;
  const parseOps = opsPerSecond(() => void parseDbc(dbcText), 1_000);
  if (sink === 0) throw new Error('nothing decoded');

  const goal = CANTOOLS_FRAMES_PER_S * GOAL_RATIO;
  return {
    title: 'DBC decode (RAV4 capture, opendbc toyota_new_mc_pt)',
    rows: [
      {
        metric: 'decode() → { signal: value } objects',
        value: `${fmt(passObjects)} frames/s (${fmt(passObjects / CANTOOLS_FRAMES_PER_S, 1)}× cantools)`,
        goal: `≥ ${fmt(goal)} frames/s (1.5× cantools)`,
        met: passObjects >= goal,
      },
      {
        metric: 'decodeInto() → Float64Array (no allocation)',
        value: `${fmt(passInto)} frames/s (${fmt(passInto / CANTOOLS_FRAMES_PER_S, 1)}× cantools)`,
      },
      { metric: 'parseDbc (31 KB, 58 messages)', value: `${fmt(parseOps)} /s` },
    ],
    notes: [
      `${fmt(frames.length)} frames with a definition, ${fmt(signals)} signals per pass, checked equal to the bit-by-bit reference decoder first.`,
      'One core, timed passes over the whole set for at least 3 s after warm-up.',
      `Peer: cantools with its C bit-unpacker, ~${fmt(CANTOOLS_FRAMES_PER_S)} frames/s on this machine (figure from the issue).`,
    ],
  };
}
