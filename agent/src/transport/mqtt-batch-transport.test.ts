import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backoffDelay, signNodeMessage, verifyNodeMessage } from '@enginechain/shared';
import type { Client } from 'aedes';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OutboxStore, type OutboxBatchKind } from '../outbox/outbox-store.js';
import { chainedBatch } from '../outbox/test-batches.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import {
  MqttBatchTransport,
  type MqttBatchTransportOptions,
  type OutboxSendQueue,
} from './mqtt-batch-transport.js';
import { startAedes, startFakeIngest, waitFor, type FakeIngest } from './test-brokers.js';

const DEVICE = '00112233445566778899aabbccddeeff';
const dir = mkdtempSync(join(tmpdir(), 'transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything a test starts, stopped in reverse order afterwards. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let files = 0;
function outboxWith(kinds: OutboxBatchKind[]): OutboxStore {
  const store = OutboxStore.open({
    path: join(dir, `outbox-${++files}.db`),
    deviceId: DEVICE,
    quotaBytes: 1 << 20,
    resendAfterMs: 60_000,
  });
  cleanups.push(() => store.close());
  for (const kind of kinds) store.appendBatch(chainedBatch(store.chainHead(), kind, 300));
  return store;
}

/** The device side: verifies each receipt with the node's key, then marks it receipted. */
function receiptHandler(outbox: OutboxStore, ingest: FakeIngest) {
  return (bytes: Uint8Array) => {
    const verdict = verifyNodeMessage(bytes, ingest.receiptPublicKey);
    if (!verdict.ok || verdict.value.type !== 'receipt') throw new Error('not a valid receipt');
    const r = verdict.value;
    outbox.markReceipted(r.seq, r.batchHash, bytes, { logIndex: r.leafIndex });
  };
}

function transport(options: Partial<MqttBatchTransportOptions> & { url: string }) {
  const t = new MqttBatchTransport({
    deviceId: DEVICE,
    password: () => 'token',
    outbox: outboxWith([]),
    onReceiptMessage: () => {},
    backoff: { baseMs: 20, capMs: 200 },
    ...options,
  });
  const problems: TransportError[] = [];
  t.on('problem', (p) => problems.push(p));
  cleanups.push(() => t.stop());
  return { t, problems };
}

describe('MqttBatchTransport with aedes 1.2 (MQTT 3.1.1 only)', () => {
  it('falls back to 3.1.1 and leaves batches in the outbox until their receipts arrive', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const ingest = await startFakeIngest(broker.url, DEVICE);
    cleanups.push(() => ingest.close());
    ingest.answering = false;
    const kinds: OutboxBatchKind[] = ['routine', 'event', 'routine', 'trace', 'routine', 'event'];
    const outbox = outboxWith([...kinds, ...kinds, ...kinds]);
    const maxInFlight = 4;
    let overLimit = 0;
    const { t, problems } = transport({
      url: broker.url,
      maxInFlight,
      outbox: {
        nextToSend: (limit) => {
          if (limit + t.awaitingPubackCount > maxInFlight) overLimit++;
          return outbox.nextToSend(limit);
        },
        releaseInFlight: (seqs) => outbox.releaseInFlight(seqs),
      },
      onReceiptMessage: receiptHandler(outbox, ingest),
    });
    const connected = once(t, 'connected');
    t.start();
    expect((await connected)[0]).toEqual({ protocolVersion: 4, sessionPresent: false });
    expect(t.mqttVersion).toBe(4);
    expect(problems[0]?.code).toBe('connect-refused');

    await waitFor(
      () => t.counters.published === 18 && ingest.received.length === 18,
      10_000,
      'PUBACKs',
    );
    // PUBACK is not completion: every batch is still stored.
    expect(outbox.stats().depth).toBe(18);
    expect(overLimit).toBe(0);
    // Traces, then events, then routine, each by seq (test batches carry 0, 1, 2 as kind).
    const arrived = ingest.received.map((b) => [b.kind, b.seq]);
    expect(arrived).toEqual([...arrived].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!));

    await ingest.answerPending();
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'receipts');
    expect(t.counters.receiptMessages).toBe(18);
    expect(t.counters.lastReceiptMessageAt).toBeGreaterThan(0);
    for (let seq = 0; seq < 18; seq++) expect(outbox.receiptOf(seq)?.logIndex).toBeTypeOf('number');
    // Nothing is sent twice while its resend timeout runs.
    expect(ingest.received).toHaveLength(18);
  });

  it('calls the password provider for every CONNECT and uses the device id as user and client', async () => {
    const seen: { clientId: string; username?: string; password?: string }[] = [];
    const broker = await startAedes({
      authenticate: (client, username, password, done) => {
        seen.push({ clientId: client.id, username, password: password?.toString() });
        done(null, true);
      },
    });
    cleanups.push(() => broker.close());
    let calls = 0;
    const { t } = transport({ url: broker.url, password: async () => `token-${calls++}` });
    const first = once(t, 'connected');
    t.start();
    await first;
    const again = once(t, 'connected');
    (broker.aedes as unknown as { clients: Record<string, Client> }).clients[DEVICE]?.close();
    await again;
    // Attempt 0 was MQTT 5 (refused before authentication), then one CONNECT per connection.
    expect(calls).toBe(3);
    expect(seen).toEqual([
      { clientId: DEVICE, username: DEVICE, password: 'token-1' },
      { clientId: DEVICE, username: DEVICE, password: 'token-2' },
    ]);
    expect(t.counters).toMatchObject({ connects: 2, reconnects: 2 });
  });

  it('retries with backoff when the password provider fails', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    let calls = 0;
    const { t, problems } = transport({
      url: broker.url,
      password: () => {
        if (calls++ === 0) throw new Error('key file unreadable');
        return 'token';
      },
    });
    const connected = once(t, 'connected');
    t.start();
    await connected;
    expect(problems[0]?.code).toBe('password-failed');
  });

  it('tolerates a refused control subscription and keeps draining (the node ACL today)', async () => {
    const broker = await startAedes({
      authorizeSubscribe: (_client, sub, done) =>
        done(null, sub.topic.endsWith('/control') ? null : sub),
    });
    cleanups.push(() => broker.close());
    const ingest = await startFakeIngest(broker.url, DEVICE);
    cleanups.push(() => ingest.close());
    const outbox = outboxWith(['event', 'routine']);
    const { t, problems } = transport({
      url: broker.url,
      outbox,
      onReceiptMessage: receiptHandler(outbox, ingest),
    });
    t.start();
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'receipts');
    expect(t.connected).toBe(true);
    expect(problems.map((p) => p.code)).toContain('subscribe-refused');
    expect(problems.find((p) => p.code === 'subscribe-refused')?.message).toContain('/control');
  });

  it('drops the connection and backs off when the receipt subscription is refused', async () => {
    const broker = await startAedes({
      authorizeSubscribe: (_client, sub, done) =>
        done(null, sub.topic.endsWith('/receipt') ? null : sub),
    });
    cleanups.push(() => broker.close());
    const { t, problems } = transport({ url: broker.url });
    t.start();
    // The refusal of a connection is reported just after its CONNACK: wait for both.
    const refusals = () => problems.filter((p) => p.code === 'subscribe-refused').length;
    await waitFor(
      () => t.counters.connects >= 2 && refusals() >= 2,
      10_000,
      'two refused connections',
    );
    expect(refusals()).toBeGreaterThanOrEqual(2);
  });

  it('hands control and receipt messages over as bytes, and survives a throwing handler', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const ingest = await startFakeIngest(broker.url, DEVICE);
    cleanups.push(() => ingest.close());
    const control: Uint8Array[] = [];
    const { t, problems } = transport({
      url: broker.url,
      onControlMessage: (m) => void control.push(m),
      onReceiptMessage: () => {
        throw new Error('verifier exploded');
      },
    });
    const connected = once(t, 'connected');
    t.start();
    await connected; // both subscriptions are in place once 'connected' fires
    const { privateKey } = generateKeyPairSync('ed25519');
    const resend = signNodeMessage({ type: 'resend', deviceId: DEVICE, seqs: [3, 4] }, privateKey);
    await ingest.send(t.topics.control, resend);
    await ingest.send(t.topics.receipt, new Uint8Array([1, 2, 3]));
    await waitFor(() => control.length === 1 && t.counters.receiptMessages === 1);
    expect(control[0]).toEqual(resend);
    await waitFor(() => problems.some((p) => p.code === 'receipt-handler-failed'));
    expect(t.connected).toBe(true);
  });

  it('publishes a new batch at once after wake(), without waiting for the poll', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const ingest = await startFakeIngest(broker.url, DEVICE);
    cleanups.push(() => ingest.close());
    const outbox = outboxWith([]);
    const { t } = transport({
      url: broker.url,
      outbox,
      pollIntervalMs: 600_000,
      onReceiptMessage: receiptHandler(outbox, ingest),
    });
    const connected = once(t, 'connected');
    t.start();
    await connected;
    outbox.appendBatch(chainedBatch(outbox.chainHead(), 'event', 300));
    t.wake();
    await waitFor(() => outbox.stats().depth === 0, 5_000, 'receipt after wake');
  });

  it('stops promptly while a broker never answers CONNECT', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s: Socket) => void sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const port = (server.address() as { port: number }).port;
    const { t } = transport({ url: `mqtt://127.0.0.1:${port}`, connectTimeoutMs: 60_000 });
    t.start();
    await waitFor(() => sockets.length === 1, 5_000, 'the CONNECT');
    const started = performance.now();
    await t.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
    await t.stop(); // idempotent
    expect(t.connected).toBe(false);
  });

  it('waits backoffDelay(attempt) with full jitter between attempts (injected random)', async () => {
    const attemptsAt: number[] = [];
    const server = createServer((socket: Socket) => {
      attemptsAt.push(performance.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const draws = [0.9, 0.25, 0.99, 0.6, 0.95, 0.8];
    let i = 0;
    const backoff = { baseMs: 40, capMs: 300, random: () => draws[i++ % draws.length]! };
    const { t } = transport({ url: `mqtt://127.0.0.1:${port}`, backoff });
    const scheduled: { attempt: number; delayMs: number }[] = [];
    t.on('reconnect-scheduled', (s) => scheduled.push(s));
    t.start();
    await waitFor(() => attemptsAt.length >= 6, 10_000, 'six attempts');
    await t.stop();
    let j = 0;
    const replay = { ...backoff, random: () => draws[j++ % draws.length]! };
    const expected = [0, 1, 2, 3, 4].map((attempt) => ({
      attempt,
      delayMs: backoffDelay(attempt, replay),
    }));
    expect(scheduled.slice(0, 5)).toEqual(expected);
    expect(expected.map((e) => e.delayMs)).toEqual([36, 20, 158, 180, 285]);
    for (let k = 0; k < 5; k++) {
      const gap = attemptsAt[k + 1]! - attemptsAt[k]!;
      expect(gap).toBeGreaterThanOrEqual(expected[k]!.delayMs - 2);
    }
    expect(t.counters.reconnects).toBeGreaterThanOrEqual(5);
  });

  it('connects with mutual TLS to mqtts:// and refuses a broker its CA did not sign', async (ctx) => {
    let pki: ReturnType<typeof makePki>;
    try {
      pki = makePki(mkdtempSync(join(dir, 'pki-')));
    } catch (err) {
      ctx.skip(`openssl is not usable here: ${String(err)}`);
      return;
    }
    const broker = await startAedes(
      {},
      {
        key: pki.serverKey,
        cert: pki.serverCert,
        ca: pki.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
    );
    cleanups.push(() => broker.close());
    const ingestTls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    // The fake ingest reuses the client certificate: the broker only checks the CA signed it.
    const ingest = await startFakeIngest(broker.url, DEVICE, ingestTls);
    cleanups.push(() => ingest.close());
    const outbox = outboxWith(['trace']);
    const { t } = transport({
      url: broker.url,
      outbox,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
      onReceiptMessage: receiptHandler(outbox, ingest),
    });
    t.start();
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'receipt over TLS');

    const { t: noClientCert, problems } = transport({ url: broker.url, tls: { ca: pki.ca } });
    noClientCert.start();
    await waitFor(() => problems.some((p) => p.code === 'connect-failed'), 10_000, 'refusal');
    const { t: wrongCa, problems: p2 } = transport({
      url: broker.url,
      tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey },
    });
    wrongCa.start();
    await waitFor(() => p2.some((p) => p.code === 'connect-failed'), 10_000, 'refusal');
    expect(noClientCert.counters.connects + wrongCa.counters.connects).toBe(0);
  });
});

describe('MqttBatchTransport options', () => {
  const base = () => ({
    url: 'mqtt://127.0.0.1:1883',
    deviceId: DEVICE,
    password: () => 'x',
    outbox: { nextToSend: () => [], releaseInFlight: () => {} } as OutboxSendQueue,
    onReceiptMessage: () => {},
  });
  const codeOf = (patch: Record<string, unknown>): TransportErrorCode | 'no error' => {
    try {
      new MqttBatchTransport({ ...base(), ...patch } as MqttBatchTransportOptions);
    } catch (err) {
      if (err instanceof TransportError) return err.code;
      throw err;
    }
    return 'no error';
  };

  it('refuses plaintext to a host that is not loopback unless allowPlaintext', () => {
    expect(codeOf({ url: 'mqtt://192.0.2.10:1883' })).toBe('plaintext-refused');
    expect(codeOf({ url: 'ws://ingest.example.org/mqtt' })).toBe('plaintext-refused');
    expect(codeOf({ url: 'mqtt://192.0.2.10:1883', allowPlaintext: true })).toBe('no error');
    expect(codeOf({ url: 'mqtts://ingest.example.org:8883' })).toBe('no error');
    expect(codeOf({ url: 'wss://ingest.example.org/mqtt' })).toBe('no error');
    expect(codeOf({ url: 'mqtt://localhost:1883' })).toBe('no error');
    expect(codeOf({ url: 'http://ingest.example.org' })).toBe('unsupported-url');
  });

  it.each([
    ['deviceId', 'Device-1'],
    ['password', 'secret'],
    ['outbox', {}],
    ['onReceiptMessage', undefined],
    ['onControlMessage', 5],
    ['maxInFlight', 0],
    ['keepaliveSeconds', 1.5],
    ['pollIntervalMs', -1],
    ['backoff', { baseMs: 10, capMs: 5 }],
  ])('refuses a bad %s naming it', (field, value) => {
    expect(
      () => new MqttBatchTransport({ ...base(), [field]: value } as MqttBatchTransportOptions),
    ).toThrow(
      expect.objectContaining({ code: 'bad-input', message: expect.stringContaining(field) }),
    );
  });
});

/** A throwaway PKI made with the openssl CLI: CA, server cert for 127.0.0.1, client cert. */
function makePki(pkiDir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: pkiDir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  );
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '1',
    '-subj',
    '/CN=other-ca',
  );
  writeFileSync(join(pkiDir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(join(pkiDir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', DEVICE],
  ] as const) {
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`); // prettier-ignore
  }
  const read = (f: string) => readFileSync(join(pkiDir, f), 'utf8');
  return {
    ca: read('ca.pem'),
    otherCa: read('other.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
  };
}
