import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBatch, generateDeviceKey, samplesFromColumns } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { QuotaError } from '../outbox/errors.js';
import { OutboxStore } from '../outbox/outbox-store.js';
import { AgentClock } from '../sampling/agent-clock.js';
import type { SampledReading } from '../sampling/merge-sources.js';
import { BatchSigner } from './batch-signer.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 10, 25, 8);

function readings(n: number, from: number): SampledReading[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `Vehicle.OBD.Signal${i % 50}`, unit: 'percent', value: (i * 7919) % 10_007 / 7, time: from + i, sourceTime: 0, source: 'test',
  })); // prettier-ignore
}

const openOutbox = (deviceId: string, quotaBytes: number) =>
  OutboxStore.open({
    path: join(mkdtempSync(join(tmpdir(), 'enginechain-signer-')), 'outbox.db'),
    deviceId,
    quotaBytes,
  });

describe('BatchSigner: clock jumps', () => {
  it('puts a jump in the next stored batch, even when the batch it was first meant for is refused', () => {
    const key = generateDeviceKey();
    const outbox = openOutbox(key.deviceId, 4_096);
    const t = { mono: 0 };
    const clock = new AgentClock({ monotonicMs: () => t.mono, systemMs: () => T0 });
    const signer = new BatchSigner(key, VIN, outbox, clock);
    t.mono = 5_000;
    clock.gnssFix(T0 + 5_000 + 42_000); // GNSS: the system clock was 42 s slow

    // Too large for the quota: refused, nothing stored.
    const big = readings(2_000, T0);
    expect(() => signer.sign({ kind: 'routine', start: T0, end: T0 + 2_000, readings: big, events: [] })).toThrow(QuotaError); // prettier-ignore
    expect(outbox.chainHead().nextSeq).toBe(0);

    signer.sign({ kind: 'routine', start: T0, end: T0 + 10, readings: readings(10, T0), events: [] }); // prettier-ignore
    signer.sign({ kind: 'routine', start: T0, end: T0 + 10, readings: readings(10, T0 + 10), events: [] }); // prettier-ignore
    const [first, second] = outbox.nextToSend(10).sort((a, b) => a.seq - b.seq);
    const jumps = (bytes: Uint8Array) => {
      const d = decodeBatch(bytes);
      if (!d.ok) throw d.error;
      return d.value.payload.clock;
    };
    expect(jumps(first!.bytes)).toEqual({
      source: 'gnss',
      jumps: [{ at: T0 + 5_000, deltaMs: 42_000, from: 'system', to: 'gnss' }],
    });
    expect(jumps(second!.bytes).jumps).toEqual([]);
    outbox.close();
  });
});

describe('BatchSigner: reading times', () => {
  it('signs readings stamped in fractions of a ms (as the agent clock stamps them), rounded to whole ms', () => {
    const key = generateDeviceKey();
    const outbox = openOutbox(key.deviceId, 1 << 20);
    const signer = new BatchSigner(key, VIN, outbox, new AgentClock({ monotonicMs: () => 0, systemMs: () => T0 })); // prettier-ignore
    const stamped = readings(10, T0).map((r, i) => ({ ...r, time: T0 + i * 100.37 + 0.4 }));
    signer.sign({ kind: 'routine', start: stamped[0]!.time, end: stamped[9]!.time, readings: stamped, events: [] }); // prettier-ignore
    const [row] = outbox.nextToSend(1);
    const d = decodeBatch(row!.bytes);
    if (!d.ok) throw d.error;
    expect(d.value.payload.start).toBe(T0);
    const times = samplesFromColumns(d.value.payload.signals, d.value.payload.start).map(
      (s) => s.time,
    );
    expect(times.sort((a, b) => a - b)).toEqual(stamped.map((r) => Math.round(r.time)));
    outbox.close();
  });
});
