import {
  batchHash,
  buildBatchPayload,
  enrolmentRequestBody,
  signBatch,
  ZERO_HASH,
} from '@enginechain/shared';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestNode } from './ingest-node.js';
import { connectDevice, postEnrolment, startTestNode } from './test-node.js';

const VIN = '1HGCM82633A004352';

describe('IngestNode (embedded broker, HTTP enrolment, receipts)', () => {
  let node: IngestNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  async function startNode(dataDir?: string, more?: Parameters<typeof startTestNode>[1]) {
    node = await startTestNode(dataDir, more);
    return node;
  }

  async function enrol(n: IngestNode) {
    const { key, token, res } = await postEnrolment(n, VIN);
    return { key, token, res, body: (await res.json()) as Record<string, unknown> };
  }

  it('enrols a device over HTTP once, then refuses the token again', async () => {
    const n = await startNode();
    const { key, token, res, body } = await enrol(n);
    expect(res.status).toBe(201);
    expect(body).toMatchObject({
      deviceId: key.deviceId,
      registrationLeafIndex: 0,
      logOrigin: 'enginechain.local/sidechain',
    });
    expect(body.receiptPublicKey).toBe(n.keys.receiptPublicKey);
    const again = await fetch(`${n.httpUrl}/v1/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(enrolmentRequestBody(token, VIN, key)),
    }); // prettier-ignore
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ code: 'token-used', message: expect.any(String) });
    const bad = await fetch(`${n.httpUrl}/v1/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"token": 1}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('bad-request');
  });

  it('takes batches over MQTT and answers each with a signed receipt once checkpointed', async () => {
    const n = await startNode();
    const { key } = await enrol(n);
    const { client, receipts } = await connectDevice(n, key.deviceId, key);
    let prev = ZERO_HASH;
    const hashes: Uint8Array[] = [];
    for (let seq = 0; seq < 5; seq++) {
      const bytes = signBatch(
        buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: seq }] }),
        key,
      ); // prettier-ignore
      prev = batchHash(bytes);
      hashes.push(prev);
      await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
    }
    await expect.poll(() => receipts.length, { timeout: 10_000 }).toBe(5);
    expect(receipts.map((r) => (r.type === 'receipt' ? r.seq : -1)).sort()).toEqual([
      0, 1, 2, 3, 4,
    ]);
    for (const r of receipts) if (r.type === 'receipt') expect(r.batchHash).toEqual(hashes[r.seq]);
    const metrics = await (await fetch(`${n.httpUrl}/metrics`)).text();
    expect(metrics).toContain('enginechain_ingest_batches_accepted_total 5');
    expect(metrics).toContain('enginechain_ingest_receipts_total 5');
    await client.endAsync(true);
  });

  it('on stop, settles the batches it has received and signs a last checkpoint over them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'enginechain-node-'));
    // No checkpoint of its own during the test: only the one stop signs covers the batches.
    const n = await startNode(dataDir, { checkpointIntervalMs: 600_000, verifierThreads: 2 });
    const { key } = await enrol(n);
    const count = 300;
    let prev = ZERO_HASH;
    const batches: Uint8Array[] = [];
    for (let seq = 0; seq < count; seq++) {
      const bytes = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: seq }] }), key); // prettier-ignore
      prev = batchHash(bytes);
      batches.push(bytes);
    }
    // As the broker hands them over: each is admitted, none has settled yet.
    await Promise.all(batches.map((b) => n.receive(key.deviceId, b)));
    expect(n.admission.inPipeline).toBeGreaterThan(count / 2);
    await n.stop();
    node = undefined;
    const data = await IngestNode.openData(dataDir);
    try {
      expect((await data.store.counts()).batches).toBe(count);
      expect(await data.store.rejectionCounts()).toEqual({});
      const logSize = await data.store.logSize();
      expect(logSize).toBe(count + 1); // and the registration
      expect((await data.store.latestCheckpoint())?.treeSize).toBe(logSize);
    } finally {
      await data.close();
    }
  });

  it.each([
    { limit: 'batches', options: { maxBatchesInPipeline: 4 }, most: () => 4, mostBytes: Infinity },
    // The batches are about a kilobyte: four or five fit in 5,000 bytes.
    {
      limit: 'bytes',
      options: { maxBytesInPipeline: 5_000 },
      most: (smallest: number) => Math.floor(5_000 / smallest),
      mostBytes: 5_000,
    },
  ])(
    'at its pipeline limit ($limit) stops taking batches: a flood waits at the sender, and every batch is logged',
    async (limits) => {
      const n = await startNode(undefined, limits.options);
      const { key } = await enrol(n);
      const { client, receipts } = await connectDevice(n, key.deviceId, key);
      const count = 300;
      const batches: Uint8Array[] = [];
      let prev = ZERO_HASH;
      for (let seq = 0; seq < count; seq++) {
        // About a kilobyte each: 300 KB in all, far more than one read of the connection.
        const samples = Array.from({ length: 200 }, (_, i) => ({
          name: 'Vehicle.Speed',
          unit: 'km/h',
          time: Date.now() + i,
          value: (seq * 7 + i) % 250,
        }));
        const bytes = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'system', jumps: [] }, samples }), key); // prettier-ignore
        prev = batchHash(bytes);
        batches.push(bytes);
      }
      let most = 0;
      let mostBytes = 0;
      let mostWaiting = 0;
      /** How far the broker's acknowledgements ran ahead of the batches the node logged. */
      let mostAhead = 0;
      const acknowledged: number[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const logged = await n.metrics.acceptedCount();
          mostAhead = Math.max(mostAhead, acknowledged.length - logged);
          most = Math.max(most, n.admission.inPipeline);
          mostBytes = Math.max(mostBytes, n.admission.bytesInPipeline);
          mostWaiting = Math.max(mostWaiting, n.admission.waiting);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      try {
        // All at once: the client has no window of its own, so only the node can slow it down.
        await Promise.all(
          batches.map((b, seq) =>
            client
              .publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(b), { qos: 1 })
              .then(() => acknowledged.push(seq)),
          ),
        );
        await expect.poll(() => receipts.length, { timeout: 30_000 }).toBe(count);
      } finally {
        watching = false;
        await watcher;
      }
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(limits.most(Math.min(...batches.map((b) => b.length))));
      expect(mostBytes).toBeLessThanOrEqual(limits.mostBytes);
      expect(mostWaiting).toBeGreaterThan(0);
      // aedes acknowledges a QoS 1 publish as it reads it, but reads the connection again only
      // once the node took everything from the last read: the rest waits at the sender.
      expect(mostAhead).toBeLessThan(count / 2);
      const metrics = await (await fetch(`${n.httpUrl}/metrics`)).text();
      expect(metrics).toContain(`enginechain_ingest_batches_accepted_total ${count}`);
      expect(metrics).toContain('enginechain_ingest_pipeline_batches 0');
      expect(metrics).toContain('enginechain_ingest_pipeline_bytes 0');
      expect(metrics).toContain('enginechain_ingest_pipeline_waiting 0');
      await client.endAsync(true);
    },
  );
});
