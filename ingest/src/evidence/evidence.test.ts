import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  batchHash,
  buildBatchPayload,
  createKeyRotationRequest,
  enrolmentProofMessage,
  evidenceCsv,
  generateDeviceKey,
  generateSignerKey,
  signBatch,
  signEs256k,
  verifyEvidence,
  EvidenceError,
  ZERO_HASH,
  type DeviceKey,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRotationService } from '../devices/key-rotation.js';
import { EnrolmentService } from '../http/enrolment-service.js';
import { BatchIngestor } from '../pipeline/batch-ingestor.js';
import { VerifierPool } from '../pipeline/verifier-pool.js';
import { loadOrCreateNodeKeys } from '../sidechain/node-keys.js';
import { Sidechain } from '../sidechain/sidechain.js';
import { SqliteIngestStore } from '../storage/sqlite-store.js';
import { buildEvidence, EvidenceRequestError } from './evidence-builder.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);

let pool: VerifierPool;
beforeAll(() => {
  pool = new VerifierPool(1);
});
afterAll(() => pool.close());

/** A node with one enrolled device that sent `n` batches (the second holds a crash). */
async function nodeWithTrace(n: number, rotateAtSeq?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'enginechain-evidence-'));
  const store = new SqliteIngestStore(join(dir, 'node.db'));
  const keys = await loadOrCreateNodeKeys(join(dir, 'keys'), 'enginechain.test');
  const sidechain = new Sidechain({ store, origin: 'enginechain.test/log', signer: keys.checkpointSigner });
  await sidechain.open();
  const enrolment = new EnrolmentService(store, () => T0);
  let key: DeviceKey = generateDeviceKey();
  const { token } = await enrolment.issueToken(VIN);
  await enrolment.register({ token, vin: VIN, publicKey: key.publicKey, proof: signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey) });
  const ingestor = new BatchIngestor({ store, pool, now: () => T0 + 3_600_000 });
  let prev = ZERO_HASH;
  for (let seq = 0; seq < n; seq++) {
    if (seq === rotateAtSeq) {
      const newKey = { ...generateDeviceKey(), deviceId: key.deviceId };
      await new KeyRotationService(store, () => T0).rotate(key.deviceId, createKeyRotationRequest({ deviceId: key.deviceId, currentKey: key, newKey, fromSeq: seq, timeMs: T0 }));
      key = newKey;
    }
    const bytes = signBatch(
      buildBatchPayload({
        deviceId: key.deviceId, vin: VIN, seq, prev, kind: seq === 1 ? 'trace' : 'routine',
        clock: { source: 'gnss', jumps: [] },
        samples: [0, 500].flatMap((dt) => [
          { name: 'Vehicle.Speed', unit: 'km/h', time: T0 + seq * 1_000 + dt, value: 50 - seq },
          { name: 'Vehicle.Powertrain.CombustionEngine.Speed', unit: 'rpm', time: T0 + seq * 1_000 + dt, value: 2_000 },
        ]),
        events: seq === 1 ? [{ type: 'crash', priority: 'critical', start: T0 + 1_200, end: T0 + 1_200, data: { deltaVKmh: 30 } }] : [],
      }),
      key,
    ); // prettier-ignore
    prev = batchHash(bytes);
    expect((await ingestor.ingest(key.deviceId, bytes)).status).toBe('accepted');
    if (seq === 0) await sidechain.checkpoint();
  }
  await sidechain.checkpoint();
  return { store, sidechain, keys, key };
} // prettier-ignore

describe('evidence: build on the node, verify offline', () => {
  it('proves a crash trace end to end and writes its CSV', async () => {
    const { store, sidechain, keys, key } = await nodeWithTrace(3);
    const [crash] = (await store.eventsByVin(VIN)).filter((e) => e.type === 'crash');
    const file = await buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, eventId: crash!.id } });
    const v = verifyEvidence(file, { trustedKeys: [keys.checkpointVerifierKey] });
    expect(v).toMatchObject({ vin: VIN, deviceId: key.deviceId, trusted: true, gaps: [] });
    expect(v.batches.map((b) => b.seq)).toEqual([0, 1, 2]);
    expect(v.samples).toHaveLength(12);
    expect(v.events.map((e) => e.type)).toEqual(['crash']);
    expect(v.checkpoint.treeSize).toBe(4n);
    expect(v.earlierTreeSize).toBe(4n);
    const csv = evidenceCsv(v).trim().split('\n');
    expect(csv[0]).toBe('time,Vehicle.Powertrain.CombustionEngine.Speed [rpm],Vehicle.Speed [km/h]');
    expect(csv[1]).toBe(`${new Date(T0).toISOString()},2000,50`);
    expect(csv).toHaveLength(7);
    await store.close();
  }); // prettier-ignore

  it('proves a trace across a key rotation: each batch with the key valid for its seq', async () => {
    const { store, sidechain, keys, key } = await nodeWithTrace(3, 2);
    const across = await buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, from: T0, to: T0 + 10_000 } });
    const v = verifyEvidence(across, { trustedKeys: [keys.checkpointVerifierKey] });
    expect(v).toMatchObject({ deviceId: key.deviceId, gaps: [], keyRotations: [{ fromSeq: 2, leafIndex: 3 }] });
    expect(v.batches.map((b) => b.seq)).toEqual([0, 1, 2]);
    // Before the rotation the file needs, and so carries, only the registration key.
    const before = await buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, from: T0, to: T0 + 1_500 } });
    expect(verifyEvidence(before, { trustedKeys: [keys.checkpointVerifierKey] })).toMatchObject({ keyRotations: [] });
    await store.close();
  }); // prettier-ignore

  it('proves the log only grew between the checkpoint that first held the batches and the latest', async () => {
    const { store, sidechain, keys } = await nodeWithTrace(2);
    const first = await buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, from: T0, to: T0 + 500 } });
    expect(verifyEvidence(first, { trustedKeys: [keys.checkpointVerifierKey] }).earlierTreeSize).toBe(2n);
    await store.close();
  }); // prettier-ignore

  it('fails on any single flipped byte of a small bundle', async () => {
    const { store, sidechain, keys } = await nodeWithTrace(1);
    const file = await buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, from: T0, to: T0 + 10_000 } });
    expect(verifyEvidence(file).trusted).toBe(false);
    for (let i = 0; i < file.length; i++) {
      const bad = file.slice();
      bad[i]! ^= 0x01;
      expect(() => verifyEvidence(bad), `byte ${i} of ${file.length}`).toThrow(EvidenceError);
    }
    await store.close();
  }, 60_000); // prettier-ignore

  it('refuses a file signed by a key the verifier does not trust', async () => {
    const { store, sidechain, keys } = await nodeWithTrace(1);
    const file = await buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, from: T0, to: T0 + 10_000 } });
    const stranger = generateSignerKey('stranger.example').verifierKey;
    expect(() => verifyEvidence(file, { trustedKeys: [stranger] })).toThrow(expect.objectContaining({ code: 'bad-signature' }));
    await store.close();
  }); // prettier-ignore

  it('refuses a range that holds more than one file takes, and builds one at the limit', async () => {
    const { store, sidechain, keys } = await nodeWithTrace(3);
    const batchBytes = (await store.batchesByVin(VIN, T0, T0 + 10_000)).reduce((n, b) => n + b.bytes.length, 0);
    const build = (limits: { batches: number; bytes: number }, request: Parameters<typeof buildEvidence>[0]['request'] = { vin: VIN, from: T0, to: T0 + 10_000 }) =>
      buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request, limits, now: T0 });
    const fileBytes = (await build({ batches: 3, bytes: 1e9 })).length;
    expect(fileBytes).toBeGreaterThan(batchBytes);
    // Too many batches, or batch bytes that alone exceed the limit: refused from sizes alone.
    await expect(build({ batches: 2, bytes: 1e9 })).rejects.toMatchObject({ code: 'range-too-large', message: expect.stringMatching(/holds 3 batches of \d+ bytes; an evidence file takes at most 2 batches/) });
    await expect(build({ batches: 3, bytes: batchBytes - 1 })).rejects.toMatchObject({ code: 'range-too-large', message: expect.stringMatching(/holds 3 batches/) });
    // The batches fit but not with their proofs: refused on the file itself.
    await expect(build({ batches: 3, bytes: fileBytes - 1 })).rejects.toMatchObject({ code: 'range-too-large', message: expect.stringMatching(new RegExp(`makes a file of ${fileBytes} bytes`)) });
    // An event's window is weighed the same way.
    const crash = (await store.eventsByVin(VIN)).find((e) => e.type === 'crash')!;
    await expect(build({ batches: 1, bytes: 1e9 }, { vin: VIN, eventId: crash.id })).rejects.toMatchObject({ code: 'range-too-large' });
    const file = await build({ batches: 3, bytes: fileBytes });
    expect(verifyEvidence(file, { trustedKeys: [keys.checkpointVerifierKey] }).batches).toHaveLength(3);
    await store.close();
  }); // prettier-ignore

  it('says clearly when there is nothing to prove', async () => {
    const { store, sidechain, keys } = await nodeWithTrace(1);
    await expect(buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, eventId: 999 } })).rejects.toBeInstanceOf(EvidenceRequestError);
    await expect(buildEvidence({ store, sidechain, signer: keys.checkpointSigner, request: { vin: VIN, from: 0, to: 1 } })).rejects.toMatchObject({ code: 'no-batches' });
    await store.close();
  }); // prettier-ignore
});
