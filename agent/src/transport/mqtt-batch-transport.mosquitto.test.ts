import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyNodeMessage } from '@enginechain/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboxStore, type OutboxBatchKind } from '../outbox/outbox-store.js';
import { chainedBatch } from '../outbox/test-batches.js';
import type { TransportError } from './errors.js';
import { MqttBatchTransport, type MqttBatchTransportOptions } from './mqtt-batch-transport.js';
import {
  startFakeIngest,
  startMosquitto,
  waitFor,
  type FakeIngest,
  type Mosquitto,
} from './test-brokers.js';

// A fresh device per test: the broker keeps each device's persistent session between tests.
let DEVICE = '';
beforeEach(() => {
  DEVICE = randomBytes(16).toString('hex');
});
const dir = mkdtempSync(join(tmpdir(), 'transport-mosquitto-'));
let mosquitto: Mosquitto;
beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(async () => {
  await mosquitto?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let files = 0;
function outboxWith(kinds: OutboxBatchKind[], resendAfterMs = 60_000): OutboxStore {
  const store = OutboxStore.open({
    path: join(dir, `outbox-${++files}.db`),
    deviceId: DEVICE,
    quotaBytes: 1 << 20,
    resendAfterMs,
  });
  cleanups.push(() => store.close());
  for (const kind of kinds) append(store, kind);
  return store;
}
const append = (store: OutboxStore, kind: OutboxBatchKind) =>
  store.appendBatch(chainedBatch(store.chainHead(), kind, 2_000));

async function fakeIngest(url: string): Promise<FakeIngest> {
  const ingest = await startFakeIngest(url, DEVICE);
  cleanups.push(() => ingest.close());
  return ingest;
}

function device(
  outbox: OutboxStore,
  ingest: FakeIngest,
  extra: Partial<MqttBatchTransportOptions> = {},
) {
  const t = new MqttBatchTransport({
    url: mosquitto.url,
    deviceId: DEVICE,
    password: () => 'token',
    outbox,
    onReceiptMessage: (bytes) => {
      const v = verifyNodeMessage(bytes, ingest.receiptPublicKey);
      if (!v.ok || v.value.type !== 'receipt') throw new Error('not a valid receipt');
      outbox.markReceipted(v.value.seq, v.value.batchHash, bytes, { logIndex: v.value.leafIndex });
    },
    backoff: { baseMs: 50, capMs: 400 },
    pollIntervalMs: 100,
    ...extra,
  });
  const problems: TransportError[] = [];
  t.on('problem', (p) => problems.push(p));
  cleanups.push(() => t.stop());
  return { t, problems };
}

describe('MqttBatchTransport with mosquitto 2', () => {
  it('speaks MQTT 5 and drains the outbox through receipts', async () => {
    const ingest = await fakeIngest(mosquitto.url);
    const outbox = outboxWith(['routine', 'event', 'trace', 'routine']);
    const { t, problems } = device(outbox, ingest);
    const connected = once(t, 'connected');
    t.start();
    expect((await connected)[0]).toMatchObject({ protocolVersion: 5 });
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'receipts');
    expect(ingest.received.map((b) => b.seq)).toEqual([2, 1, 0, 3]);
    expect(problems).toEqual([]);
    expect(outbox.stats().lastReceiptAt).toBeGreaterThan(0);
  });

  it('keeps its session: receipts sent while the device was away arrive on reconnect', async () => {
    const ingest = await fakeIngest(mosquitto.url);
    ingest.answering = false;
    const outbox = outboxWith(['event', 'routine']);
    const { t } = device(outbox, ingest);
    t.start();
    await waitFor(() => ingest.received.length === 2, 10_000, 'batches');
    await t.stop();
    await ingest.answerPending(); // queued by the broker for the offline persistent session
    const connected = once(t, 'connected');
    t.start();
    expect((await connected)[0]).toEqual({ protocolVersion: 5, sessionPresent: true });
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'queued receipts');
    expect(ingest.received).toHaveLength(2);
  });

  it('delivers over ws://', async () => {
    const ingest = await fakeIngest(mosquitto.url);
    const outbox = outboxWith(['trace', 'routine']);
    const { t } = device(outbox, ingest, { url: mosquitto.wsUrl });
    t.start();
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'receipts over websockets');
    expect(t.mqttVersion).toBe(5);
  });

  it('survives the broker being killed and restarted: everything arrives, traces and events first', async () => {
    const ingest = await fakeIngest(mosquitto.url);
    const outbox = outboxWith(['routine', 'routine', 'event'], 2_000);
    const { t } = device(outbox, ingest);
    const publishedKinds: OutboxBatchKind[] = [];
    t.on('published', (p) => publishedKinds.push(p.kind));
    t.start();
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'first receipts');

    const down = once(t, 'disconnected');
    await mosquitto.kill();
    await down;
    expect(t.connected).toBe(false);
    // The vehicle keeps recording while the broker is away.
    const kinds: OutboxBatchKind[] = [
      'routine',
      'routine',
      'event',
      'routine',
      'trace',
      'routine',
      'event',
    ];
    for (const k of kinds) append(outbox, k);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(t.counters.reconnects).toBeGreaterThan(0);
    publishedKinds.length = 0;
    const up = once(t, 'connected');
    await mosquitto.restart();
    expect((await up)[0]).toMatchObject({ sessionPresent: false });

    await waitFor(
      () => outbox.stats().depth === 0,
      20_000,
      'everything receipted after the outage',
    );
    // The first pass after reconnecting sends traces, then events, then routine.
    const rank = { trace: 0, event: 1, routine: 2 };
    const firstPass = publishedKinds.slice(0, kinds.length).map((k) => rank[k]);
    expect(firstPass).toEqual([...firstPass].sort());
    const after = new Set(ingest.received.map((b) => b.seq));
    for (let seq = 0; seq < 3 + kinds.length; seq++) expect(after.has(seq)).toBe(true);
  }, 40_000);
});
