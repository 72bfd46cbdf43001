import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  batchHash,
  generateDeviceKey,
  verifyBatch,
  ZERO_HASH,
  type DeviceKey,
} from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { OutboxStore } from '../outbox/outbox-store.js';
import { AgentClock } from '../sampling/agent-clock.js';
import type { SampledReading } from '../sampling/merge-sources.js';
import { AgentPipeline } from './agent-pipeline.js';
import { BatchSigner } from './batch-signer.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);

function setup(
  key: DeviceKey,
  path = join(mkdtempSync(join(tmpdir(), 'enginechain-pipe-')), 'outbox.db'),
) {
  const outbox = OutboxStore.open({ path, deviceId: key.deviceId, quotaBytes: 64 * 1024 * 1024 });
  const clock = new AgentClock();
  const pipeline = new AgentPipeline({
    signer: new BatchSigner(key, VIN, outbox, clock),
    events: {},
    crash: {},
    batching: { maxAgeMs: 10_000, maxSamples: 5_000 },
    rates: {},
  });
  return { outbox, pipeline, path };
}

const r = (name: string, unit: string, time: number, value: number): SampledReading => ({
  name, unit, time, value, sourceTime: time, source: 'test',
}); // prettier-ignore

/** 10 Hz from `from` to `to`: 50 km/h, and a crash (speed to 0 within 100 ms) at each of `crashes`. */
function drive(pipeline: AgentPipeline, from = 0, to = 60_000, crashes = [40_000]) {
  let speed = 50;
  for (let t = from; t < to; t += 100) {
    if (crashes.includes(t)) speed = 20;
    else if (crashes.includes(t - 100)) speed = 0;
    else if (speed < 50) speed = Math.min(50, speed + 1); // drives on after the crash
    pipeline.push(r('Vehicle.Speed', 'km/h', T0 + t, speed));
    pipeline.push(r('Vehicle.Powertrain.CombustionEngine.Speed', 'rpm', T0 + t, 1_800));
  }
}

/** The outbox's batches by seq, each verified and chained to the one before. */
function chain(outbox: OutboxStore, key: DeviceKey) {
  const bySeq = outbox.nextToSend(1_000).sort((a, b) => a.seq - b.seq);
  let prev = ZERO_HASH;
  return bySeq.map((b) => {
    const v = verifyBatch(b.bytes, key.publicKey);
    expect(v.ok).toBe(true);
    if (!v.ok) throw v.error;
    expect(v.value.payload.prev).toEqual(prev);
    prev = batchHash(b.bytes);
    return { ...b, payload: v.value.payload };
  });
}

describe('AgentPipeline → signed batches in the outbox', () => {
  it('signs a continuous chain, sends the crash trace first and keeps 20 s before / 10 s after', () => {
    const key = generateDeviceKey();
    const { outbox, pipeline } = setup(key);
    drive(pipeline);
    pipeline.flush();
    expect(outbox.nextToSend(100)[0]?.kind).toBe('trace');
    outbox.releaseInFlight();
    const batches = chain(outbox, key);
    const routine = batches.filter((b) => b.kind !== 'trace');
    expect(routine.reduce((n, b) => n + b.sampleCount, 0)).toBe(1_200);
    const traces = batches.filter((b) => b.kind === 'trace');
    expect(traces).toHaveLength(2);
    const [before, after] = traces as [(typeof traces)[0], (typeof traces)[0]];
    // The part before carries the crash event; the part after follows it, without one.
    const crash = before.payload.events.find((e) => e.type === 'crash');
    expect(crash?.data.traceId).toMatch(/^crash-/);
    expect(crash?.data.samplesBefore).toBe(before.sampleCount);
    expect(after.payload.events).toEqual([]);
    expect(before.firstTime).toBe(T0 + 40_000 - 20_000);
    expect(before.lastTime).toBe(T0 + 40_000);
    expect(after.firstTime).toBe(T0 + 40_000);
    expect(after.lastTime).toBe(T0 + 40_000 + 10_000);
    // 30 s of both signals at 10 Hz, each reading once.
    expect(before.sampleCount + after.sampleCount).toBe(2 * 301);
    expect(pipeline.eventLog.filter((e) => e.type === 'crash')).toHaveLength(1);
    outbox.close();
  });

  it('has the 20 s before a crash in the outbox file when the crash triggers', () => {
    const key = generateDeviceKey();
    const { outbox, pipeline, path } = setup(key);
    // Up to the reading that triggers the crash; then the process dies (no flush, no tick).
    drive(pipeline, 0, 40_100);
    outbox.close();
    const reopened = OutboxStore.open({ path, deviceId: key.deviceId, quotaBytes: 1 << 26 });
    const traces = chain(reopened, key).filter((b) => b.kind === 'trace');
    expect(traces).toHaveLength(1);
    expect(traces[0]!.payload.events.map((e) => e.type)).toEqual(['crash']);
    // 20 s of both signals at 10 Hz, both ends included, less the engine speed stamped at
    // the trigger time but read after the speed that triggered: it opens the part after.
    expect(traces[0]!.sampleCount).toBe(2 * 201 - 1);
    reopened.close();
  });

  it('gives two traces for two crashes in a row, each with its own event', () => {
    const key = generateDeviceKey();
    const { outbox, pipeline } = setup(key);
    drive(pipeline, 0, 70_000, [30_000, 36_000]);
    pipeline.flush();
    const traces = chain(outbox, key).filter((b) => b.kind === 'trace');
    const crashes = traces.flatMap((b) => b.payload.events.filter((e) => e.type === 'crash'));
    expect(crashes.map((e) => e.start)).toEqual([T0 + 30_000, T0 + 36_000]);
    expect(new Set(crashes.map((e) => e.data.traceId)).size).toBe(2);
    expect(traces).toHaveLength(4);
    outbox.close();
  });

  it('continues the chain after the outbox is reopened (restart)', () => {
    const key = generateDeviceKey();
    const first = setup(key);
    drive(first.pipeline, 0, 20_000);
    first.pipeline.flush();
    const head = first.outbox.chainHead();
    first.outbox.close();
    const again = setup(key, first.path);
    expect(again.outbox.chainHead()).toEqual(head);
    drive(again.pipeline, 20_000, 30_000);
    again.pipeline.flush();
    const seqs = again.outbox
      .nextToSend(100)
      .map((b) => b.seq)
      .sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    again.outbox.close();
  });
});
