import type { KeyObject } from 'node:crypto';
import { signNodeMessage } from '@enginechain/shared';
import type { CheckpointRow } from '../storage/ingest-store.js';
import type { AcceptedBatchInfo } from '../pipeline/batch-ingestor.js';
import type { Sidechain } from './sidechain.js';

export interface ReceiptDispatcherOptions {
  readonly sidechain: Sidechain;
  readonly receiptKey: KeyObject;
  /** Sends signed bytes to a device (the broker's receipt topic). */
  readonly send: (deviceId: string, message: Uint8Array) => Promise<void>;
  readonly onError?: (err: unknown) => void;
}

/**
 * Receipts go out only once a batch's leaf is inside a signed checkpoint: a receipt is the
 * node's signed promise that the batch is in the log, with the proof to show it. Batches wait
 * here until the next checkpoint covers them.
 */
export class ReceiptDispatcher {
  private waiting: AcceptedBatchInfo[] = [];
  sent = 0;

  constructor(private readonly o: ReceiptDispatcherOptions) {}

  get pending(): number {
    return this.waiting.length;
  }

  /** A batch entered the log (or a duplicate of one arrived): its receipt is due. */
  enqueue(info: AcceptedBatchInfo): void {
    const latest = this.o.sidechain.latestCheckpoint;
    if (latest && info.leafIndex < latest.treeSize) {
      void this.dispatch([info], latest);
      return;
    }
    this.waiting.push(info);
  }

  /** Called after each new checkpoint: sends every receipt it covers. */
  async onCheckpoint(checkpoint: CheckpointRow): Promise<void> {
    const due = this.waiting.filter((w) => w.leafIndex < checkpoint.treeSize);
    this.waiting = this.waiting.filter((w) => w.leafIndex >= checkpoint.treeSize);
    await this.dispatch(due, checkpoint);
  }

  private async dispatch(
    due: readonly AcceptedBatchInfo[],
    checkpoint: CheckpointRow,
  ): Promise<void> {
    for (const info of due) {
      try {
        const inclusionProof = await this.o.sidechain.inclusionProof(
          info.leafIndex,
          checkpoint.treeSize,
        );
        const bytes = signNodeMessage(
          {
            type: 'receipt',
            deviceId: info.deviceId,
            seq: info.seq,
            batchHash: info.hash,
            leafIndex: info.leafIndex,
            treeSize: checkpoint.treeSize,
            checkpoint: checkpoint.note,
            inclusionProof,
            receivedAt: Math.round(info.receivedAt),
          },
          this.o.receiptKey,
        );
        await this.o.send(info.deviceId, bytes);
        this.sent++;
      } catch (err) {
        // Not sent now: the device will resend the batch, and its duplicate re-queues the receipt.
        this.o.onError?.(err);
      }
    }
  }
}
