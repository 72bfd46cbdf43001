/**
 * Test material: a small, deterministic evidence file built the way the ingest node builds one
 * (ingest/src/evidence/evidence-builder.ts), with every key fixed: a device registered for a
 * VIN, three chained batches with a crash event, other devices' entries after them, an earlier
 * and a latest checkpoint signed with the C2SP signed-note vector key (PeterNeumann), and the
 * consistency proof between them; optionally a key rotation before one batch. Same inputs, same bytes, whichever crypto backend runs it.
 */
import { readFileSync } from 'node:fs';
import { buildBatchPayload, batchHash, signBatch } from '../batch/signed-batch.js';
import type { BatchSample } from '../batch/types.js';
import { parseSignerKey } from '../checkpoint/note-keys.js';
import { signCheckpoint } from '../checkpoint/signed-checkpoint.js';
import { deviceKeyFromPrivateKey } from '../crypto/device-key.js';
import { encodeLogEntry, vinCommitment } from '../log-entry/log-entry.js';
import { MerkleLog } from '../merkle/log.js';
import { EVIDENCE_VERSION, type EvidenceItem, type EvidenceRotation } from './evidence-format.js';
import { signEvidence } from './sign-evidence.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/signed-note/vectors.json', import.meta.url), 'utf8'),
) as {
  signerKeys: { PeterNeumann: string };
  verifierKeys: { PeterNeumann: string; EnochRoot: string };
};

export const FIXTURE_VIN = '1HGCM82633A004352';
export const FIXTURE_ORIGIN = 'example.com/enginechain-fixture';
/** The key that signs the fixture's checkpoints and envelope. */
export const FIXTURE_VERIFIER_KEY = vectors.verifierKeys.PeterNeumann;
/** A well-formed key that did not sign anything here. */
export const FIXTURE_OTHER_KEY = vectors.verifierKeys.EnochRoot;

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);

export interface EvidenceFixtureOptions {
  /** The device rotates its key before this seq: later batches are signed with the new key. */
  readonly rotateAtSeq?: number;
  /** Leave the rotation out of the file (a file that must not verify). */
  readonly omitRotation?: boolean;
}

export function buildEvidenceFixture(options: EvidenceFixtureOptions = {}): Uint8Array {
  const signer = parseSignerKey(vectors.signerKeys.PeterNeumann);
  const device = deviceKeyFromPrivateKey(new Uint8Array(32).fill(0x11));
  // The rotated key keeps the device id (docs/protocol.md, key rotation).
  const rotatedKey = {
    ...deviceKeyFromPrivateKey(new Uint8Array(32).fill(0x33)),
    deviceId: device.deviceId,
  };
  const rotations: EvidenceRotation[] = [];
  const salt = new Uint8Array(16).fill(0x22);
  const log = new MerkleLog();
  const other = '00'.repeat(16);

  log.append(encodeLogEntry({ type: 'revocation', deviceId: other, at: T0 - 5000, reason: 'x' }));
  const registration = encodeLogEntry({
    type: 'registration',
    deviceId: device.deviceId,
    publicKey: device.publicKey,
    vinCommitment: vinCommitment(FIXTURE_VIN, salt),
    at: T0 - 1000,
  });
  const registrationLeaf = log.append(registration);

  const batches: { bytes: Uint8Array; entry: Uint8Array; leafIndex: number }[] = [];
  let prev: Uint8Array | undefined;
  for (let seq = 0; seq < 3; seq++) {
    const start = T0 + seq * 1000;
    if (seq === options.rotateAtSeq) {
      const entry = encodeLogEntry({
        type: 'key-rotation',
        deviceId: device.deviceId,
        publicKey: rotatedKey.publicKey,
        fromSeq: seq,
        at: start - 10,
      });
      rotations.push({ leafIndex: log.append(entry), entry, inclusionProof: [] });
    }
    const samples: BatchSample[] = [];
    for (let i = 0; i < 10; i++) {
      const time = start + i * 100;
      samples.push({ name: 'Vehicle.Speed', unit: 'km/h', time, value: 50 - seq * 10 - i });
      samples.push({
        name: 'Vehicle.Powertrain.CombustionEngine.Speed',
        unit: 'rpm',
        time,
        value: 2000 - seq * 300,
      });
    }
    const payload = buildBatchPayload({
      kind: seq === 2 ? 'event' : 'routine',
      deviceId: device.deviceId,
      vin: FIXTURE_VIN,
      seq,
      ...(prev ? { prev } : {}),
      clock: { source: 'gnss', jumps: [] },
      samples,
      events:
        seq === 2
          ? [
              {
                type: 'crash',
                priority: 'critical',
                start: start + 500,
                end: start + 650,
                data: { deltaVKmh: 31.5 },
              },
            ]
          : [],
    });
    const rotated = options.rotateAtSeq !== undefined && seq >= options.rotateAtSeq;
    const bytes = signBatch(payload, rotated ? rotatedKey : device);
    const entry = encodeLogEntry({
      type: 'batch',
      deviceId: device.deviceId,
      seq,
      batchHash: batchHash(bytes),
      receivedAt: start + 1500,
    });
    batches.push({ bytes, entry, leafIndex: log.append(entry) });
    prev = batchHash(bytes);
  }
  const earlierSize = log.size;
  const earlier = signCheckpoint(
    { origin: FIXTURE_ORIGIN, treeSize: BigInt(earlierSize), rootHash: log.root(earlierSize) },
    [signer],
  );
  for (let i = 0; i < 4; i++)
    log.append(
      encodeLogEntry({ type: 'revocation', deviceId: other, at: T0 + 9000 + i, reason: 'y' }),
    );
  const size = log.size;
  const latest = signCheckpoint(
    { origin: FIXTURE_ORIGIN, treeSize: BigInt(size), rootHash: log.root(size) },
    [signer],
  );
  const items: EvidenceItem[] = batches.map((b) => ({
    bytes: b.bytes,
    leafIndex: b.leafIndex,
    entry: b.entry,
    inclusionProof: log.inclusionProof(b.leafIndex, size),
  }));
  return signEvidence(
    {
      version: EVIDENCE_VERSION,
      origin: FIXTURE_ORIGIN,
      vin: FIXTURE_VIN,
      device: {
        deviceId: device.deviceId,
        publicKey: device.publicKey,
        vinSalt: salt,
        leafIndex: registrationLeaf,
        entry: registration,
        inclusionProof: log.inclusionProof(registrationLeaf, size),
      },
      batches: items,
      rotations: options.omitRotation
        ? []
        : rotations.map((r) => ({ ...r, inclusionProof: log.inclusionProof(r.leafIndex, size) })),
      checkpoint: latest,
      earlierCheckpoint: earlier,
      consistencyProof: log.consistencyProof(earlierSize, size),
      request: 'event 1 (crash)',
      createdAt: T0 + 60_000,
      checkpointKeys: [FIXTURE_VERIFIER_KEY],
    },
    signer,
  );
}
