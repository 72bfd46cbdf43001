/**
 * The evidence file (docs/evidence.md): everything an insurer needs to check a trace without
 * access to us. A COSE_Sign1 signed with the node's checkpoint key (EdDSA) whose payload is a
 * deterministic CBOR map; the outer signature makes every byte count, the inner proofs make
 * the content trustworthy on its own.
 */
export const EVIDENCE_CONTENT_TYPE = 'application/vnd.enginechain.evidence+cbor;v=1';
export const EVIDENCE_VERSION = 1;
/** A day of 10 Hz data for one vehicle fits comfortably; more is refused before parsing. */
export const MAX_EVIDENCE_BYTES = 64 * 1024 * 1024;

/** Payload map keys. */
export const EVIDENCE_KEY = {
  version: 0,
  origin: 1,
  vin: 2,
  device: 3,
  batches: 4,
  checkpoint: 5,
  earlierCheckpoint: 6,
  consistencyProof: 7,
  request: 8,
  createdAt: 9,
  checkpointKeys: 10,
  /** Present only when the device rotated its key within the evidence's seqs (else absent). */
  rotations: 11,
} as const;

export const DEVICE_KEY = {
  deviceId: 0,
  publicKey: 1,
  vinSalt: 2,
  leafIndex: 3,
  entry: 4,
  inclusionProof: 5,
} as const;

export const ITEM_KEY = { bytes: 0, leafIndex: 1, entry: 2, inclusionProof: 3 } as const;

export const ROTATION_KEY = { leafIndex: 0, entry: 1, inclusionProof: 2 } as const;

/** A key-rotation log entry (it names the new key and its first seq) and its proof. */
export interface EvidenceRotation {
  readonly leafIndex: number;
  readonly entry: Uint8Array;
  readonly inclusionProof: readonly Uint8Array[];
}

export interface EvidenceItem {
  /** The batch's COSE bytes exactly as the device signed them. */
  readonly bytes: Uint8Array;
  readonly leafIndex: number;
  /** The canonical log entry (its leaf hash is what the proof proves). */
  readonly entry: Uint8Array;
  readonly inclusionProof: readonly Uint8Array[];
}

export interface EvidenceBundle {
  readonly version: number;
  readonly origin: string;
  readonly vin: string;
  readonly device: {
    readonly deviceId: string;
    readonly publicKey: Uint8Array;
    readonly vinSalt: Uint8Array;
    readonly leafIndex: number;
    readonly entry: Uint8Array;
    readonly inclusionProof: readonly Uint8Array[];
  };
  readonly batches: readonly EvidenceItem[];
  /**
   * Every key rotation of the device up to the last batch's seq, oldest first: with the
   * registration key they give the key each batch verifies with (docs/evidence.md).
   */
  readonly rotations: readonly EvidenceRotation[];
  /** The latest signed checkpoint: every inclusion proof is against its tree. */
  readonly checkpoint: string;
  /** The first signed checkpoint that already held every batch, and … */
  readonly earlierCheckpoint: string;
  /** … the proof that the latest one extends it (nothing was rewritten in between). */
  readonly consistencyProof: readonly Uint8Array[];
  /** What was asked for, e.g. `event 12` or `2026-11-25T08:00:00Z/2026-11-25T08:10:00Z`. */
  readonly request: string;
  readonly createdAt: number;
  /** The node's checkpoint verifier keys (C2SP); a verifier should also get them independently. */
  readonly checkpointKeys: readonly string[];
}
