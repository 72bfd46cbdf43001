import { describe, expect, it } from 'vitest';
import { AdapterError, DisconnectedError } from './errors.js';
import { ReadingQueue } from './reading-queue.js';
import { ReconnectingSource, type ReconnectStatus } from './reconnecting.js';
import type { Reading, SignalSource } from './types.js';

/**
 * An in-memory source (STYLE.md: in-memory implementations serve the layers above) whose
 * "device" can be unplugged and whose opens can be made to fail.
 */
class ScriptedSource implements SignalSource {
  readonly id = 'scripted';
  opens = 0;
  failOpens = 0;
  openError: () => Error = () => new DisconnectedError('still unplugged');
  private queue: ReadingQueue | undefined;
  get isOpen() {
    return this.queue !== undefined && !this.queue.isEnded;
  }
  async open() {
    this.opens++;
    if (this.failOpens > 0) {
      this.failOpens--;
      throw this.openError();
    }
    this.queue = new ReadingQueue();
  }
  async close() {
    this.queue?.end();
  }
  readings() {
    if (!this.queue) throw new Error('not open');
    return this.queue;
  }
  emit(time: number) {
    const r: Reading = { name: 'Vehicle.Speed', value: time, unit: 'km/h', time, source: this.id };
    this.queue?.push(r);
  }
  unplug() {
    this.queue?.fail(new DisconnectedError('unplugged'));
  }
}

describe('ReconnectingSource', () => {
  it('reopens with backoff after a disconnect and keeps the stream going', async () => {
    const inner = new ScriptedSource();
    const statuses: ReconnectStatus[] = [];
    const delays: number[] = [];
    const source = new ReconnectingSource(inner, {
      backoff: { baseMs: 100, capMs: 1_000, random: () => 0.5 },
      sleep: async (ms) => {
        delays.push(ms);
      },
      onStatus: (s) => statuses.push(s),
    });
    await source.open();
    const it = source.readings()[Symbol.asyncIterator]();
    inner.emit(1);
    expect((await it.next()).value?.time).toBe(1);
    inner.failOpens = 2;
    inner.unplug();
    // Two failed reopen attempts, then success.
    while (inner.opens < 4) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 1));
    inner.emit(2);
    expect((await it.next()).value?.time).toBe(2);
    expect(delays).toEqual([50, 100, 200]);
    expect(statuses.map((s) => s.kind)).toEqual([
      'disconnected',
      'disconnected',
      'disconnected',
      'reconnected',
    ]);
    await source.close();
    expect((await it.next()).done).toBe(true);
  });

  it('does not retry a first open that finds no adapter: a wrong port is reported at once', async () => {
    const inner = new ScriptedSource();
    inner.failOpens = 1;
    inner.openError = () => new AdapterError('no-adapter', 'no such port');
    const source = new ReconnectingSource(inner);
    await expect(source.open()).rejects.toMatchObject({ code: 'no-adapter' });
    expect(source.isOpen).toBe(false);
  });

  it('rides out a link that drops during the first open, as it would any later loss', async () => {
    const inner = new ScriptedSource();
    inner.failOpens = 2;
    const statuses: ReconnectStatus[] = [];
    const source = new ReconnectingSource(inner, {
      backoff: { baseMs: 100, capMs: 1_000, random: () => 0.5 },
      sleep: async () => {},
      onStatus: (s) => statuses.push(s),
    });
    await source.open();
    const it = source.readings()[Symbol.asyncIterator]();
    while (inner.opens < 3) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 1));
    inner.emit(7);
    expect((await it.next()).value?.time).toBe(7);
    expect(statuses.map((s) => s.kind)).toEqual(['disconnected', 'disconnected', 'reconnected']);
    await source.close();
    expect((await it.next()).done).toBe(true);
  });

  it('ends a non-adapter error (a bug) instead of looping', async () => {
    const inner = new ScriptedSource();
    const source = new ReconnectingSource(inner);
    await source.open();
    const it = source.readings()[Symbol.asyncIterator]();
    const pending = it.next();
    (inner.readings() as ReadingQueue).fail(new TypeError('bug'));
    await expect(pending).rejects.toBeInstanceOf(TypeError);
    await source.close();
  });
});
