import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { brokerTlsOptions, IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  createMqttToken,
  decodeLogEntry,
  ed25519PublicKeyFromRaw,
  enrolmentProofMessage,
  generateDeviceKey,
  signBatch,
  signEs256k,
  verifyNodeMessage,
  type DeviceKey,
} from '@enginechain/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxStore } from '../../agent/src/outbox/outbox-store.js';
import { TransportError } from '../../agent/src/transport/errors.js';
import {
  MqttBatchTransport,
  type MqttBatchTransportOptions,
} from '../../agent/src/transport/mqtt-batch-transport.js';
import { makeTestPki, type TestPki } from '../../ingest/src/broker/test-pki.js';

const VIN = '1HGCM82633A004352';

// The node's embedded broker with every listener (mqtt on loopback, mqtts, ws, wss), the real
// agent transport publishing real signed batches over mqtts and wss, real certificates made
// by openssl for this run, real device tokens; and the operator revoking a live device.
let pki: TestPki;
let work: string;
beforeAll(() => {
  pki = makeTestPki();
  work = mkdtempSync(join(tmpdir(), 'ingest-tls-'));
});
afterAll(() => {
  pki.remove();
  rmSync(work, { recursive: true, force: true });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startNode(clientCa = false) {
  const tls = await brokerTlsOptions({
    certFile: pki.files.serverCert,
    keyFile: pki.files.serverKey,
    ...(clientCa ? { clientCaFile: pki.files.caCert } : {}),
  });
  const node = await IngestNode.start({
    dataDir: mkdtempSync(join(work, 'node-')),
    mqtt: { host: '127.0.0.1', port: 0 },
    brokerListeners: [
      { kind: 'mqtts', host: '127.0.0.1', port: 0, tls },
      { kind: 'ws', host: '127.0.0.1', port: 0 },
      { kind: 'wss', host: '127.0.0.1', port: 0, tls },
    ],
    http: { host: '127.0.0.1', port: 0 },
    checkpointIntervalMs: 100,
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(() => node.stop());
  const url = (kind: 'mqtt' | 'mqtts' | 'ws' | 'wss') =>
    node.broker!.listeners.find((l) => l.kind === kind)!.url;
  return { node, url };
}

async function enrol(node: IngestNode): Promise<DeviceKey> {
  const key = generateDeviceKey();
  const { token } = await node.enrolment.issueToken(VIN);
  await node.enrolment.register({
    token,
    vin: VIN,
    publicKey: key.publicKey,
    proof: signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey),
  });
  return key;
}

/** The device side: an outbox of real signed batches, receipts verified with the node's key. */
function device(node: IngestNode, key: DeviceKey) {
  const outbox = OutboxStore.open({
    path: join(mkdtempSync(join(work, 'outbox-')), 'outbox.db'),
    deviceId: key.deviceId,
    quotaBytes: 1 << 20,
    resendAfterMs: 5_000,
  });
  cleanups.push(() => outbox.close());
  const receiptKey = ed25519PublicKeyFromRaw(Buffer.from(node.keys.receiptPublicKey, 'base64'));
  const append = (n: number) => {
    for (let i = 0; i < n; i++) {
      const head = outbox.chainHead();
      const time = Date.now();
      const bytes = signBatch(
        buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq: head.nextSeq, prev: head.prevHash, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time, value: 42 }] }),
        key,
      ); // prettier-ignore
      outbox.appendBatch({ seq: head.nextSeq, hash: batchHash(bytes), prev: head.prevHash, bytes, kind: 'routine', sampleCount: 1, firstTime: time, lastTime: time }); // prettier-ignore
    }
  };
  const transport = (url: string, options: Partial<MqttBatchTransportOptions> = {}) => {
    const t = new MqttBatchTransport({
      url,
      deviceId: key.deviceId,
      password: () => createMqttToken(key.deviceId, key.privateKey),
      outbox,
      onReceiptMessage: (bytes) => {
        const v = verifyNodeMessage(bytes, receiptKey);
        if (!v.ok || v.value.type !== 'receipt') throw new Error('not a valid receipt');
        outbox.markReceipted(v.value.seq, v.value.batchHash, bytes, { logIndex: v.value.leafIndex }); // prettier-ignore
      },
      backoff: { baseMs: 50, capMs: 200 },
      connectTimeoutMs: 3_000,
      ...options,
    });
    const problems: TransportError[] = [];
    t.on('problem', (p) => problems.push(p));
    cleanups.push(() => t.stop());
    return { t, problems };
  };
  return { outbox, append, transport };
}

function rawConnect(url: string, username: string, password: Uint8Array, ca?: string) {
  return mqtt.connectAsync(url, {
    username,
    password: Buffer.from(password),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 3_000,
    ...(ca ? { ca } : {}),
  });
}

describe('ingest node: TLS and WebSocket listeners', () => {
  it('receipts batches the agent transport sends over mqtts and over wss', async () => {
    const { node, url } = await startNode();
    const key = await enrol(node);
    const d = device(node, key);
    const tls = { ca: pki.pem.caCert };
    for (const kind of ['mqtts', 'wss'] as const) {
      d.append(3);
      const { t } = d.transport(url(kind), { tls });
      t.start();
      await expect.poll(() => d.outbox.stats().depth, { timeout: 15_000 }).toBe(0);
      expect(t.counters.connects, kind).toBe(1);
      await t.stop();
    }
    expect((await node.store.getDevice(key.deviceId))?.nextSeq).toBe(6);
    expect(d.outbox.receiptOf(5)?.logIndex).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a node certificate from the wrong CA, and a bad token on every listener', async () => {
    const { node, url } = await startNode();
    const key = await enrol(node);
    const d = device(node, key);
    d.append(1);
    const { t, problems } = d.transport(url('wss'), { tls: { ca: pki.pem.otherCaCert } });
    t.start();
    await expect.poll(() => problems.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await t.stop();
    expect(t.counters.connects).toBe(0);
    expect(problems[0]!.message).toMatch(/certificate/i);

    const impostor = generateDeviceKey();
    for (const kind of ['mqtt', 'mqtts', 'ws', 'wss'] as const) {
      const ca = kind === 'mqtts' || kind === 'wss' ? pki.pem.caCert : undefined;
      // A well-formed token, signed by a key that is not the device's.
      await expect(rawConnect(url(kind), key.deviceId, createMqttToken(key.deviceId, impostor.privateKey), ca), kind).rejects.toThrow(/Bad username or password/); // prettier-ignore
      // A replayed token: valid once, refused the second time.
      const token = createMqttToken(key.deviceId, key.privateKey);
      const ok = await rawConnect(url(kind), key.deviceId, token, ca);
      await ok.endAsync(true);
      await expect(rawConnect(url(kind), key.deviceId, token, ca), `${kind} replay`).rejects.toThrow(/Bad username or password/); // prettier-ignore
    }
    const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/enginechain_ingest_rejections_total\{reason="bad-credentials"\} 8/);
  }, 60_000);

  it('with a client CA, needs a device certificate as well as the token', async () => {
    const { node, url } = await startNode(true);
    const key = await enrol(node);
    const d = device(node, key);
    d.append(2);
    const bare = d.transport(url('mqtts'), { tls: { ca: pki.pem.caCert } });
    bare.t.start();
    await expect.poll(() => bare.problems.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await bare.t.stop();
    expect(bare.t.counters.connects).toBe(0);
    const { t } = d.transport(url('wss'), {
      tls: { ca: pki.pem.caCert, cert: pki.pem.clientCert, key: pki.pem.clientKey },
    });
    t.start();
    await expect.poll(() => d.outbox.stats().depth, { timeout: 15_000 }).toBe(0);
  }, 60_000);
});

describe('device revocation by the operator', () => {
  it('revokes a connected device: logged, disconnected at once, later connects and batches refused', async () => {
    const { node, url } = await startNode();
    const key = await enrol(node);
    const other = await enrol(node);
    const d = device(node, key);
    d.append(2);
    const { t, problems } = d.transport(url('wss'), { tls: { ca: pki.pem.caCert } });
    const disconnects: string[] = [];
    t.on('disconnected', (e) => disconnects.push(e.reason));
    t.start();
    await expect.poll(() => d.outbox.stats().depth, { timeout: 15_000 }).toBe(0);
    expect(node.broker!.connectedDevices()).toEqual([key.deviceId]);

    const revocation = await node.deviceAdmin.revoke(key.deviceId, 'gateway reported stolen');
    expect(revocation.sessionsClosed).toBe(1);
    await expect.poll(() => disconnects.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    expect(node.broker!.connectedDevices()).toEqual([]);

    // The revocation is a leaf of the log, and the next checkpoint covers it.
    const leaf = await node.store.logEntry(revocation.leafIndex);
    expect(decodeLogEntry(leaf!.entry)).toMatchObject({ type: 'revocation', deviceId: key.deviceId, reason: 'gateway reported stolen' }); // prettier-ignore
    await expect.poll(() => node.sidechain.latestCheckpoint?.treeSize ?? 0, { timeout: 5_000 }).toBeGreaterThan(revocation.leafIndex); // prettier-ignore

    // The transport keeps trying; every attempt is refused by the broker.
    await expect.poll(() => problems.filter((p) => p.code === 'connect-refused').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1); // prettier-ignore
    expect(t.connected).toBe(false);
    await t.stop();
    await expect(rawConnect(url('mqtt'), key.deviceId, createMqttToken(key.deviceId, key.privateKey))).rejects.toThrow(/Bad username or password|Not authorized/); // prettier-ignore

    // A batch that still reaches the pipeline (an external broker, one in flight) is refused.
    const head = d.outbox.chainHead();
    const late = signBatch(buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq: head.nextSeq, prev: head.prevHash, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: Date.now(), value: 1 }] }), key); // prettier-ignore
    node.receive(key.deviceId, late);
    await expect.poll(async () => (await node.store.rejectionCounts())['revoked-device'], { timeout: 5_000 }).toBe(1); // prettier-ignore
    expect((await node.store.getDevice(key.deviceId))?.nextSeq).toBe(2);

    expect((await node.deviceAdmin.list({ status: 'active' })).map((x) => x.deviceId)).toEqual([other.deviceId]); // prettier-ignore
  }, 60_000);

  // The routes as mounted on the running node, behind every hook of its HTTP app; the
  // operator's token is the one the node wrote to its data folder at first start.
  it('serves the operator routes on the node: refused without the token, list and revoke with it', async () => {
    const { node } = await startNode();
    const key = await enrol(node);
    const operatorToken = readFileSync(node.operatorTokenFile, 'utf8').trim();
    const revoke = (authorization?: string) =>
      fetch(`${node.httpUrl}/v1/operator/devices/${key.deviceId}/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ reason: 'gateway reported stolen' }),
      });
    // The real token with its last character changed (to anything but what it was).
    const altered = `${operatorToken.slice(0, -1)}${operatorToken.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [undefined, 'Bearer ecop_wrong', `Bearer ${altered}`]) {
      const res = await revoke(bad);
      expect(res.status, String(bad)).toBe(401);
    }
    expect((await node.store.getDevice(key.deviceId))?.status).toBe('active');
    const res = await revoke(`Bearer ${operatorToken}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ deviceId: key.deviceId, sessionsClosed: 0 });
    const list = await fetch(`${node.httpUrl}/v1/operator/devices`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    expect(((await list.json()) as { devices: unknown[] }).devices).toMatchObject([
      { deviceId: key.deviceId, status: 'revoked', connected: false },
    ]);
  }, 60_000);
});
