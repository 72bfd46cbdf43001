import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  AgentClock,
  AgentPipeline,
  BatchSigner,
  MqttBatchTransport,
  OutboxStore,
  provisionDevice,
  ReceiptVerifier,
  type SampledReading,
} from '@enginechain/agent';
import { mulberry32 } from '@enginechain/hardware';
import { IngestNode } from '@enginechain/ingest';
import {
  createMqttToken,
  decodeBatch,
  ed25519PublicKeyFromRaw,
  loadDeviceKey,
  samplesFromColumns,
} from '@enginechain/shared';
import { describe, expect, it } from 'vitest';

// Issue 5: "Quota reached: routine batches evicted and reported, traces kept."
//
// Ten minutes of driving (60 signals at 10 Hz, a harsh braking at 200 s, a crash at 300 s)
// go through the agent's pipeline, signer and outbox while the node is out of reach, under
// the smallest quota the config allows (1 MiB) and more than twice that much data. Then the
// agent's transport delivers the outbox to a real ingestion node, each receipt checked as the
// agent checks it. The oldest routine batches were evicted and each is declared, with its
// sample count and time span, by a later batch; the crash trace and the event batches all
// arrive; the node continues the chain through the declared drops and refuses nothing.

const VIN = '1HGCM82633A004352';
const QUOTA = 1_048_576;
const SIGNALS = 60;
const DURATION_MS = 600_000;
const BRAKE_AT = 200_000;
const CRASH_AT = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Speed: 50 km/h; −3.7 m/s² for 1.5 s at 200 s, then back up at 1 m/s²; 50 → 0 at 300 s. */
function speedAt(t: number): number {
  if (t >= CRASH_AT) return t === CRASH_AT ? 20 : 0;
  if (t < BRAKE_AT) return 50;
  const low = 50 - 3.7 * 3.6 * 1.5;
  if (t < BRAKE_AT + 1_500) return 50 - 3.7 * 3.6 * ((t - BRAKE_AT) / 1_000);
  return Math.min(50, low + 3.6 * ((t - BRAKE_AT - 1_500) / 1_000));
}

describe('agent outbox under its disk quota, then delivered', () => {
  it('evicts the oldest routine batches, declares them, keeps the trace and events, and the node accepts the chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enginechain-quota-'));
    const node = await IngestNode.start({
      dataDir: join(dir, 'node'),
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      checkpointIntervalMs: 100,
      verifierThreads: 1,
      logger: pino({ level: 'info' }, pino.destination(join(dir, 'ingest.log'))),
    });
    let transport: MqttBatchTransport | undefined;
    let outbox: OutboxStore | undefined;
    try {
      const { token } = await node.enrolment.issueToken(VIN);
      const p = await provisionDevice({
        ingest: node.httpUrl, token, vin: VIN, out: join(dir, 'agent'),
        sources: [{ type: 'nmea', port: '/dev/enginechain/gnss' }],
      }); // prettier-ignore
      const key = await loadDeviceKey(p.config.device.keyDir);
      outbox = OutboxStore.open({
        path: p.config.outbox.path,
        deviceId: key.deviceId,
        quotaBytes: QUOTA,
      });
      const ob = outbox;

      // Offline: the drive, on a virtual clock that ended a little before now.
      const t0 = Date.now() - DURATION_MS - 60_000;
      let vt = 0;
      const clock = new AgentClock({ monotonicMs: () => vt, systemMs: () => t0 });
      const pipeline = new AgentPipeline({
        signer: new BatchSigner(key, VIN, ob, clock),
        events: {},
        crash: {},
        batching: { maxAgeMs: 10_000, maxSamples: 5_000 },
        rates: {},
      });
      const random = mulberry32(7);
      const reading = (name: string, unit: string, value: number): SampledReading => {
        const time = clock.now();
        return { name, unit, value, time, sourceTime: time, source: 'test' };
      };
      let pushed = 0;
      for (vt = 0; vt <= DURATION_MS; vt += 100) {
        pipeline.push(reading('Vehicle.Speed', 'km/h', Math.round(speedAt(vt) * 100) / 100));
        for (let s = 1; s < SIGNALS; s++)
          pipeline.push(reading(`Vehicle.OBD.Signal${s}`, 'percent', Math.round(random() * 1e5) / 100)); // prettier-ignore
        pushed += SIGNALS;
      }
      pipeline.flush();

      const offline = ob.stats();
      const head = ob.chainHead();
      expect(offline.evictionsTotal).toBeGreaterThan(5);
      expect(offline.depthByKind.trace).toBeGreaterThanOrEqual(2);
      expect(offline.depthByKind.event).toBeGreaterThanOrEqual(1);
      expect(offline.bytes).toBeLessThanOrEqual(QUOTA);
      // The braking at 200 s, the crash, and the crash's own deceleration as a harsh braking.
      expect(pipeline.eventLog.map((e) => e.type)).toEqual(['harsh-braking', 'crash', 'harsh-braking']); // prettier-ignore

      // Online: the agent's transport, receipts checked as the agent checks them.
      const verifier = new ReceiptVerifier({
        deviceId: key.deviceId,
        receiptPublicKey: ed25519PublicKeyFromRaw(new Uint8Array(Buffer.from(p.config.ingest.receiptPublicKey, 'base64'))), // prettier-ignore
        checkpointVerifierKey: p.config.ingest.checkpointVerifierKey,
        logOrigin: p.config.ingest.logOrigin,
      });
      const refused: string[] = [];
      transport = new MqttBatchTransport({
        url: p.config.ingest.url,
        deviceId: key.deviceId,
        password: () => createMqttToken(key.deviceId, key.privateKey),
        outbox: ob,
        subscribeControl: false,
        onReceiptMessage: (bytes) => {
          const v = verifier.verify(bytes);
          if (!v.ok) return void refused.push(v.code);
          if (v.message.type === 'resend') return ob.releaseInFlight(v.message.seqs);
          ob.markReceipted(v.message.seq, v.message.batchHash, bytes, { logIndex: v.message.leafIndex }); // prettier-ignore
        },
      });
      transport.start();
      for (const until = Date.now() + 60_000; ob.stats().depth > 0 && Date.now() < until;)
        await sleep(100);
      expect(ob.stats().depth).toBe(0);
      expect(refused).toEqual([]);
      await transport.stop();
      transport = undefined;

      const store = node.store;
      const rows = (await store.batchesByVin(VIN, 0, Number.MAX_SAFE_INTEGER)).sort((a, b) => a.seq - b.seq); // prettier-ignore
      const drops = await store.declaredDropsFrom(key.deviceId, 0);
      const stored = new Set(rows.map((r) => r.seq));
      const dropped = new Set(drops.map((d) => d.seq));
      // Every seq of the chain is either stored or declared dropped, never both.
      expect(rows.length + drops.length).toBe(head.nextSeq);
      for (let seq = 0; seq < head.nextSeq; seq++)
        expect(stored.has(seq) !== dropped.has(seq), `seq ${seq}`).toBe(true);
      expect(drops.length).toBe(offline.evictionsTotal);
      expect(await store.rejectionCounts()).toEqual({});

      // The drops were the oldest routine batches, and each declaration says what is missing.
      let samplesStored = 0;
      const declared = new Map<number, { samples: number; start: number; end: number }>();
      for (const r of rows) {
        const d = decodeBatch(r.bytes);
        if (!d.ok) throw d.error;
        const payload = d.value.payload;
        for (const x of payload.dropped) declared.set(x.seq, x);
        if (payload.kind !== 'trace')
          samplesStored += samplesFromColumns(payload.signals, payload.start).length;
        if (payload.kind === 'trace' || payload.kind === 'event')
          expect(dropped.has(r.seq)).toBe(false);
      }
      expect([...declared.keys()].sort((a, b) => a - b)).toEqual([...dropped].sort((a, b) => a - b)); // prettier-ignore
      let samplesDropped = 0;
      for (const d of drops) {
        const x = declared.get(d.seq)!;
        expect(x.samples).toBe(d.sampleCount);
        expect(x.samples).toBeGreaterThan(0);
        expect(x.end).toBeGreaterThanOrEqual(x.start);
        samplesDropped += x.samples;
      }
      expect(Math.max(...dropped)).toBeLessThan(Math.min(...rows.filter((r) => r.kind === 'routine').map((r) => r.seq))); // prettier-ignore
      // Nothing vanished unexplained: stored plus declared is every reading taken.
      expect(samplesStored + samplesDropped).toBe(pushed);

      // The crash and its trace: 20 s before and 10 s after, every signal at 10 Hz.
      const events = await store.eventsByVin(VIN);
      expect(events.map((e) => e.type).sort()).toEqual(['crash', 'harsh-braking', 'harsh-braking']);
      const traceSamples = rows
        .filter((r) => r.kind === 'trace')
        .reduce((n, r) => {
          const d = decodeBatch(r.bytes);
          return d.ok ? n + samplesFromColumns(d.value.payload.signals, d.value.payload.start).length : n; // prettier-ignore
        }, 0);
      // 30 s of every signal at 10 Hz (readings of one instant carry microseconds apart on the
      // agent clock, so the last instant is in the window for the first signal only).
      expect(traceSamples).toBeGreaterThanOrEqual(SIGNALS * 300);
      expect(traceSamples).toBeLessThanOrEqual(SIGNALS * 301);
      console.info(
        `[quota] ${head.nextSeq} batches, ${drops.length} evicted (${samplesDropped} samples declared), ` +
          `${rows.filter((r) => r.kind === 'trace').length} trace batches, outbox ${offline.bytes} B of ${QUOTA} B when offline`,
      );
    } finally {
      await transport?.stop();
      outbox?.close();
      await node.stop();
    }
  }, 120_000);
});
