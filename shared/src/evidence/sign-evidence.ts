import { hexToBytes } from '@noble/hashes/utils.js';
import { encodeCbor } from '../cbor/encode.js';
import type { CborKey, CborValue } from '../cbor/types.js';
import type { NoteSigner } from '../checkpoint/note-keys.js';
import { COSE_HEADER, signCoseSign1 } from '../cose/cose-sign1.js';
import {
  DEVICE_KEY,
  EVIDENCE_CONTENT_TYPE,
  EVIDENCE_KEY,
  ITEM_KEY,
  ROTATION_KEY,
  type EvidenceBundle,
} from './evidence-format.js';

const EDDSA = -8;

/** Encodes an evidence bundle deterministically and signs it with the node's checkpoint key. */
export function signEvidence(bundle: EvidenceBundle, signer: NoteSigner): Uint8Array {
  const m = (entries: [number, CborValue][]) => new Map<CborKey, CborValue>(entries);
  const payload = m([
    [EVIDENCE_KEY.version, bundle.version],
    [EVIDENCE_KEY.origin, bundle.origin],
    [EVIDENCE_KEY.vin, bundle.vin],
    [
      EVIDENCE_KEY.device,
      m([
        [DEVICE_KEY.deviceId, hexToBytes(bundle.device.deviceId)],
        [DEVICE_KEY.publicKey, bundle.device.publicKey],
        [DEVICE_KEY.vinSalt, bundle.device.vinSalt],
        [DEVICE_KEY.leafIndex, bundle.device.leafIndex],
        [DEVICE_KEY.entry, bundle.device.entry],
        [DEVICE_KEY.inclusionProof, [...bundle.device.inclusionProof]],
      ]),
    ],
    [
      EVIDENCE_KEY.batches,
      bundle.batches.map((b) =>
        m([
          [ITEM_KEY.bytes, b.bytes],
          [ITEM_KEY.leafIndex, b.leafIndex],
          [ITEM_KEY.entry, b.entry],
          [ITEM_KEY.inclusionProof, [...b.inclusionProof]],
        ]),
      ),
    ],
    [EVIDENCE_KEY.checkpoint, bundle.checkpoint],
    [EVIDENCE_KEY.earlierCheckpoint, bundle.earlierCheckpoint],
    [EVIDENCE_KEY.consistencyProof, [...bundle.consistencyProof]],
    [EVIDENCE_KEY.request, bundle.request],
    [EVIDENCE_KEY.createdAt, bundle.createdAt],
    [EVIDENCE_KEY.checkpointKeys, [...bundle.checkpointKeys]],
  ]);
  // Absent when empty: a file without rotations is byte for byte what it was before them.
  if (bundle.rotations.length > 0)
    payload.set(
      EVIDENCE_KEY.rotations,
      bundle.rotations.map((r) =>
        m([
          [ROTATION_KEY.leafIndex, r.leafIndex],
          [ROTATION_KEY.entry, r.entry],
          [ROTATION_KEY.inclusionProof, [...r.inclusionProof]],
        ]),
      ),
    );
  return signCoseSign1(
    {
      protectedHeader: new Map<CborKey, CborValue>([
        [COSE_HEADER.alg, EDDSA],
        [COSE_HEADER.contentType, EVIDENCE_CONTENT_TYPE],
      ]),
      payload: encodeCbor(payload),
    },
    (tbs) => signer.sign(tbs),
  );
}
