import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  ed25519PublicKeyFromRaw,
  enrolmentProofMessage,
  generateDeviceKey,
  signBatch,
  signEs256k,
  verifyNodeMessage,
  ZERO_HASH,
} from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../../agent/src/transport/test-brokers.js';

const VIN = '1HGCM82633A004352';

// `enginechain ingest --broker URL`: the node consumes from Debian's mosquitto 2 (shared
// subscription, MQTT 5) instead of its embedded broker. The broker is not trusted with
// integrity: a batch on another device's topic is refused by the node itself.
describe('ingest node on an external mosquitto broker', () => {
  let broker: Mosquitto | undefined;
  let node: IngestNode | undefined;
  afterEach(async () => {
    await node?.stop();
    await broker?.close();
  });

  it('receipts batches that came through mosquitto and refuses one on a foreign topic', async () => {
    broker = await startMosquitto();
    node = await IngestNode.start({
      dataDir: mkdtempSync(join(tmpdir(), 'enginechain-mosq-node-')),
      externalBroker: { url: broker.url },
      http: { host: '127.0.0.1', port: 0 },
      checkpointIntervalMs: 100,
      verifierThreads: 1,
      logger: pino({ level: 'silent' }),
    });
    const key = generateDeviceKey();
    const other = generateDeviceKey();
    for (const k of [key, other]) {
      const { token } = await node.enrolment.issueToken(VIN);
      await node.enrolment.register({ token, vin: VIN, publicKey: k.publicKey, proof: signEs256k(enrolmentProofMessage(token, k.publicKey), k.privateKey) });
    }
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: key.deviceId });
    const receiptKey = ed25519PublicKeyFromRaw(new Uint8Array(Buffer.from(node.keys.receiptPublicKey, 'base64')));
    const seqs: number[] = [];
    client.on('message', (_t, payload) => {
      const v = verifyNodeMessage(new Uint8Array(payload), receiptKey);
      if (v.ok && v.value.type === 'receipt') seqs.push(v.value.seq);
    });
    await client.subscribeAsync(`ec/v1/${key.deviceId}/receipt`, { qos: 1 });
    let prev = ZERO_HASH;
    for (let seq = 0; seq < 5; seq++) {
      const bytes = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: seq }] }), key);
      prev = batchHash(bytes);
      await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
    }
    await expect.poll(() => [...seqs].sort(), { timeout: 15_000 }).toEqual([0, 1, 2, 3, 4]);

    // mosquitto lets this anonymous client publish anywhere; the node still refuses the batch.
    const forged = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq: 0, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: 1 }] }), key);
    await client.publishAsync(`ec/v1/${other.deviceId}/batch`, Buffer.from(forged), { qos: 1 });
    await expect.poll(async () => (await node!.store.rejectionCounts())['topic-mismatch'], { timeout: 10_000 }).toBe(1);
    expect((await node.store.getDevice(other.deviceId))?.nextSeq).toBe(0);
    await client.endAsync();
  }, 60_000); // prettier-ignore
});
