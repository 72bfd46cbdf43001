/**
 * The parser against gpsd's own decoding of five real receiver logs (vectors/nmea, see its
 * README): per RMC/GGA sentence, position within 1e-7°, speed within 1e-3 m/s, time exact.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NmeaDecoder } from './decoder.js';
import { parseNmeaSentence } from './parse.js';

const VECTORS = fileURLToPath(new URL('../../vectors/nmea/', import.meta.url));
const LOGS = [
  'garmin15x',
  'sirfstarv-nmea',
  'nmea-rtk',
  'quectel-l76k-nmea',
  'nmea-fuzzy-cases',
] as const;

interface Tpv {
  class: 'TPV';
  time?: string;
  lat?: number;
  lon?: number;
  speed?: number;
  mode?: number;
}

interface Case {
  sentence: string;
  /** gpsd's TPV reports printed right after this sentence. */
  tpv: Tpv[];
}

const EPOCH_TYPES = /^\$..(RMC|GGA),([^,]*)/;

/**
 * gpsd reports an epoch once its sentences are in (after RMC, GGA or ZDA, depending on the
 * receiver), so the report for a sentence is the first TPV from that sentence up to the next
 * RMC/GGA of another epoch (another time field).
 */
function reportFor(cases: readonly Case[], index: number): Tpv | undefined {
  const timeField = EPOCH_TYPES.exec(cases[index]?.sentence ?? '')?.[2];
  for (let i = index; i < cases.length; i++) {
    const c = cases[i] as Case;
    const other = EPOCH_TYPES.exec(c.sentence);
    if (i > index && other && other[2] !== timeField) return undefined;
    if (c.tpv[0]) return c.tpv[0];
  }
  return undefined;
}

function readChk(name: string): Case[] {
  const cases: Case[] = [];
  for (const line of readFileSync(`${VECTORS}${name}.log.chk`, 'utf8').split('\n')) {
    if (line.startsWith('$') || line.startsWith('!')) cases.push({ sentence: line, tpv: [] });
    else if (line.startsWith('{')) {
      const report = JSON.parse(line) as { class: string };
      if (report.class === 'TPV') cases.at(-1)?.tpv.push(report as Tpv);
    }
  }
  return cases;
}

describe('NMEA parser against gpsd on real receiver logs', () => {
  for (const name of LOGS) {
    it(`${name}: every RMC/GGA matches gpsd (position 1e-7°, speed 1e-3 m/s, time exact)`, () => {
      const cases = readChk(name);
      const logSentences = readFileSync(`${VECTORS}${name}.log`, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('$'));
      // The .chk repeats the log's sentences in order.
      expect(cases.map((c) => c.sentence)).toEqual(logSentences);

      const decoder = new NmeaDecoder({ sourceId: 'test', now: () => 0 });
      const compared = { position: 0, speed: 0, time: 0 };
      let fixes = 0;
      let rmcFixes = 0;
      for (const [index, { sentence }] of cases.entries()) {
        const { verdict } = decoder.decodeLine(sentence);
        expect(verdict.kind, sentence).not.toBe('invalid');
        if (verdict.kind !== 'sentence') continue;
        const s = verdict.sentence;
        if (s.type !== 'RMC' && s.type !== 'GGA') continue;
        const valid = s.type === 'RMC' ? s.status === 'A' : s.fixQuality > 0;
        if (valid) fixes++;
        if (valid && s.type === 'RMC') rmcFixes++;
        const report = reportFor(cases, index);
        if (!report || !valid) continue;
        if (report.lat !== undefined && report.lon !== undefined) {
          expect(Math.abs((s.latitude ?? NaN) - report.lat), sentence).toBeLessThanOrEqual(1e-7);
          expect(Math.abs((s.longitude ?? NaN) - report.lon), sentence).toBeLessThanOrEqual(1e-7);
          compared.position++;
        }
        if (s.type === 'RMC' && report.speed !== undefined) {
          expect(Math.abs((s.speedMs ?? NaN) - report.speed), sentence).toBeLessThanOrEqual(1e-3);
          compared.speed++;
        }
        if (report.time !== undefined) {
          expect(decoder.lastTimeMs, sentence).toBe(Date.parse(report.time));
          compared.time++;
        }
      }
      // Every fix was compared, bar the log's last epoch (gpsd never reported it) and, for
      // time, a GGA before the first RMC gave a date (gpsd has no time for it either).
      expect(fixes).toBeGreaterThan(10);
      expect(compared.position).toBeGreaterThanOrEqual(fixes - 1);
      expect(compared.speed).toBeGreaterThanOrEqual(rmcFixes - 1);
      expect(compared.time).toBeGreaterThanOrEqual(fixes - 2);
    });
  }

  it('garmin15x: skips the proprietary PGRME/PGRMV/PGRMT sentences cleanly', () => {
    const decoder = new NmeaDecoder({ sourceId: 'test' });
    for (const line of readFileSync(`${VECTORS}garmin15x.log`, 'utf8').split('\n')) {
      if (line.startsWith('$')) decoder.decodeLine(line);
    }
    expect(decoder.stats.invalid).toEqual({ framing: 0, checksum: 0, field: 0 });
    expect(decoder.stats.decoded).toBe(14);
    expect(decoder.stats.ignored).toBe(57 - 14);
    expect(parseNmeaSentence('$PGRME,7.6,M,41.7,M,42.4,M*2F')).toEqual({
      kind: 'ignored',
      address: 'PGRME',
      reason: 'proprietary',
    });
  });
});
