import {
  assembleProof,
  formatCheckpoint,
  openCheckpoint,
  parseVerifierKey,
  planConsistency,
  planInclusion,
  planRoot,
  signNote,
  verifyConsistency,
  EMPTY_ROOT,
  type Ed25519NoteSigner,
} from '@enginechain/shared';
import type { CheckpointRow, IngestStore } from '../storage/ingest-store.js';

export interface SidechainOptions {
  readonly store: IngestStore;
  /** The log's name in its checkpoints (C2SP origin line). */
  readonly origin: string;
  readonly signer: Ed25519NoteSigner;
  readonly now?: () => number;
}

/**
 * Errors of the node's sidechain, one table (after fastify's lib/errors.js); docs/errors.md
 * lists them. A code never changes meaning.
 */
export const SIDECHAIN_ERROR_CODES = {
  inconsistent:
    'The stored log does not match the last signed checkpoint, or does not extend it: the node refuses to start and sign',
  'out-of-range': 'A leaf index or tree size beyond the log was asked for',
} as const;

export type SidechainErrorCode = keyof typeof SIDECHAIN_ERROR_CODES;

export class SidechainError extends Error {
  override readonly name = 'SidechainError';
  constructor(
    readonly code: SidechainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The driving-data sidechain as one node keeps it: the RFC 9162 log in the store, checkpoints
 * signed with the super-node key (cosignatures by witnesses can be added to the same note),
 * and proofs built from the node hashes the plan names.
 */
export class Sidechain {
  private readonly o: Required<SidechainOptions>;
  private latest: CheckpointRow | undefined;
  private signing: Promise<CheckpointRow | undefined> | undefined;

  constructor(options: SidechainOptions) {
    this.o = { now: Date.now, ...options };
  }

  get origin(): string {
    return this.o.origin;
  }

  get verifierKey(): string {
    return this.o.signer.verifierKey;
  }

  /**
   * Checks, after any restart, that the log still matches the last signed checkpoint: the
   * root recomputed from stored nodes at that size must equal the signed root, and the current
   * tree must extend it (consistency proof verified). A node that fails this must not sign.
   */
  async open(): Promise<void> {
    this.latest = await this.o.store.latestCheckpoint();
    if (!this.latest) return;
    const { checkpoint } = openCheckpoint(this.latest.note, [parseVerifierKey(this.verifierKey)], {
      origin: this.o.origin,
    });
    const size = await this.o.store.logSize();
    const root = await this.rootAt(this.latest.treeSize);
    if (!equal(root, checkpoint.rootHash) || !equal(root, this.latest.root)) {
      throw new SidechainError(
        'inconsistent',
        `stored log does not match checkpoint ${this.latest.treeSize}`,
      );
    }
    if (size > this.latest.treeSize) {
      const proof = await this.consistencyProof(this.latest.treeSize, size);
      verifyConsistency(
        BigInt(this.latest.treeSize),
        BigInt(size),
        root,
        await this.rootAt(size),
        proof,
      );
    }
  }

  get latestCheckpoint(): CheckpointRow | undefined {
    return this.latest;
  }

  async size(): Promise<number> {
    return this.o.store.logSize();
  }

  async rootAt(size: number): Promise<Uint8Array> {
    if (size === 0) return EMPTY_ROOT;
    await this.checkSize(size);
    const plan = planRoot(size);
    const [root] = assembleProof(plan, await this.o.store.getLogNodes(plan.ids));
    if (!root) throw new SidechainError('out-of-range', `no root for size ${size}`);
    return root;
  }

  async inclusionProof(leafIndex: number, size: number): Promise<Uint8Array[]> {
    await this.checkSize(size);
    if (!(leafIndex >= 0 && leafIndex < size)) {
      throw new SidechainError('out-of-range', `leaf ${leafIndex} is not in a tree of ${size}`);
    }
    const plan = planInclusion(leafIndex, size);
    return assembleProof(plan, await this.o.store.getLogNodes(plan.ids));
  }

  async consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    await this.checkSize(size2);
    if (!(size1 > 0 && size1 <= size2)) {
      throw new SidechainError('out-of-range', `no consistency proof from ${size1} to ${size2}`);
    }
    const plan = planConsistency(size1, size2);
    return assembleProof(plan, await this.o.store.getLogNodes(plan.ids));
  }

  /**
   * Signs a checkpoint of the current size when the log grew since the last one; returns the
   * new checkpoint or undefined. Concurrent calls share one signing.
   */
  checkpoint(): Promise<CheckpointRow | undefined> {
    this.signing ??= this.signNow().finally(() => (this.signing = undefined));
    return this.signing;
  }

  private async signNow(): Promise<CheckpointRow | undefined> {
    const size = await this.o.store.logSize();
    if (size === 0 || (this.latest && this.latest.treeSize >= size)) return undefined;
    const root = await this.rootAt(size);
    const note = signNote(
      formatCheckpoint({ origin: this.o.origin, treeSize: size, rootHash: root }),
      [this.o.signer],
    );
    const row: CheckpointRow = { treeSize: size, root, note, createdAt: this.o.now() };
    await this.o.store.saveCheckpoint(row);
    this.latest = row;
    return row;
  }

  private async checkSize(size: number): Promise<void> {
    const current = await this.o.store.logSize();
    if (!(Number.isSafeInteger(size) && size >= 0 && size <= current)) {
      throw new SidechainError('out-of-range', `tree size ${size} is beyond the log (${current})`);
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
