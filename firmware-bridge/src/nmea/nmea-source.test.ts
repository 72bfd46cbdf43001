/**
 * NmeaSource over a REAL pseudo-terminal (socat), fed with a real receiver's log
 * (vectors/nmea/quectel-l76k-nmea.log) as a GNSS receiver on a UART would send it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openPtyPair, type PtyPair } from '@enginechain/hardware';
import { SerialPort } from 'serialport';
import { describe, expect, it } from 'vitest';
import { signalSourceConformance, takeReadings } from '../source/conformance.js';
import { AdapterError, DisconnectedError } from '../source/errors.js';
import { ReconnectingSource } from '../source/reconnecting.js';
import { GNSS_SIGNALS } from './decoder.js';
import { NmeaSource } from './nmea-source.js';

const LOG = readFileSync(
  fileURLToPath(new URL('../../vectors/nmea/quectel-l76k-nmea.log', import.meta.url)),
  'utf8',
)
  .split('\n')
  .filter((l) => l.startsWith('$'));

/** Plays `lines` into the device end of a pty, one every `everyMs`, like a receiver's UART. */
async function startFeeder(devicePath: string, lines: readonly string[], everyMs = 2) {
  const port = new SerialPort({ path: devicePath, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  // EIO once socat is gone at teardown: the test is over by then.
  port.on('error', () => {});
  let i = 0;
  const timer = setInterval(() => {
    // A receiver does not wait for anyone: drop output nobody reads rather than queue it.
    if (port.writableLength > 4096) return;
    port.write(`${lines[i % lines.length]}\r\n`);
    i++;
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    },
  };
}

async function fixture(lines: readonly string[] = LOG) {
  const pty = await openPtyPair();
  const feeder = await startFeeder(pty.devicePath, lines);
  const source = new NmeaSource({ path: pty.hostPath, openTimeoutMs: 2000 });
  return {
    pty,
    feeder,
    source,
    async teardown() {
      await feeder.stop();
      await pty.close();
    },
  };
}

signalSourceConformance('NmeaSource over a pty (Quectel L76K log)', fixture);

describe('NmeaSource', () => {
  it('yields the log’s fixes as VSS readings timed by GNSS UTC', async () => {
    const f = await fixture();
    try {
      await f.source.open();
      const readings = await takeReadings(f.source, 40);
      const names = new Set(readings.map((r) => r.name));
      for (const signal of [GNSS_SIGNALS.latitude, GNSS_SIGNALS.longitude, GNSS_SIGNALS.altitude]) {
        expect(names).toContain(signal.name);
      }
      for (const r of readings) {
        // The log was recorded on 2026-08-05 between 05:52 and 06:00 UTC.
        expect(r.time).toBeGreaterThanOrEqual(Date.parse('2026-08-05T05:52:00Z'));
        expect(r.time).toBeLessThan(Date.parse('2026-08-05T06:00:00Z'));
        if (r.name === GNSS_SIGNALS.latitude.name) expect(r.value).toBeCloseTo(47.6619, 3);
        if (r.name === GNSS_SIGNALS.longitude.name) expect(r.value).toBeCloseTo(-122.3264, 3);
      }
      expect(f.source.stats?.invalid.checksum).toBe(0);
    } finally {
      await f.source.close();
      await f.teardown();
    }
  });

  it('counts and skips corrupted lines without ending the stream', async () => {
    const corrupted = LOG.slice(0, 400).map((l, i) =>
      i % 3 === 0 ? l.replace(/\*..$/, '*00') : l,
    );
    const f = await fixture(corrupted);
    try {
      await f.source.open();
      expect((await takeReadings(f.source, 20)).length).toBe(20);
      expect(f.source.stats?.invalid.checksum).toBeGreaterThan(0);
    } finally {
      await f.source.close();
      await f.teardown();
    }
  });

  it('rejects open with no-adapter when the port is silent or absent', async () => {
    const pty: PtyPair = await openPtyPair();
    try {
      const silent = new NmeaSource({ path: pty.hostPath, openTimeoutMs: 300 });
      await expect(silent.open()).rejects.toMatchObject({ code: 'no-adapter' });
      expect(silent.isOpen).toBe(false);
    } finally {
      await pty.close();
    }
    const absent = new NmeaSource({ path: '/dev/enginechain-does-not-exist' });
    await expect(absent.open()).rejects.toBeInstanceOf(AdapterError);
    expect(() => absent.readings()).toThrow(/before open/);
    expect(() => new NmeaSource({ path: '' })).toThrow(/path/);
    expect(() => new NmeaSource({ path: '/dev/x', baudRate: -1 })).toThrow(/baudRate/);
  });

  it('reports a disconnect when the receiver goes silent, and ReconnectingSource recovers', async () => {
    const f = await fixture();
    try {
      const inner = new NmeaSource({
        path: f.pty.hostPath,
        openTimeoutMs: 2000,
        silenceTimeoutMs: 300,
      });
      await inner.open();
      await takeReadings(inner, 1);
      await f.feeder.stop();
      const iterator = inner.readings()[Symbol.asyncIterator]();
      let error: unknown;
      try {
        while (!(await iterator.next()).done);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DisconnectedError);
      expect(inner.isOpen).toBe(false);

      // Receiver back: the reconnecting wrapper reopens on its own.
      const statuses: string[] = [];
      const feeders = [await startFeeder(f.pty.devicePath, LOG)];
      const source = new ReconnectingSource(inner, {
        backoff: { baseMs: 50, capMs: 200 },
        onStatus: (s) => statuses.push(s.kind),
      });
      try {
        await source.open();
        await takeReadings(source, 1);
        await feeders[0]?.stop();
        await new Promise((r) => setTimeout(r, 700)); // silent for longer than silenceTimeoutMs
        feeders.push(await startFeeder(f.pty.devicePath, LOG));
        const deadline = Date.now() + 8000;
        while (!statuses.includes('reconnected') && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(statuses.slice(0, 1)).toEqual(['disconnected']);
        expect(statuses).toContain('reconnected');
        // Readings decoded after the reconnect keep flowing through the same wrapper.
        const marker = Date.now();
        const after = await takeReadings(source, 400, 3000);
        expect(after.length).toBeGreaterThan(0);
        expect(Date.now() - marker).toBeLessThan(5000);
      } finally {
        await source.close();
        for (const feeder of feeders) await feeder.stop();
      }
    } finally {
      await f.teardown();
    }
  });
});
