/**
 * The line emitter behind the NMEA and IMU emulators, over a REAL pty pair (socat), when nobody
 * reads: a simulator started for `enginechain obd` alone must keep answering on its other
 * interfaces however long its GNSS and IMU ptys go unread.
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { startLineEmitter, type LineEmitter } from './line-emitter.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const PAD = 'x'.repeat(100);
const LINE = /^\$SEQ,(\d+),x{100}$/;

/** Lines `$SEQ,<n>,xxx…`: 110 bytes each, numbered so drops and cuts show. */
async function emitter(rateHz: number): Promise<LineEmitter> {
  let seq = 0;
  const e = await startLineEmitter({ rateHz, nextLines: () => [`$SEQ,${seq++},${PAD}`] });
  cleanups.push(() => e.close());
  return e;
}

describe('startLineEmitter with nobody reading', () => {
  it('fills the pty, then drops whole lines without ever stalling the event loop', async () => {
    // 1,000 lines/s of 110 bytes: the kernel's pty buffers and socat's (a few hundred kB at
    // most) are full within the 4 s below.
    const e = await emitter(1000);
    let worstGapMs = 0;
    let last = Date.now();
    const heartbeat = setInterval(() => {
      const now = Date.now();
      worstGapMs = Math.max(worstGapMs, now - last);
      last = now;
    }, 10);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    clearInterval(heartbeat);
    const elapsedS = (Date.now() - started) / 1000;

    expect(e.counters.dropped).toBeGreaterThan(0);
    // The timer kept ticking: most of the due lines were produced (written or dropped).
    const produced = e.counters.written + e.counters.dropped;
    expect(produced).toBeGreaterThan(0.5 * 1000 * elapsedS);
    // A blocking write would stop the heartbeat for good; allow for a loaded machine.
    expect(worstGapMs).toBeLessThan(1000);

    // A reader that turns up later gets whole lines only, in order.
    const port = new SerialPort({ path: e.path, baudRate: 115_200 });
    cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
    let text = '';
    port.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const deadline = Date.now() + 5000;
    while (text.split('\r\n').length < 2000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = text.split('\r\n').slice(0, -1); // the last may still be arriving
    expect(lines.length).toBeGreaterThan(1000);
    let previous = -1;
    for (const line of lines) {
      const m = LINE.exec(line);
      expect(m, JSON.stringify(line)).not.toBeNull();
      const n = Number(m![1]);
      expect(n).toBeGreaterThan(previous);
      previous = n;
    }
  }, 20_000);

  it('stops cleanly and removes the pty', async () => {
    const e = await emitter(100);
    await new Promise((r) => setTimeout(r, 100));
    await e.close();
    await e.close();
    const { existsSync } = await import('node:fs');
    expect(existsSync(e.path)).toBe(false);
  });
});
