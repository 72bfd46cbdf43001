/**
 * Issue 6 through the real `enginechain` processes: `ingest --data --config` (keys made on
 * first start, 0600, printed and served; checkpoints every N entries), `device enroll --owner`,
 * a SIGKILL mid-stream after which the next checkpoint is proven to extend the last one,
 * `evidence` (event and time range) and `verify --trust FILE --csv`; and `ingest --broker`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  createMqttToken,
  ed25519PublicKeyFromRaw,
  enrolmentRequestBody,
  generateDeviceKey,
  generateSignerKey,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  signBatch,
  verifyConsistency,
  verifyInclusion,
  verifyNodeMessage,
  ZERO_HASH,
  type DeviceKey,
  type Receipt,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../../agent/src/transport/test-brokers.js';
import { freePort, startIngest, stop } from '../support/ingest-process.js';
import { runCli } from '../support/run-cli.js';

const VIN = '1HGCM82633A004352';
const ORIGIN = 'cli.test.example/enginechain/sidechain';
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'enginechain-ingest-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Enrols `key` with a token from `enginechain device enroll` (the CLI, on the data folder). */
async function enrolWithCli(data: string, httpUrl: string, key: DeviceKey, owner?: string) {
  const enrolled = await runCli(['device', 'enroll', '--vin', VIN, '--data', data, '--json', ...(owner ? ['--owner', owner] : [])]); // prettier-ignore
  expect(enrolled.code, enrolled.stderr).toBe(0);
  const { token, vin, expiresAt } = JSON.parse(enrolled.stdout) as { token: string; vin: string; expiresAt: string }; // prettier-ignore
  expect(vin).toBe(VIN);
  expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  const body = JSON.stringify(enrolmentRequestBody(token, VIN, key)); // prettier-ignore
  const post = () => fetch(`${httpUrl}/v1/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }); // prettier-ignore
  expect((await post()).status).toBe(201);
  // The token is single use.
  const again = await post();
  expect(again.status).toBe(409);
  expect(((await again.json()) as { code: string }).code).toBe('token-used');
}

/** The chain of batches a device signs: one a second from T0, a harsh braking in seq 1. */
function signChain(key: DeviceKey, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = ZERO_HASH;
  for (let seq = 0; seq < n; seq++) {
    const start = T0 + seq * 1_000;
    const bytes = signBatch(
      buildBatchPayload({
        deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'gnss', jumps: [] },
        samples: [0, 250, 500, 750].flatMap((dt) => [
          { name: 'Vehicle.Speed', unit: 'km/h', time: start + dt, value: 40 + seq },
          { name: 'Vehicle.Powertrain.CombustionEngine.Speed', unit: 'rpm', time: start + dt, value: 1_800 + seq * 10 },
        ]),
        events: seq === 1 ? [{ type: 'harsh-braking', priority: 'high', start: start + 300, end: start + 600, data: { peakMs2: -4.2 } }] : [],
      }),
      key,
    ); // prettier-ignore
    out.push(bytes);
    prev = batchHash(bytes);
  }
  return out;
}

/** A device session: a fresh token per CONNECT, verified receipts kept by seq. */
async function deviceSession(
  brokerUrl: string,
  key: DeviceKey,
  receiptPublicKey: string,
  receipts: Map<number, Receipt>,
) {
  const client: MqttClient = await mqtt.connectAsync(brokerUrl, { username: key.deviceId, password: Buffer.from(createMqttToken(key.deviceId, key.privateKey)), protocolVersion: 4, reconnectPeriod: 0 }); // prettier-ignore
  const receiptKey = ed25519PublicKeyFromRaw(Buffer.from(receiptPublicKey, 'base64'));
  client.on('message', (_t, payload) => {
    const v = verifyNodeMessage(new Uint8Array(payload), receiptKey);
    if (v.ok && v.value.type === 'receipt') receipts.set(v.value.seq, v.value);
  });
  client.on('error', () => {});
  await client.subscribeAsync(`ec/v1/${key.deviceId}/receipt`, { qos: 1 });
  return client;
}

describe('enginechain ingest --data --config, device enroll, evidence, verify', () => {
  it('runs a node from a config file, survives a SIGKILL mid-stream provably, and hands over evidence that verifies offline', async () => {
    const data = join(work, 'node');
    const config = join(work, 'node.json');
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const writeConfig = (checkpointIntervalMs: number) =>
      writeFileSync(config, JSON.stringify({ origin: ORIGIN, mqtt: { host: '127.0.0.1', port: mqttPort }, http: { host: '127.0.0.1', port: httpPort }, checkpointIntervalMs, checkpointEveryEntries: 3, verifierThreads: 1, maxBatchesInPipeline: 64, maxBytesInPipeline: 4_000_000 })); // prettier-ignore
    // A minute between timed checkpoints: receipts that come sooner come from the 3-entry rule.
    writeConfig(60_000);

    // First start: both node keys are made, 0600, and their public halves printed and served.
    let node = await startIngest(['--data', data, '--config', config]);
    const info = node.info;
    expect(info.brokerUrl).toBe(`mqtt://127.0.0.1:${mqttPort}`);
    expect(info.httpUrl).toBe(`http://127.0.0.1:${httpPort}`);
    expect(info.logOrigin).toBe(ORIGIN);
    for (const f of ['checkpoint.key', 'receipt.key'])
      expect(statSync(join(data, 'keys', f)).mode & 0o777, f).toBe(0o600);
    expect(statSync(join(data, 'keys')).mode & 0o777).toBe(0o700);
    expect(parseVerifierKey(info.checkpointVerifierKey).name).toBe(ORIGIN);
    expect(Buffer.from(info.receiptPublicKey, 'base64')).toHaveLength(32);
    const served = (await (await fetch(`${info.httpUrl}/v1/node`)).json()) as Record<
      string,
      string
    >;
    expect(served).toMatchObject({ logOrigin: ORIGIN, checkpointVerifierKey: info.checkpointVerifierKey, receiptPublicKey: info.receiptPublicKey }); // prettier-ignore
    expect(node.stderr()).toContain('created node keys');

    const key = generateDeviceKey();
    await enrolWithCli(data, info.httpUrl, key, 'Fleet A');
    const listed = await runCli(['device', 'list', '--node', info.httpUrl, '--operator-token-file', info.operatorTokenFile, '--json']); // prettier-ignore
    expect(JSON.parse(listed.stdout)).toMatchObject([{ deviceId: key.deviceId, vin: VIN, owner: 'Fleet A', status: 'active' }]); // prettier-ignore

    const batches = signChain(key, 9);
    const receipts = new Map<number, Receipt>();
    let client = await deviceSession(info.brokerUrl, key, info.receiptPublicKey, receipts);
    for (const b of batches.slice(0, 3)) await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(b), { qos: 1 }); // prettier-ignore
    // The third accepted batch triggers a checkpoint long before the minute is up.
    await expect.poll(() => receipts.size, { timeout: 20_000 }).toBe(3);
    const verifier = parseVerifierKey(info.checkpointVerifierKey);
    const before = (await (await fetch(`${info.httpUrl}/v1/log/checkpoint`)).json()) as { treeSize: number; note: string }; // prettier-ignore
    expect(before.treeSize).toBe(4);

    // Mid-stream: the rest goes out without waiting, and the node is killed under it.
    for (const b of batches.slice(3)) client.publish(`ec/v1/${key.deviceId}/batch`, Buffer.from(b), { qos: 1 }); // prettier-ignore
    await new Promise((r) => setTimeout(r, 30));
    await stop(node.child, 'SIGKILL');
    client.end(true);

    // Restart from the same folder (timed checkpoints now every 200 ms). The keys are reused;
    // the device resends whatever has no receipt, as its outbox would, until all are receipted.
    writeConfig(200);
    node = await startIngest(['--data', data, '--config', config]);
    expect(node.info.checkpointVerifierKey).toBe(info.checkpointVerifierKey);
    expect(node.info.receiptPublicKey).toBe(info.receiptPublicKey);
    expect(node.stderr()).not.toContain('created node keys');
    client = await deviceSession(info.brokerUrl, key, info.receiptPublicKey, receipts);
    const deadline = Date.now() + 60_000;
    while (receipts.size < batches.length && Date.now() < deadline) {
      for (const [seq, b] of batches.entries())
        if (!receipts.has(seq)) await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(b), { qos: 1 }); // prettier-ignore
      await new Promise((r) => setTimeout(r, 500));
    }
    expect([...receipts.keys()].sort((a, b) => a - b)).toEqual([...batches.keys()]);
    await client.endAsync(true);

    // Every receipt proves its batch in its checkpoint; each later checkpoint, the one signed
    // after the SIGKILL included, is proven by the node to extend the one before it.
    const after = (await (await fetch(`${info.httpUrl}/v1/log/checkpoint`)).json()) as { treeSize: number; note: string }; // prettier-ignore
    expect(after.treeSize).toBe(1 + batches.length);
    const notes = new Map<number, Uint8Array>();
    for (const note of [
      before.note,
      after.note,
      ...[...receipts.values()].map((r) => r.checkpoint),
    ]) {
      const { checkpoint } = openCheckpoint(note, [verifier], { origin: ORIGIN });
      notes.set(Number(checkpoint.treeSize), checkpoint.rootHash);
    }
    for (const r of receipts.values()) {
      const { checkpoint } = openCheckpoint(r.checkpoint, [verifier], { origin: ORIGIN });
      const entry = (await (await fetch(`${info.httpUrl}/v1/log/entries/${r.leafIndex}`)).json()) as { entry: string }; // prettier-ignore
      verifyInclusion(BigInt(r.leafIndex), checkpoint.treeSize, leafHash(Buffer.from(entry.entry, 'base64')), [...r.inclusionProof], checkpoint.rootHash); // prettier-ignore
      expect(r.batchHash).toEqual(batchHash(batches[r.seq]!));
    }
    const sizes = [...notes.keys()].sort((a, b) => a - b);
    expect(sizes[0]).toBe(4);
    expect(sizes.length).toBeGreaterThan(1);
    for (let i = 1; i < sizes.length; i++) {
      const [from, to] = [sizes[i - 1]!, sizes[i]!];
      const { proof } = (await (await fetch(`${info.httpUrl}/v1/log/proof/consistency?from=${from}&to=${to}`)).json()) as { proof: string[] }; // prettier-ignore
      verifyConsistency(BigInt(from), BigInt(to), notes.get(from)!, notes.get(to)!, proof.map((p) => new Uint8Array(Buffer.from(p, 'base64')))); // prettier-ignore
    }
    await stop(node.child, 'SIGTERM');

    // Evidence, with the node stopped: by time range and by event id.
    const byRange = join(work, 'range.cbor');
    const range = await runCli(['evidence', '--data', data, '--vin', VIN, '--from', new Date(T0).toISOString(), '--to', new Date(T0 + 4_500).toISOString(), '--out', byRange]); // prettier-ignore
    expect(range.code, range.stderr).toBe(0);
    expect(range.stdout).toContain(`enginechain verify ${byRange} --trust '${info.checkpointVerifierKey}'`); // prettier-ignore
    const { store, close } = await IngestNode.openData(data);
    const [braking] = await store.eventsByVin(VIN);
    await close();
    const byEvent = join(work, 'event.cbor');
    const event = await runCli(['evidence', '--data', data, '--vin', VIN, '--event', String(braking!.id), '--out', byEvent]); // prettier-ignore
    expect(event.code, event.stderr).toBe(0);
    expect((await runCli(['evidence', '--data', data, '--vin', VIN, '--out', join(work, 'x.cbor')])).code).toBe(2); // prettier-ignore
    const noEvent = await runCli(['evidence', '--data', data, '--vin', VIN, '--event', '999', '--out', join(work, 'x.cbor')]); // prettier-ignore
    expect(noEvent.code).toBe(1);
    expect(noEvent.stderr).toMatch(/no event 999/);

    // verify: offline, with the key from a file, says what it proved, writes the CSV.
    const trust = join(work, 'trusted.keys');
    writeFileSync(
      trust,
      `# the node's checkpoint key, from its first start\n${info.checkpointVerifierKey}\n`,
    );
    const csv = join(work, 'trace.csv');
    const ok = await runCli(['verify', byRange, '--trust', trust, '--csv', csv]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^VERIFIED/);
    expect(ok.stdout).toContain(`${VIN}, device ${key.deviceId}`);
    expect(ok.stdout).toContain(`covers       ${new Date(T0).toISOString()} to ${new Date(T0 + 4_750).toISOString()}`); // prettier-ignore
    expect(ok.stdout).toMatch(
      /batches +5 signed by the device \(ES256K\), seqs 0\.\.4, each in the log/,
    );
    expect(ok.stdout).toMatch(/samples +40 of 2 signals/);
    expect(ok.stdout).toContain(`size 10, signed by ${ORIGIN}; extends size`);
    expect(ok.stdout).toContain('checkpoint key given with --trust');
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe(
      'time,Vehicle.Powertrain.CombustionEngine.Speed [rpm],Vehicle.Speed [km/h]',
    );
    expect(rows[1]).toBe(`${new Date(T0).toISOString()},1800,40`);
    expect(rows).toHaveLength(1 + 20);
    const json = await runCli(['verify', byEvent, '--trust', info.checkpointVerifierKey, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ verified: true, trusted: true, vin: VIN, deviceId: key.deviceId, events: [{ type: 'harsh-braking' }] }); // prettier-ignore

    // And refuses: a key that did not sign it, one flipped byte, a file that is not there.
    const stranger = await runCli(['verify', byRange, '--trust', generateSignerKey('stranger.example').verifierKey]); // prettier-ignore
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/NOT VERIFIED.*bad-signature/);
    const tampered = join(work, 'tampered.cbor');
    const bytes = readFileSync(byRange);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(tampered, bytes);
    const bad = await runCli(['verify', tampered, '--trust', trust]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('NOT VERIFIED');
    expect((await runCli(['verify', join(work, 'missing.cbor')])).code).toBe(2);
  }, 240_000);
});

describe('enginechain ingest --broker', () => {
  let broker: Mosquitto | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child) await stop(child, 'SIGTERM');
    await broker?.close();
  });

  it('consumes from Debian mosquitto (max_queued_messages 0) and receipts through it', async () => {
    broker = await startMosquitto();
    const data = join(work, 'external');
    const node = await startIngest([
      '--data',
      data,
      '--broker',
      broker.url,
      '--http',
      '127.0.0.1:0',
    ]);
    child = node.child;
    expect(node.info.brokerUrl).toBe(broker.url);
    const key = generateDeviceKey();
    await enrolWithCli(data, node.info.httpUrl, key);
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: key.deviceId,
    });
    const receiptKey = ed25519PublicKeyFromRaw(Buffer.from(node.info.receiptPublicKey, 'base64'));
    const seqs: number[] = [];
    client.on('message', (_t, payload) => {
      const v = verifyNodeMessage(new Uint8Array(payload), receiptKey);
      if (v.ok && v.value.type === 'receipt') seqs.push(v.value.seq);
    });
    await client.subscribeAsync(`ec/v1/${key.deviceId}/receipt`, { qos: 1 });
    for (const b of signChain(key, 3)) await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(b), { qos: 1 }); // prettier-ignore
    await expect.poll(() => [...seqs].sort(), { timeout: 20_000 }).toEqual([0, 1, 2]);
    await client.endAsync();
  }, 120_000);
});
