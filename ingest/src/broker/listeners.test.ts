import { writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startEmbeddedBroker, type BrokerRefusal, type EmbeddedBroker } from './embedded-broker.js';
import { BrokerError } from './errors.js';
import { checkListenerSpec, isLoopbackHost, type BrokerListenerKind } from './listeners.js';
import { MAX_MQTT_PACKET_BYTES } from './packet-size-limit.js';
import { makeTestPki, type TestPki } from './test-pki.js';
import { brokerTlsOptions } from './tls-material.js';
import { ALL_BATCHES, batchTopic, receiptTopic } from './topics.js';

const A = 'a'.repeat(32);

// As in embedded-broker.test.ts: a fixed secret per device stands in for the signed token, so
// these tests are about transports; the e2e test (test/e2e/ingest-tls.test.ts) uses real tokens.
const authenticator = {
  async authenticate(username: string, password: Uint8Array) {
    return Buffer.from(password).toString() === `secret-${username}`
      ? ({ ok: true, deviceId: username } as const)
      : ({ ok: false, code: 'token-bad-signature', reason: 'wrong secret' } as const);
  },
};

function connect(url: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      username: A,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3_000,
      ...extra,
    });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());

describe('broker listeners: mqtt, mqtts, ws, wss on one aedes', () => {
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  const refusals: BrokerRefusal[] = [];
  const reasons: string[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.close();
    broker = undefined;
    refusals.length = 0;
    reasons.length = 0;
  });

  async function start(clientCa = false) {
    const tls = await brokerTlsOptions({
      certFile: pki.files.serverCert,
      keyFile: pki.files.serverKey,
      ...(clientCa ? { clientCaFile: pki.files.caCert } : {}),
    });
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      listeners: [
        { kind: 'mqtts', host: '127.0.0.1', port: 0, tls },
        { kind: 'ws', host: '127.0.0.1', port: 0 },
        { kind: 'wss', host: '127.0.0.1', port: 0, tls },
      ],
      authenticator,
      onRefusal: (kind, detail) => {
        refusals.push(kind);
        reasons.push(detail.reason);
      },
    });
    const got: string[] = [];
    const b = broker;
    await new Promise<void>((resolve) =>
      b.aedes.subscribe(ALL_BATCHES, (p, cb) => (got.push(p.payload.toString()), cb()), resolve),
    );
    const url = (kind: BrokerListenerKind) => b.listeners.find((l) => l.kind === kind)!.url;
    return { b, got, url };
  }

  it('carries a batch and a receipt over every listener and refuses a bad password on each', async () => {
    const { b, got, url } = await start();
    expect(b.listeners.map((l) => l.kind)).toEqual(['mqtt', 'mqtts', 'ws', 'wss']);
    expect(url('ws')).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    const trust = { ca: pki.pem.caCert };
    for (const kind of ['mqtt', 'mqtts', 'ws', 'wss'] as const) {
      const tls = kind === 'mqtts' || kind === 'wss' ? trust : {};
      await expect(connect(url(kind), 'wrong', tls), kind).rejects.toThrow(
        /Bad username or password/,
      );
      const c = await connect(url(kind), `secret-${A}`, tls);
      clients.push(c);
      const receipts: string[] = [];
      c.on('message', (_t, p) => receipts.push(p.toString()));
      await c.subscribeAsync(receiptTopic(A), { qos: 1 });
      await c.publishAsync(batchTopic(A), `batch over ${kind}`, { qos: 1 });
      await expect.poll(() => got).toContain(`batch over ${kind}`);
      b.aedes.publish({ cmd: 'publish', topic: receiptTopic(A), payload: Buffer.from(`receipt ${kind}`), qos: 1, retain: false, dup: false }, () => {}); // prettier-ignore
      await expect.poll(() => receipts).toEqual([`receipt ${kind}`]);
      // The ACL is the broker's, not the listener's.
      await expect(c.subscribeAsync(receiptTopic('b'.repeat(32)), { qos: 1 })).rejects.toThrow(/Subscribe error/); // prettier-ignore
      await c.endAsync(true);
    }
    expect(refusals.filter((r) => r === 'bad-credentials')).toHaveLength(4);
    expect(refusals.filter((r) => r === 'subscribe-denied')).toHaveLength(4);
    // A browser or curl hitting the WebSocket port is told what it speaks.
    const res = await fetch(url('ws').replace(/^ws/, 'http'));
    expect(res.status).toBe(426);
  });

  it('refuses a server whose certificate the client does not trust (wrong CA)', async () => {
    const { url } = await start();
    for (const kind of ['mqtts', 'wss'] as const) {
      await expect(connect(url(kind), `secret-${A}`, { ca: pki.pem.otherCaCert }), kind).rejects.toThrow(/certificate/i); // prettier-ignore
      await expect(connect(url(kind), `secret-${A}`), kind).rejects.toThrow(/certificate/i);
    }
  });

  it('with a client CA, demands a device certificate signed by it on mqtts and wss', async () => {
    const { url, got } = await start(true);
    for (const kind of ['mqtts', 'wss'] as const) {
      const trust = { ca: pki.pem.caCert };
      await expect(connect(url(kind), `secret-${A}`, trust), `${kind} no cert`).rejects.toThrow();
      await expect(connect(url(kind), `secret-${A}`, { ...trust, cert: pki.pem.otherClientCert, key: pki.pem.otherClientKey }), `${kind} other CA`).rejects.toThrow(); // prettier-ignore
      const c = await connect(url(kind), `secret-${A}`, { ...trust, cert: pki.pem.clientCert, key: pki.pem.clientKey }); // prettier-ignore
      clients.push(c);
      await c.publishAsync(batchTopic(A), `mtls ${kind}`, { qos: 1 });
      await expect.poll(() => got).toContain(`mtls ${kind}`);
      // A certificate is not a password: the token is still required.
      await expect(connect(url(kind), 'wrong', { ...trust, cert: pki.pem.clientCert, key: pki.pem.clientKey })).rejects.toThrow(/Bad username or password/); // prettier-ignore
    }
    await expect.poll(() => refusals.filter((r) => r === 'tls-refused').length).toBeGreaterThanOrEqual(4); // prettier-ignore
  });

  it('closes a connection whose packet header declares more than the limit, before its body, on every listener', async () => {
    const { b, url, got } = await start();
    // No CONNECT first: a stranger must not make the node buffer a 100 MB packet either.
    const header = Uint8Array.from([0x30, 0x80, 0xad, 0xe2, 0x2f]); // PUBLISH of about 100 MB
    const body = new Uint8Array(64 * 1024).fill(0x61);
    for (const kind of ['mqtt', 'mqtts', 'ws', 'wss'] as const) {
      const { hostname, port } = new URL(url(kind));
      const closed = await new Promise<number>((resolve, reject) => {
        let sent = 0;
        if (kind === 'ws' || kind === 'wss') {
          const ws = new WebSocket(url(kind), 'mqtt', { ca: pki.pem.caCert });
          ws.on('open', () => {
            ws.send(header);
            // Then the body in small messages, each well under the WebSocket message limit.
            const more = () => ws.readyState === WebSocket.OPEN && (ws.send(body, () => (sent += body.length)), setTimeout(more, 5));
            more();
          });
          ws.on('close', () => resolve(sent));
          ws.on('error', reject);
          return;
        }
        const socket = kind === 'mqtt' ? connectTcp(Number(port), hostname) : connectTls({ host: hostname, port: Number(port), ca: pki.pem.caCert, servername: 'localhost' });
        socket.once(kind === 'mqtt' ? 'connect' : 'secureConnect', () => {
          socket.write(header);
          const more = () => !socket.destroyed && (socket.write(body, () => (sent += body.length)), setTimeout(more, 5));
          more();
        });
        socket.on('close', () => resolve(sent));
        socket.on('error', () => {});
      });
      expect(closed, kind).toBeLessThan(20 * body.length);
    }
    expect(refusals.filter((r) => r === 'packet-too-large')).toHaveLength(4);
    expect(reasons.filter((r) => r.startsWith('packet of'))).toEqual(Array(4).fill('packet of 100177541 bytes declared, over the 327680-byte limit, from 127.0.0.1'));
    // A packet just under the limit still reaches the node (the pipeline refuses an oversized
    // batch itself, as too-large against its device).
    for (const kind of ['mqtt', 'ws'] as const) {
      const c = await connect(url(kind), `secret-${A}`);
      clients.push(c);
      const payload = Buffer.alloc(MAX_MQTT_PACKET_BYTES - 1_024, kind);
      await c.publishAsync(batchTopic(A), payload, { qos: 1 });
      await expect.poll(() => got.some((g) => g.length === payload.length && g.startsWith(kind))).toBe(true);
      await c.endAsync(true);
    }
    await expect.poll(() => b.aedes.connectedClients).toBe(0);
  }); // prettier-ignore

  it('evicts a device at once on every listener and refuses it afterwards', async () => {
    const { b, url } = await start();
    const ws = await connect(url('ws'), `secret-${A}`);
    const tcp = await connect(url('mqtt'), `secret-${A}`, { clientId: 'second-session' });
    clients.push(ws, tcp);
    await expect.poll(() => b.aedes.connectedClients).toBe(2);
    expect(b.connectedDevices()).toEqual([A]);
    const closed = Promise.all(
      [ws, tcp].map((c) => new Promise<void>((r) => c.once('close', () => r()))),
    );
    expect(b.evictDevice(A)).toBe(2);
    await closed;
    expect(b.connectedDevices()).toEqual([]);
    await expect(connect(url('wss'), `secret-${A}`, { ca: pki.pem.caCert })).rejects.toThrow(/Not authorized/i); // prettier-ignore
    expect(b.evictDevice(A)).toBe(0);
  });
});

describe('listener configuration', () => {
  it('refuses plaintext off loopback unless allowed, and TLS without cert and key', async () => {
    for (const kind of ['mqtt', 'ws'] as const) {
      for (const host of ['0.0.0.0', '::', '192.168.1.10', 'broker.example']) {
        expect(() => checkListenerSpec({ kind, host, port: 1883 })).toThrow(
          expect.objectContaining({ code: 'plaintext-refused' }),
        );
        expect(() => checkListenerSpec({ kind, host, port: 1883 }, true)).not.toThrow();
      }
      for (const host of ['127.0.0.1', '127.8.9.1', '::1', 'localhost', '[::1]'])
        expect(() => checkListenerSpec({ kind, host, port: 0 })).not.toThrow();
    }
    for (const kind of ['mqtts', 'wss'] as const) {
      expect(() => checkListenerSpec({ kind, host: '0.0.0.0', port: 8883 })).toThrow(
        expect.objectContaining({ code: 'bad-listener' }),
      );
    }
    const bad: unknown[] = [
      null,
      { kind: 'http', host: '127.0.0.1', port: 0 },
      { kind: 'mqtt', host: '', port: 0 },
      { kind: 'mqtt', host: '127.0.0.1', port: 70_000 },
      { kind: 'mqtt', host: '127.0.0.1', port: 1.5 },
    ];
    for (const spec of bad) expect(() => checkListenerSpec(spec as never)).toThrow(BrokerError);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    // The broker refuses before binding anything.
    await expect(
      startEmbeddedBroker({ host: '0.0.0.0', port: 0, authenticator }),
    ).rejects.toMatchObject({ code: 'plaintext-refused' });
  });

  it('checks TLS files at startup: missing, not PEM, key of another certificate', async () => {
    const f = pki.files;
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const cases = [
      { certFile: join(pki.dir, 'missing.crt'), keyFile: f.serverKey },
      { certFile: junk, keyFile: f.serverKey },
      { certFile: f.serverCert, keyFile: junk },
      { certFile: f.serverCert, keyFile: f.clientKey },
      { certFile: f.serverCert, keyFile: f.serverKey, clientCaFile: junk },
    ];
    for (const c of cases)
      await expect(brokerTlsOptions(c), JSON.stringify(c)).rejects.toMatchObject({ code: 'tls-material' }); // prettier-ignore
    const ok = await brokerTlsOptions({ certFile: f.serverCert, keyFile: f.serverKey, clientCaFile: f.caCert }); // prettier-ignore
    expect(ok).toMatchObject({
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
  });

  it('reports a port in use as listen-failed and leaves nothing behind', async () => {
    const first = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, authenticator });
    const port = first.listeners[0]!.port;
    await expect(
      startEmbeddedBroker({ host: '127.0.0.1', port: 0, authenticator, listeners: [{ kind: 'ws', host: '127.0.0.1', port }] }),
    ).rejects.toMatchObject({ code: 'listen-failed' }); // prettier-ignore
    await first.close();
  });
});
