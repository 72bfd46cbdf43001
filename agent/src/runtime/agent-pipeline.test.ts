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

/** 60 s at 10 Hz: 50 km/h, then a crash at 40 s (speed to 0 within 100 ms). */
function drive(pipeline: AgentPipeline, from = 0, to = 60_000) {
  for (let t = from; t < to; t += 100) {
    const speed = t < 40_000 ? 50 : t === 40_000 ? 20 : 0;
    pipeline.push(r('Vehicle.Speed', 'km/h', T0 + t, speed));
    pipeline.push(r('Vehicle.Powertrain.CombustionEngine.Speed', 'rpm', T0 + t, 1_800));
  }
}

describe('AgentPipeline → signed batches in the outbox', () => {
  it('signs a continuous chain, sends the crash trace first and keeps 20 s before / 10 s after', () => {
    const key = generateDeviceKey();
    const { outbox, pipeline } = setup(key);
    drive(pipeline);
    pipeline.flush();
    const all = outbox.nextToSend(100);
    expect(all[0]?.kind).toBe('trace');
    const bySeq = [...all].sort((a, b) => a.seq - b.seq);
    let prev = ZERO_HASH;
    let samples = 0;
    for (const b of bySeq) {
      const v = verifyBatch(b.bytes, key.publicKey);
      expect(v.ok).toBe(true);
      if (!v.ok) continue;
      expect(v.value.payload.prev).toEqual(prev);
      prev = batchHash(b.bytes);
      if (v.value.payload.kind !== 'trace') samples += b.sampleCount;
      else {
        const crash = v.value.payload.events.find((e) => e.type === 'crash');
        expect(crash?.data.traceId).toMatch(/^crash-/);
        const times = v.value.payload.signals.flatMap((c) => c.timeDeltas).length;
        expect(times).toBe(b.sampleCount);
        expect(b.firstTime).toBeLessThanOrEqual(T0 + 40_000 - 20_000);
        expect(b.lastTime).toBeGreaterThanOrEqual(T0 + 40_000 + 9_900);
      }
    }
    expect(samples).toBe(1_200);
    expect(pipeline.eventLog.filter((e) => e.type === 'crash')).toHaveLength(1);
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
