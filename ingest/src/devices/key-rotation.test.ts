import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  batchHash,
  buildBatchPayload,
  createKeyRotationRequest,
  decodeLogEntry,
  generateDeviceKey,
  leafHash,
  signBatch,
  verifyInclusion,
  ZERO_HASH,
  type DeviceKey,
} from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestNode } from '../node/ingest-node.js';
import { connectDevice, postEnrolment, startTestNode } from '../node/test-node.js';

const VIN = '1HGCM82633A004352';

describe('device key rotation (real node, embedded MQTT broker, HTTP)', () => {
  let node: IngestNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  async function enrolledDevice(n: IngestNode): Promise<DeviceKey> {
    const { key, res } = await postEnrolment(n, VIN);
    expect(res.status).toBe(201);
    return key;
  }

  const rotate = (n: IngestNode, deviceId: string, request: Uint8Array) =>
    fetch(`${n.httpUrl}/v1/devices/${deviceId}/key-rotations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: Buffer.from(request).toString('base64') }),
    });

  it('accepts batches before and after a rotation, late old-key ones too, and refuses the old key past its last seq', async () => {
    node = await startTestNode(mkdtempSync(join(tmpdir(), 'enginechain-rotation-')));
    const n = node;
    const oldKey = await enrolledDevice(n);
    const deviceId = oldKey.deviceId;
    const newKey: DeviceKey = { ...generateDeviceKey(), deviceId };

    // Seqs 0..5 signed with the old key before the rotation; 0..3 are sent now, 4 and 5 late.
    const hashes: Uint8Array[] = [];
    const sign = (seq: number, key: DeviceKey) =>
      signBatch(
        buildBatchPayload({ deviceId, vin: VIN, seq, prev: seq === 0 ? ZERO_HASH : hashes[seq - 1]!, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: seq }] }),
        key,
      ); // prettier-ignore
    const batches: Uint8Array[] = [];
    const next = (key: DeviceKey) => {
      const bytes = sign(batches.length, key);
      hashes.push(batchHash(bytes));
      batches.push(bytes);
    };
    for (let seq = 0; seq < 6; seq++) next(oldKey);

    const first = await connectDevice(n, deviceId, oldKey);
    for (let seq = 0; seq < 4; seq++)
      await first.client.publishAsync(`ec/v1/${deviceId}/batch`, Buffer.from(batches[seq]!), {
        qos: 1,
      });
    await expect.poll(() => first.receipts.length, { timeout: 10_000 }).toBe(4);
    await first.client.endAsync(true);

    // Refusals first: each names its reason and changes nothing.
    const at = Date.now();
    const refused = async (request: Uint8Array, status: number, code: string) => {
      const res = await rotate(n, deviceId, request);
      expect(await res.json()).toMatchObject({ code });
      expect(res.status).toBe(status);
    };
    const stranger = generateDeviceKey();
    await refused(
      createKeyRotationRequest({ deviceId, currentKey: stranger, newKey, fromSeq: 6 }),
      403,
      'bad-signature',
    );
    await refused(
      createKeyRotationRequest({
        deviceId,
        currentKey: oldKey,
        newKey: { publicKey: newKey.publicKey, privateKey: stranger.privateKey },
        fromSeq: 6,
      }),
      403,
      'bad-proof',
    );
    await refused(
      createKeyRotationRequest({
        deviceId,
        currentKey: oldKey,
        newKey,
        fromSeq: 6,
        timeMs: at - 10 * 60_000,
      }),
      403,
      'stale-request',
    );
    const tooEarly = createKeyRotationRequest({ deviceId, currentKey: oldKey, newKey, fromSeq: 3 });
    await refused(tooEarly, 409, 'seq-passed');
    // Its nonce is spent: sent again, the request is a replay even though it still verifies.
    await refused(tooEarly, 409, 'replayed-request');

    const request = createKeyRotationRequest({ deviceId, currentKey: oldKey, newKey, fromSeq: 6 });
    const res = await rotate(n, deviceId, request);
    expect(res.status).toBe(201);
    const rotation = (await res.json()) as { leafIndex: number; fromSeq: number; deviceId: string };
    expect(rotation).toMatchObject({ deviceId, fromSeq: 6 });
    // Replayed after the rotation, it is no longer signed by the current key.
    await refused(request, 403, 'bad-signature');

    // The rotation is a log entry, provably in the log.
    const logged = await n.store.logEntry(rotation.leafIndex);
    expect(decodeLogEntry(logged!.entry)).toEqual({
      type: 'key-rotation',
      deviceId,
      publicKey: newKey.publicKey,
      fromSeq: 6,
      at: expect.any(Number),
    });
    await n.checkpointNow();
    const size = await n.sidechain.size();
    verifyInclusion(
      BigInt(rotation.leafIndex),
      BigInt(size),
      leafHash(logged!.entry),
      await n.sidechain.inclusionProof(rotation.leafIndex, size),
      await n.sidechain.rootAt(size),
    );

    // MQTT tokens now need the new key.
    await expect(connectDevice(n, deviceId, oldKey)).rejects.toThrow();
    const second = await connectDevice(n, deviceId, newKey);
    for (let seq = 6; seq < 9; seq++) next(newKey);
    // Late old-key batches (4, 5), then the new key's (6..8): all accepted and receipted.
    for (let seq = 4; seq < 9; seq++)
      await second.client.publishAsync(`ec/v1/${deviceId}/batch`, Buffer.from(batches[seq]!), {
        qos: 1,
      });
    await expect.poll(() => second.receipts.length, { timeout: 10_000 }).toBe(5);
    expect(second.receipts.map((r) => (r.type === 'receipt' ? r.seq : -1)).sort()).toEqual([
      4, 5, 6, 7, 8,
    ]);

    // The old key signing seq 9 (past the rotation) is refused with its reason; so is the new
    // key signing a seq before the rotation (a copy of 5 it never signed).
    const hashesBefore = hashes.length;
    next(oldKey);
    const stale = batches[9]!;
    const forgedEarly = sign(5, newKey);
    await n.ingestor.ingest(deviceId, stale);
    await n.ingestor.ingest(deviceId, forgedEarly);
    expect(hashes.length).toBe(hashesBefore + 1);
    const rejections = await n.store.rejectionCounts();
    expect(rejections['wrong-key-for-seq']).toBe(2);
    expect((await n.store.getDevice(deviceId))?.nextSeq).toBe(9);
    await second.client.endAsync(true);
  });
});
