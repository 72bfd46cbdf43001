import type { KeyObject } from 'node:crypto';
import {
  CheckpointError,
  encodeLogEntry,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  ProofError,
  verifyInclusion,
  verifyNodeMessage,
  type NodeMessage,
  type NoteVerifier,
  type Receipt,
} from '@enginechain/shared';

/**
 * One table of reasons a node message is refused (docs/wire-format.md, "Receipts"). A code
 * never changes meaning; each message says what to check.
 */
export const RECEIPT_REFUSAL_CODES = {
  'bad-message':
    'Not a node message signed with the receipt key from provisioning (signature, format or key)',
  'wrong-device': 'The message names another device: a broker ACL or routing fault',
  'bad-checkpoint':
    'The checkpoint is not signed by the checkpoint key from provisioning, or is for another log',
  'size-mismatch': 'The receipt’s tree size is not the size its checkpoint states',
  'bad-proof':
    'The inclusion proof does not lead from the batch’s log entry to the checkpoint root',
} as const;

export type ReceiptRefusalCode = keyof typeof RECEIPT_REFUSAL_CODES;

export type NodeMessageVerdict =
  | { readonly ok: true; readonly message: NodeMessage }
  | { readonly ok: false; readonly code: ReceiptRefusalCode; readonly detail: string };

export interface ReceiptVerifierOptions {
  readonly deviceId: string;
  /** The node's Ed25519 receipt key (learned at provisioning). */
  readonly receiptPublicKey: KeyObject;
  /** The node's C2SP note verifier key for checkpoints (learned at provisioning). */
  readonly checkpointVerifierKey: string;
  /** The origin line of the node's checkpoints. */
  readonly logOrigin: string;
}

/**
 * Checks what the node sends down before the outbox acts on it. A receipt releases a batch
 * from the outbox for good, so the node's signature alone is not enough: the receipt must
 * also prove that the batch is in the log, with a checkpoint signed by the node's log key
 * and an inclusion proof of the batch's log entry under that checkpoint's root. A node (or a
 * stolen receipt key) that signs receipts without logging the batch is caught here, while
 * the batch is still on the device.
 *
 * The caller still checks the batch hash against its outbox row (`markReceipted`).
 */
export class ReceiptVerifier {
  private readonly checkpointVerifier: NoteVerifier;

  /** Throws CheckpointError when the checkpoint verifier key is malformed. */
  constructor(private readonly o: ReceiptVerifierOptions) {
    this.checkpointVerifier = parseVerifierKey(o.checkpointVerifierKey);
  }

  verify(bytes: Uint8Array): NodeMessageVerdict {
    const v = verifyNodeMessage(bytes, this.o.receiptPublicKey);
    if (!v.ok) return refuse('bad-message', `${v.error.code}: ${v.error.message}`);
    const message = v.value;
    if (message.deviceId !== this.o.deviceId)
      return refuse('wrong-device', `for device ${message.deviceId}`);
    if (message.type === 'resend') return { ok: true, message };
    return this.verifyReceipt(message);
  }

  private verifyReceipt(receipt: Receipt): NodeMessageVerdict {
    let size: bigint;
    let root: Uint8Array;
    try {
      const { checkpoint } = openCheckpoint(receipt.checkpoint, [this.checkpointVerifier], {
        origin: this.o.logOrigin,
      });
      size = checkpoint.treeSize;
      root = checkpoint.rootHash;
    } catch (err) {
      if (err instanceof CheckpointError)
        return refuse('bad-checkpoint', `${err.code}: ${err.message}`);
      throw err;
    }
    // A proof binds a leaf to a root, not to a size (docs/merkle-log.md): the size must be the
    // one the verified checkpoint states.
    if (size !== BigInt(receipt.treeSize))
      return refuse('size-mismatch', `receipt says ${receipt.treeSize}, checkpoint ${size}`);
    const entry = encodeLogEntry({
      type: 'batch',
      deviceId: receipt.deviceId,
      seq: receipt.seq,
      batchHash: receipt.batchHash,
      receivedAt: receipt.receivedAt,
    });
    try {
      verifyInclusion(
        BigInt(receipt.leafIndex),
        size,
        leafHash(entry),
        [...receipt.inclusionProof],
        root,
      );
    } catch (err) {
      if (err instanceof ProofError) return refuse('bad-proof', `${err.code}: ${err.message}`);
      throw err;
    }
    return { ok: true, message: receipt };
  }
}

function refuse(code: ReceiptRefusalCode, detail: string): NodeMessageVerdict {
  return { ok: false, code, detail };
}
