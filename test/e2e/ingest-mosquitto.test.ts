import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  ed25519PublicKeyFromRaw,
  enrolmentProofMessage,
  generateDeviceKey,
  type DeviceKey,
  signBatch,
  signEs256k,
  verifyNodeMessage,
  ZERO_HASH,
} from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../../agent/src/transport/test-brokers.js';
import { makeTestPki, type TestPki } from '../../ingest/src/broker/test-pki.js';

const VIN = '1HGCM82633A004352';

/** Signs `count` chained batches of `key`'s device from seq 0 and publishes them on its topic. */
async function publishChain(client: MqttClient, key: DeviceKey, count: number): Promise<void> {
  let prev = ZERO_HASH;
  for (let seq = 0; seq < count; seq++) {
    const bytes = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: seq }] }), key); // prettier-ignore
    prev = batchHash(bytes);
    await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
  }
}

/** The topic of every message `client` receives, and the seqs of those that are receipts `node` signed. */
function collectReceipts(
  client: MqttClient,
  node: IngestNode,
): { seqs: number[]; topics: string[] } {
  const receiptKey = ed25519PublicKeyFromRaw(new Uint8Array(Buffer.from(node.keys.receiptPublicKey, 'base64'))); // prettier-ignore
  const seqs: number[] = [];
  const topics: string[] = [];
  client.on('message', (topic, payload) => {
    topics.push(topic);
    const v = verifyNodeMessage(new Uint8Array(payload), receiptKey);
    if (v.ok && v.value.type === 'receipt') seqs.push(v.value.seq);
  });
  return { seqs, topics };
}

// `enginechain ingest --broker URL`: the node consumes from Debian's mosquitto 2 (shared
// subscription, MQTT 5) instead of its embedded broker. The broker is not trusted with
// integrity: a batch on another device's topic is refused by the node itself.
describe('ingest node on an external mosquitto broker', () => {
  let broker: Mosquitto | undefined;
  let node: IngestNode | undefined;
  let pki: TestPki | undefined;
  afterEach(async () => {
    await node?.stop();
    await broker?.close();
    pki?.remove();
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
    const { seqs } = collectReceipts(client, node);
    await client.subscribeAsync(`ec/v1/${key.deviceId}/receipt`, { qos: 1 });
    await publishChain(client, key, 5);
    await expect.poll(() => [...seqs].sort(), { timeout: 15_000 }).toEqual([0, 1, 2, 3, 4]);

    // mosquitto lets this anonymous client publish anywhere; the node still refuses the batch.
    const forged = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq: 0, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: 1 }] }), key);
    await client.publishAsync(`ec/v1/${other.deviceId}/batch`, Buffer.from(forged), { qos: 1 });
    await expect.poll(async () => (await node!.store.rejectionCounts())['topic-mismatch'], { timeout: 10_000 }).toBe(1);
    expect((await node.store.getDevice(other.deviceId))?.nextSeq).toBe(0);
    await client.endAsync();
  }, 60_000); // prettier-ignore

  it('at its pipeline limit stops reading: mosquitto keeps the rest queued, and every batch is logged', async () => {
    broker = await startMosquitto();
    const n = (node = await IngestNode.start({
      dataDir: mkdtempSync(join(tmpdir(), 'enginechain-mosq-node-')),
      externalBroker: { url: broker.url },
      http: { host: '127.0.0.1', port: 0 },
      checkpointIntervalMs: 100,
      verifierThreads: 1,
      maxBatchesInPipeline: 4,
      logger: pino({ level: 'silent' }),
    }));
    const key = generateDeviceKey();
    const { token } = await n.enrolment.issueToken(VIN);
    await n.enrolment.register({ token, vin: VIN, publicKey: key.publicKey, proof: signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey) });
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: key.deviceId });
    const { seqs } = collectReceipts(client, n);
    await client.subscribeAsync(`ec/v1/${key.deviceId}/receipt`, { qos: 1 });
    let most = 0;
    let mostWaiting = 0;
    const watch = setInterval(() => {
      most = Math.max(most, n.admission.inPipeline);
      mostWaiting = Math.max(mostWaiting, n.admission.waiting);
    }, 1);
    const batches: Uint8Array[] = [];
    let prev = ZERO_HASH;
    for (let seq = 0; seq < 200; seq++) {
      const bytes = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: seq }] }), key);
      prev = batchHash(bytes);
      batches.push(bytes);
    }
    try {
      // All at once: mosquitto acknowledges each and passes them on as fast as the node reads.
      await Promise.all(batches.map((b) => client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(b), { qos: 1 })));
      await expect.poll(() => seqs.length, { timeout: 30_000 }).toBe(200);
    } finally {
      clearInterval(watch);
    }
    expect(new Set(seqs).size).toBe(200);
    expect(most).toBe(4);
    // The node takes the next message only once the last one is admitted: one waits at most.
    expect(mostWaiting).toBe(1);
    await client.endAsync();
  }, 60_000); // prettier-ignore

  it('runs with the shipped config: devices by client certificate, each held to its own topics', async () => {
    const key = generateDeviceKey();
    const other = generateDeviceKey();
    const made = makeTestPki({ clientCommonName: key.deviceId });
    pki = made;
    const password = 'node-secret-1';
    const kit = join(import.meta.dirname, '../../hardware/kit/mosquitto');
    broker = await startMosquitto((dir, [devicePort, nodePort]) => {
      for (const f of ['devices.acl', 'ingest.acl']) copyFileSync(join(kit, f), join(dir, f));
      copyFileSync(made.files.caCert, join(dir, 'ca.crt'));
      copyFileSync(made.files.serverCert, join(dir, 'server.crt'));
      copyFileSync(made.files.serverKey, join(dir, 'server.key'));
      execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'ingest.passwd'), 'enginechain-ingest', password]);
      // mosquitto started as root reads its files as the mosquitto user.
      chmodSync(dir, 0o755);
      for (const f of ['devices.acl', 'ingest.acl', 'ca.crt', 'server.crt', 'server.key', 'ingest.passwd']) chmodSync(join(dir, f), 0o644);
      let config = readFileSync(join(kit, 'enginechain.conf'), 'utf8');
      for (const [from, to] of [
        ['/etc/mosquitto/enginechain/', `${dir}/`],
        ['/var/lib/mosquitto/', `${dir}/`],
        ['listener 8883\n', `listener ${devicePort} 127.0.0.1\n`],
        ['listener 1884 127.0.0.1\n', `listener ${nodePort} 127.0.0.1\n`],
      ] as const) {
        expect(config).toContain(from);
        config = config.replaceAll(from, to);
      }
      return config;
    });
    const [devicePort, nodePort] = broker.ports;

    // The node's own login: a wrong password is refused, the right one consumes and receipts.
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${nodePort}`, { username: 'enginechain-ingest', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow();
    node = await IngestNode.start({
      dataDir: mkdtempSync(join(tmpdir(), 'enginechain-mosq-node-')),
      externalBroker: { url: `mqtt://127.0.0.1:${nodePort}`, username: 'enginechain-ingest', password },
      http: { host: '127.0.0.1', port: 0 },
      checkpointIntervalMs: 100,
      verifierThreads: 1,
      logger: pino({ level: 'silent' }),
    });
    for (const k of [key, other]) {
      const { token } = await node.enrolment.issueToken(VIN);
      await node.enrolment.register({ token, vin: VIN, publicKey: k.publicKey, proof: signEs256k(enrolmentProofMessage(token, k.publicKey), k.privateKey) });
    }

    const deviceUrl = `mqtts://127.0.0.1:${devicePort}`;
    // No client certificate, or one from another CA: no connection at all.
    await expect(mqtt.connectAsync(deviceUrl, { ca: made.pem.caCert, reconnectPeriod: 0, connectTimeout: 5_000 })).rejects.toThrow();
    await expect(mqtt.connectAsync(deviceUrl, { ca: made.pem.caCert, cert: made.pem.otherClientCert, key: made.pem.otherClientKey, reconnectPeriod: 0, connectTimeout: 5_000 })).rejects.toThrow();

    const client = await mqtt.connectAsync(deviceUrl, { protocolVersion: 5, clientId: key.deviceId, ca: made.pem.caCert, cert: made.pem.clientCert, key: made.pem.clientKey, reconnectPeriod: 0 });
    const { seqs, topics } = collectReceipts(client, node);
    await client.subscribeAsync(`ec/v1/${key.deviceId}/receipt`, { qos: 1 });
    // mosquitto 2.0 grants a subscription to another device's receipts but never delivers them
    // (read access is checked per message): shown below.
    await client.subscribeAsync(`ec/v1/${other.deviceId}/receipt`, { qos: 1 });

    await publishChain(client, key, 3);
    await expect.poll(() => [...seqs].sort(), { timeout: 15_000 }).toEqual([0, 1, 2]);

    // A message on the other device's receipt topic, then one on its own: only its own arrives.
    const nodeUser = await mqtt.connectAsync(`mqtt://127.0.0.1:${nodePort}`, { protocolVersion: 5, username: 'enginechain-ingest', password, reconnectPeriod: 0 });
    await nodeUser.publishAsync(`ec/v1/${other.deviceId}/receipt`, 'not for you', { qos: 1 });
    await nodeUser.publishAsync(`ec/v1/${key.deviceId}/receipt`, 'marker', { qos: 1 });
    await expect.poll(() => topics.length, { timeout: 10_000 }).toBe(4);
    expect(new Set(topics)).toEqual(new Set([`ec/v1/${key.deviceId}/receipt`]));
    await nodeUser.endAsync();

    // Another device's batch topic: refused by the broker as not authorised (mosquitto 2.0 also
    // drops the connection); the node never sees the batch.
    const forged = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq: 0, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: 1 }] }), key);
    await expect(client.publishAsync(`ec/v1/${other.deviceId}/batch`, Buffer.from(forged), { qos: 1 })).rejects.toThrow(/not authori[sz]ed/i);
    await new Promise((r) => setTimeout(r, 300));
    expect((await node.store.rejectionCounts())['topic-mismatch']).toBeUndefined();
    expect((await node.store.getDevice(other.deviceId))?.nextSeq).toBe(0);
    expect((await node.store.getDevice(key.deviceId))?.nextSeq).toBe(3);

    await client.endAsync();

    // A CONNECT whose header declares about 100 MB: mosquitto closes the connection on the
    // header (max_packet_size) instead of reading the body.
    const sentBeforeClose = await new Promise<number>((resolve) => {
      const socket = connectTls({ host: '127.0.0.1', port: devicePort, ca: made.pem.caCert, cert: made.pem.clientCert, key: made.pem.clientKey, servername: 'localhost' });
      const body = new Uint8Array(64 * 1024).fill(0x61);
      let sent = 0;
      socket.once('secureConnect', () => {
        socket.write(Uint8Array.from([0x10, 0x80, 0xad, 0xe2, 0x2f]));
        const more = () => !socket.destroyed && (socket.write(body, () => (sent += body.length)), setTimeout(more, 5));
        more();
      });
      socket.on('close', () => resolve(sent));
      socket.on('error', () => {});
    });
    expect(sentBeforeClose).toBeLessThan(20 * 64 * 1024);
  }, 60_000); // prettier-ignore
});
