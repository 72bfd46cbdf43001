/**
 * Issue 6: every refusal of the ingestion node with a hostile input, through a real node and a
 * real broker. Each one must come with its typed code, a log line naming it and a metric served
 * at /metrics, and must leave everything already accepted as it was.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  CborTag,
  COSE_HEADER,
  createMqttToken,
  decodeBatch,
  decodeCbor,
  encodeCbor,
  enrolmentProofMessage,
  generateDeviceKey,
  signBatch,
  signCoseSign1,
  signEs256k,
  ZERO_HASH,
  type BatchSample,
  type CborKey,
  type CborValue,
  type DeviceKey,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../../agent/src/transport/test-brokers.js';
import { connectDevice as connectDeviceAs } from '../../ingest/src/node/test-node.js';

const VIN = '1HGCM82633A004352';
const OTHER_VIN = '1M8GDM9AXKP042788';
const T0 = Date.now();

type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A node whose log lines are kept, parsed, for the test to read. */
async function startNode(options: { externalBroker?: { url: string } } = {}) {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  const node = await IngestNode.start({
    dataDir: mkdtempSync(join(tmpdir(), 'enginechain-hostile-')),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    checkpointIntervalMs: 50,
    verifierThreads: 1,
    logger: pino({ level: 'info' }, sink),
    ...options,
  });
  /** One sample of a Prometheus metric from /metrics (0 when not yet counted). */
  const metric = async (name: string, labels = ''): Promise<number> => {
    const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  return { node, lines, metric };
}

async function enrol(node: IngestNode, key: DeviceKey, vin = VIN): Promise<void> {
  const { token } = await node.enrolment.issueToken(vin, 'fleet-hostile');
  const proof = signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey);
  await node.enrolment.register({ token, vin, publicKey: key.publicKey, proof });
}

function samplesAt(start: number, value: number): BatchSample[] {
  return [0, 100, 200].map((dt) => ({
    name: 'Vehicle.Speed',
    unit: 'km/h',
    time: start + dt,
    value: value + dt / 1000,
  }));
}

/** A signed batch; `start` defaults to a second per seq after T0. */
function batch(
  key: DeviceKey,
  seq: number,
  prev: Uint8Array,
  o: { vin?: string; start?: number; value?: number } = {},
): Uint8Array {
  return signBatch(
    buildBatchPayload({
      deviceId: key.deviceId,
      vin: o.vin ?? VIN,
      seq,
      prev,
      clock: { source: 'gnss', jumps: [] },
      samples: samplesAt(o.start ?? T0 + seq * 1_000, o.value ?? seq),
    }),
    key,
  );
}

/** A chain of `n` batches from seq 0. */
function chain(key: DeviceKey, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = ZERO_HASH;
  for (let seq = 0; seq < n; seq++) {
    out.push(batch(key, seq, prev));
    prev = batchHash(out[seq]!);
  }
  return out;
}

const flip = (bytes: Uint8Array, at: number) => {
  const out = bytes.slice();
  out[at < 0 ? out.length + at : at]! ^= 0x01;
  return out;
};

/**
 * The same payload as `good` under another protected header, or another payload, signed with
 * `signer` (a well-formed signature over what is sent, so only the named defect is wrong).
 */
function resigned(
  good: Uint8Array,
  signer: DeviceKey,
  o: { alg?: number; kid?: Uint8Array; extra?: [number, CborValue]; payload?: Uint8Array } = {},
): Uint8Array {
  const d = decodeBatch(good);
  if (!d.ok) throw d.error;
  const header = new Map<CborKey, CborValue>([
    [COSE_HEADER.alg, o.alg ?? -47],
    [COSE_HEADER.contentType, d.value.header.contentType],
    [COSE_HEADER.kid, o.kid ?? d.value.header.kid],
    ...(o.extra ? [o.extra] : []),
  ]);
  return signCoseSign1({ protectedHeader: header, payload: o.payload ?? d.value.payloadBytes }, (tbs) =>
    signEs256k(tbs, signer.privateKey),
  ); // prettier-ignore
}

function payloadMap(good: Uint8Array): Map<CborKey, CborValue> {
  const d = decodeBatch(good);
  if (!d.ok) throw d.error;
  return new Map(decodeCbor(d.value.payloadBytes) as ReadonlyMap<CborKey, CborValue>);
}

async function connectDevice(node: IngestNode, key: DeviceKey) {
  const { client, receipts: messages } = await connectDeviceAs(node, key.deviceId, key);
  const publish = (bytes: Uint8Array, deviceId = key.deviceId) =>
    client.publishAsync(`ec/v1/${deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
  const receiptsFor = (seq: number) =>
    messages.filter((m) => m.type === 'receipt' && m.seq === seq).length;
  return { client, messages, publish, receiptsFor };
}

describe('ingest node with its embedded broker, facing a hostile device', () => {
  let n: Awaited<ReturnType<typeof startNode>>;
  let dev: Awaited<ReturnType<typeof connectDevice>>;
  const key = generateDeviceKey();
  const other = generateDeviceKey();
  const victim = generateDeviceKey();
  const stranger = generateDeviceKey();
  const good = chain(key, 6);

  beforeAll(async () => {
    n = await startNode();
    await enrol(n.node, key);
    await enrol(n.node, other, OTHER_VIN);
    await enrol(n.node, victim);
    dev = await connectDevice(n.node, key);
    for (const b of good.slice(0, 2)) await dev.publish(b);
    const deadline = Date.now() + 30_000;
    while (dev.receiptsFor(1) === 0) {
      if (Date.now() > deadline)
        throw new Error(`no receipt for the first batches: ${JSON.stringify(n.lines.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  afterAll(async () => {
    await dev?.client.endAsync(true);
    await n?.node.stop();
  });

  /** Publishes `bytes`; resolves once the node counted `code`, and checks its log line. */
  async function refused(bytes: Uint8Array, code: string): Promise<void> {
    const label = `{reason="${code}"}`;
    const before = await n.metric('enginechain_ingest_rejections_total', label);
    const linesBefore = n.lines.length;
    await dev.publish(bytes);
    await expect
      .poll(() => n.metric('enginechain_ingest_rejections_total', label), { timeout: 20_000 })
      .toBe(before + 1);
    const line = n.lines.slice(linesBefore).find((l) => l.code === code);
    expect(line, `log line for ${code}`).toMatchObject({ deviceId: key.deviceId });
    expect(line!.level).toBeGreaterThanOrEqual(40);
  }

  it('refuses every malformed, misattributed or mis-signed batch with its code, log line and metric', async () => {
    const logBefore = await n.node.store.logSize();
    const next = good[2]!;
    const version = payloadMap(next);
    version.set(0, 99);
    const missing = payloadMap(next);
    missing.delete(10);
    const d = decodeBatch(next);
    if (!d.ok) throw d.error;
    // The payload map's first key (0) re-encoded in a longer form than deterministic CBOR allows.
    const longForm = new Uint8Array([
      d.value.payloadBytes[0]!,
      0x18,
      0x00,
      ...d.value.payloadBytes.subarray(2),
    ]);
    let deep: CborValue = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    const cases: [string, Uint8Array, string][] = [
      ['over the size limit', new Uint8Array(256 * 1024 + 1).fill(0xa0), 'too-large'],
      ['not CBOR', new TextEncoder().encode('{"speed": 88}'), 'bad-cbor'],
      ['CBOR without the COSE_Sign1 tag', encodeCbor([new Uint8Array(0), new Map(), new Uint8Array(0), new Uint8Array(64)]), 'bad-tag'],
      ['a tagged array of 3', encodeCbor(new CborTag(18, [new Uint8Array(0), new Map(), new Uint8Array(0)])), 'not-cose'],
      ['an unexpected protected header', resigned(next, key, { extra: [99, 1] }), 'bad-header'],
      ['ES256 instead of ES256K', resigned(next, key, { alg: -7 }), 'bad-alg'],
      ['a payload not in deterministic CBOR', resigned(next, key, { payload: longForm }), 'not-deterministic'],
      ['a payload nested 40 deep', resigned(next, key, { payload: encodeCbor(deep) }), 'over-limit'],
      ['payload format version 99', resigned(next, key, { payload: encodeCbor(version) }), 'bad-version'],
      ['a payload field missing', resigned(next, key, { payload: encodeCbor(missing) }), 'bad-field'],
      ['a kid that is no device id', resigned(next, key, { kid: new Uint8Array(3) }), 'topic-mismatch'],
      ['signed by an unregistered key', chain(stranger, 1)[0]!, 'topic-mismatch'],
      ['signed by another registered device', chain(other, 1)[0]!, 'topic-mismatch'],
      ['one flipped signature bit', flip(next, -3), 'bad-signature'],
      ['another VIN, correctly signed', batch(key, 2, batchHash(good[1]!), { vin: OTHER_VIN }), 'vin-mismatch'],
    ]; // prettier-ignore
    for (const [what, bytes, code] of cases) {
      await refused(bytes, code).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
    }
    // Recorded too, as /v1/status reports them.
    expect(await n.node.store.rejectionCounts()).toMatchObject({ 'too-large': 1, 'bad-alg': 1, 'topic-mismatch': 3, 'vin-mismatch': 1 }); // prettier-ignore
    // Nothing accepted moved, and the device goes on as if nothing happened.
    expect(await n.node.store.logSize()).toBe(logBefore);
    expect((await n.node.store.getDevice(key.deviceId))?.nextSeq).toBe(2);
    await dev.publish(next);
    await expect.poll(() => dev.receiptsFor(2), { timeout: 20_000 }).toBe(1);
  }, 60_000);

  it('names the first failing stage: size, COSE, algorithm, kid, signature, VIN, sequence', async () => {
    const head = batchHash(good[2]!);
    const cases: [string, Uint8Array, string][] = [
      // Too large and not CBOR at all: the size is checked before anything is parsed.
      ['size before structure', new Uint8Array(300 * 1024).fill(0xff), 'too-large'],
      // Wrong algorithm, an unregistered kid, a signature by that stranger: alg comes first.
      ['algorithm before kid', resigned(chain(stranger, 1)[0]!, stranger, { alg: -7 }), 'bad-alg'],
      // An unregistered kid and a broken signature: the kid is checked before the signature.
      ['kid before signature', flip(chain(stranger, 1)[0]!, -3), 'topic-mismatch'],
      // Another VIN and a broken signature: the signature is checked before the VIN.
      ['signature before VIN', flip(batch(key, 3, head, { vin: OTHER_VIN }), -3), 'bad-signature'],
      // Another VIN for a seq already accepted (would be a fork): VIN before sequence.
      ['VIN before sequence', batch(key, 0, ZERO_HASH, { vin: OTHER_VIN, value: 77 }), 'vin-mismatch'],
    ]; // prettier-ignore
    for (const [what, bytes, code] of cases) {
      await refused(bytes, code).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
    }
    expect((await n.node.store.getDevice(key.deviceId))?.nextSeq).toBe(3);
  }, 60_000);

  it('sequences: duplicate re-acked, gap held and asked for, fork and bad prev quarantined with an alert, too far refused, future flagged', async () => {
    const alerts = (kind: string) =>
      n.metric('enginechain_ingest_alerts_total', `{kind="${kind}"}`);
    const logBefore = await n.node.store.logSize();

    // A duplicate: the same bytes again get their receipt again, and nothing new is logged.
    const dups = await n.metric('enginechain_ingest_batches_duplicate_total');
    await dev.publish(good[2]!);
    await expect.poll(() => dev.receiptsFor(2), { timeout: 20_000 }).toBe(2);
    expect(await n.metric('enginechain_ingest_batches_duplicate_total')).toBe(dups + 1);

    // A fork: seq 1 again with other content, properly signed and chained.
    const linesBefore = n.lines.length;
    await refused(batch(key, 1, batchHash(good[0]!), { value: 99 }), 'fork');
    expect(await alerts('fork')).toBe(1);
    expect(n.lines.slice(linesBefore).find((l) => l.alert === 'fork')).toMatchObject({ level: 50, seq: 1, msg: expect.stringMatching(/^ALERT/) }); // prettier-ignore
    // A bad prev: the next seq, signed, but not chained onto the accepted head.
    await refused(batch(key, 3, new Uint8Array(32).fill(7)), 'bad-prev');
    expect(await alerts('bad-prev')).toBe(1);
    // Both kept, bytes and all, for the operator to look at; neither is in the log.
    const quarantined = (await n.node.store.quarantined(key.deviceId)).map((q) => ({ seq: q.seq, reason: q.reason, kept: q.bytes.length > 0 })); // prettier-ignore
    expect(quarantined).toEqual([{ seq: 1, reason: 'fork', kept: true }, { seq: 3, reason: 'bad-prev', kept: true }]); // prettier-ignore

    // A gap: seq 5 arrives before 3 and 4; it is held and the device is asked for 3 and 4.
    const resends = await n.metric('enginechain_ingest_resend_requests_total');
    await dev.publish(good[5]!);
    await expect
      .poll(() => dev.messages.find((m) => m.type === 'resend'), { timeout: 20_000 })
      .toMatchObject({ type: 'resend', deviceId: key.deviceId, seqs: [3, 4] });
    expect(await n.metric('enginechain_ingest_resend_requests_total')).toBe(resends + 1);
    expect(dev.receiptsFor(5)).toBe(0);
    await dev.publish(good[4]!);
    await dev.publish(good[3]!);
    await expect.poll(() => [3, 4, 5].map((s) => dev.receiptsFor(s)), { timeout: 20_000 }).toEqual([1, 1, 1]); // prettier-ignore

    // Too far ahead to hold: refused outright.
    await refused(batch(key, 6 + 10_001, batchHash(good[5]!)), 'seq-too-far');

    // A day in the future: kept (the device clock may be wrong), flagged, logged, counted.
    await refused(
      batch(key, 6, batchHash(good[5]!), { start: T0 + 86_400_000 }),
      'future-timestamp',
    );
    await expect.poll(() => dev.receiptsFor(6), { timeout: 20_000 }).toBe(1);

    expect(await n.node.store.logSize()).toBe(logBefore + 4);
    expect((await n.node.store.getDevice(key.deviceId))?.nextSeq).toBe(7);
    expect(await n.node.store.rejectionCounts()).toMatchObject({ fork: 1, 'bad-prev': 1, 'seq-too-far': 1 }); // prettier-ignore
  }, 60_000);

  it('refuses CONNECTs by code and out-of-ACL publishes and subscribes, each counted and logged', async () => {
    const url = n.node.brokerUrl;
    const attempt = (username: string, password?: Uint8Array | string) =>
      mqtt.connectAsync(url, {
        username,
        ...(password === undefined ? {} : { password: Buffer.from(password) }),
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
    const used = createMqttToken(victim.deviceId, victim.privateKey);
    const ok = await attempt(victim.deviceId, used);
    await ok.endAsync(true);
    const refusals: [string, () => Promise<MqttClient>][] = [
      ['missing-credentials', () => attempt(key.deviceId)],
      ['not-a-device-id', () => attempt('admin', 'admin')],
      ['unknown-device', () => attempt(stranger.deviceId, createMqttToken(stranger.deviceId, stranger.privateKey))],
      ['token-malformed', () => attempt(key.deviceId, 'hunter2')],
      ['token-wrong-device', () => attempt(key.deviceId, createMqttToken(other.deviceId, key.privateKey))],
      ['token-bad-signature', () => attempt(key.deviceId, createMqttToken(key.deviceId, stranger.privateKey))],
      ['token-expired', () => attempt(key.deviceId, createMqttToken(key.deviceId, key.privateKey, Date.now() - 600_000))],
      ['token-from-the-future', () => attempt(key.deviceId, createMqttToken(key.deviceId, key.privateKey, Date.now() + 600_000))],
      ['token-replayed', () => attempt(victim.deviceId, used)],
    ]; // prettier-ignore
    const refusedBefore = await n.metric('enginechain_ingest_rejections_total', '{reason="bad-credentials"}'); // prettier-ignore
    for (const [code, connect] of refusals) {
      await expect(connect(), code).rejects.toThrow(/Bad username or password|Not authorized/i);
      await expect
        .poll(() => n.metric('enginechain_ingest_mqtt_auth_refusals_total', `{code="${code}"}`))
        .toBe(1);
      expect(n.lines.find((l) => l.code === code && l.kind === 'bad-credentials'), code).toBeDefined(); // prettier-ignore
    }
    // A revoked device: its still-valid key no longer opens a session.
    await n.node.deviceAdmin.revoke(victim.deviceId, 'test: key extracted');
    await expect(attempt(victim.deviceId, createMqttToken(victim.deviceId, victim.privateKey))).rejects.toThrow(/Bad username or password/i); // prettier-ignore
    await expect
      .poll(() =>
        n.metric('enginechain_ingest_mqtt_auth_refusals_total', '{code="revoked-device"}'),
      )
      .toBe(1);
    expect(await n.metric('enginechain_ingest_rejections_total', '{reason="bad-credentials"}')).toBe(refusedBefore + refusals.length + 1); // prettier-ignore

    // ACL: another device's receipt topic and a wildcard are refused (SUBACK 0x80); publishing
    // on another device's batch topic is refused and the session closed.
    const intruder = await connectDevice(n.node, other);
    await expect(intruder.client.subscribeAsync([`ec/v1/${key.deviceId}/receipt`, 'ec/#'], { qos: 1 })).rejects.toThrow(/Subscribe error/); // prettier-ignore
    expect(await n.metric('enginechain_ingest_rejections_total', '{reason="subscribe-denied"}')).toBe(2); // prettier-ignore
    const closed = new Promise<void>((r) => intruder.client.once('close', () => r()));
    intruder.client.publish(`ec/v1/${key.deviceId}/batch`, Buffer.from(good[0]!), { qos: 1 });
    await closed;
    await expect.poll(() => n.metric('enginechain_ingest_rejections_total', '{reason="publish-denied"}')).toBe(1); // prettier-ignore
    expect(n.lines.find((l) => l.kind === 'publish-denied')).toMatchObject({ reason: expect.stringContaining(`may not publish to ec/v1/${key.deviceId}/batch`) }); // prettier-ignore
    intruder.client.end(true);
    // The impersonated device's chain is untouched.
    expect((await n.node.store.getDevice(key.deviceId))?.nextSeq).toBe(7);
  }, 60_000);
});

// With an external broker the ACL is the broker's job; a misconfigured one (here: anonymous
// mosquitto, anyone publishes anywhere) must still not get anything past the node.
describe('ingest node on a broker that lets anyone publish anywhere', () => {
  let broker: Mosquitto | undefined;
  let n: Awaited<ReturnType<typeof startNode>> | undefined;
  afterAll(async () => {
    await n?.node.stop();
    await broker?.close();
  });

  it('refuses batches for unknown and revoked devices, and garbage on their topics', async () => {
    broker = await startMosquitto();
    n = await startNode({ externalBroker: { url: broker.url } });
    const { node, metric, lines } = n;
    const key = generateDeviceKey();
    const revoked = generateDeviceKey();
    const stranger = generateDeviceKey();
    await enrol(node, key);
    await enrol(node, revoked);
    await node.deviceAdmin.revoke(revoked.deviceId, 'test: stolen');
    const logBefore = await node.store.logSize();
    const anyone = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const send = (deviceId: string, bytes: Uint8Array) =>
      anyone.publishAsync(`ec/v1/${deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
    const cases: [string, string, Uint8Array, string][] = [
      ['an unregistered device', stranger.deviceId, chain(stranger, 1)[0]!, 'unknown-device'],
      // The topic names the device the broker vouched for; it is looked up before parsing.
      ['garbage for an unregistered device', stranger.deviceId, new Uint8Array([1, 2, 3]), 'unknown-device'],
      ['a revoked device, validly signed', revoked.deviceId, chain(revoked, 1)[0]!, 'revoked-device'],
      ["a batch on another device's topic", revoked.deviceId, chain(key, 1)[0]!, 'revoked-device'],
      ["a batch on another device's topic", key.deviceId, chain(stranger, 1)[0]!, 'topic-mismatch'],
    ]; // prettier-ignore
    for (const [what, deviceId, bytes, code] of cases) {
      const label = `{reason="${code}"}`;
      const before = await metric('enginechain_ingest_rejections_total', label);
      await send(deviceId, bytes);
      await expect.poll(() => metric('enginechain_ingest_rejections_total', label), { timeout: 20_000 }).toBe(before + 1); // prettier-ignore
      expect(
        lines.find((l) => l.code === code && l.deviceId === deviceId),
        what,
      ).toBeDefined();
    }
    expect(await node.store.logSize()).toBe(logBefore);
    expect(await node.store.rejectionCounts()).toMatchObject({ 'unknown-device': 2, 'revoked-device': 2, 'topic-mismatch': 1 }); // prettier-ignore
    await anyone.endAsync();
  }, 60_000);
});
