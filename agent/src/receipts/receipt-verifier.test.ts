import {
  encodeLogEntry,
  generateReceiptKey,
  generateSignerKey,
  inclusionProofFrom,
  MemoryNodeStore,
  MerkleLog,
  parseSignerKey,
  rootFrom,
  signCheckpoint,
  signNodeMessage,
  type Receipt,
} from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { ReceiptVerifier } from './receipt-verifier.js';

const ORIGIN = 'ingest.fleet-a.example/enginechain/sidechain';
const DEVICE = '00112233445566778899aabbccddeeff';
const OTHER_DEVICE = 'ffeeddccbbaa99887766554433221100';

/**
 * A node's log as the ingest node keeps it: other devices' entries around ours, a checkpoint
 * signed with the log key, receipts signed with the receipt key.
 */
function node(origin = ORIGIN) {
  const receiptKey = generateReceiptKey();
  const logKey = generateSignerKey(origin.replace(/[^A-Za-z0-9.\-_]/g, '-'));
  const store = new MemoryNodeStore();
  const log = new MerkleLog(store);
  const ours = new Map<number, { leafIndex: number; batchHash: Uint8Array; receivedAt: number }>();
  for (let i = 0; i < 37; i++) {
    const mine = i % 5 === 2;
    const seq = mine ? ours.size : i;
    const batchHash = new Uint8Array(32).fill(i + 1);
    const receivedAt = 1_764_000_000_000 + i * 250;
    const leafIndex = log.append(
      encodeLogEntry({ type: 'batch', deviceId: mine ? DEVICE : OTHER_DEVICE, seq, batchHash, receivedAt }),
    ); // prettier-ignore
    if (mine) ours.set(seq, { leafIndex, batchHash, receivedAt });
  }
  const size = log.size;
  const checkpoint = signCheckpoint({ origin, treeSize: size, rootHash: rootFrom(store, size) }, [
    parseSignerKey(logKey.signerKey),
  ]);
  const receiptFor = (seq: number, change: Partial<Receipt> = {}): Receipt => {
    const b = ours.get(seq)!;
    return {
      type: 'receipt',
      deviceId: DEVICE,
      seq,
      batchHash: b.batchHash,
      leafIndex: b.leafIndex,
      treeSize: size,
      checkpoint,
      inclusionProof: inclusionProofFrom(store, b.leafIndex, size),
      receivedAt: b.receivedAt,
      ...change,
    };
  };
  return {
    receiptKey,
    logKey,
    checkpoint,
    size,
    seqs: [...ours.keys()],
    receiptFor,
    sign: (m: Parameters<typeof signNodeMessage>[0]) => signNodeMessage(m, receiptKey.privateKey),
    verifier: () =>
      new ReceiptVerifier({
        deviceId: DEVICE,
        receiptPublicKey: receiptKey.publicKey,
        checkpointVerifierKey: logKey.verifierKey,
        logOrigin: origin,
      }),
  };
}

describe('ReceiptVerifier', () => {
  it('accepts a receipt whose checkpoint and inclusion proof hold, for every batch of the device', () => {
    const n = node();
    const verifier = n.verifier();
    expect(n.seqs.length).toBeGreaterThan(5);
    for (const seq of n.seqs) {
      const v = verifier.verify(n.sign(n.receiptFor(seq)));
      expect(v.ok, String(seq)).toBe(true);
      if (v.ok && v.message.type === 'receipt') expect(v.message.seq).toBe(seq);
    }
  });

  it('accepts a signed resend request for the device', () => {
    const n = node();
    const v = n.verifier().verify(n.sign({ type: 'resend', deviceId: DEVICE, seqs: [3, 4] }));
    expect(v).toMatchObject({ ok: true, message: { type: 'resend', seqs: [3, 4] } });
  });

  it('refuses what another receipt key signed, and bytes that are no node message', () => {
    const n = node();
    const stranger = generateReceiptKey();
    const forged = signNodeMessage(n.receiptFor(0), stranger.privateKey);
    expect(n.verifier().verify(forged)).toMatchObject({ ok: false, code: 'bad-message' });
    const resend = signNodeMessage({ type: 'resend', deviceId: DEVICE, seqs: [0] }, stranger.privateKey); // prettier-ignore
    expect(n.verifier().verify(resend)).toMatchObject({ ok: false, code: 'bad-message' });
    expect(n.verifier().verify(new Uint8Array([0xd2, 0x84]))).toMatchObject({ ok: false, code: 'bad-message' }); // prettier-ignore
  });

  it('refuses a message for another device', () => {
    const n = node();
    const v = n.verifier().verify(n.sign({ ...n.receiptFor(0), deviceId: OTHER_DEVICE }));
    expect(v).toMatchObject({ ok: false, code: 'wrong-device' });
  });

  it('refuses a receipt whose checkpoint another log key signed, or that is for another log', () => {
    const n = node();
    const other = node();
    // Signed with the right receipt key, but the checkpoint comes from another node's log.
    const foreign = n.sign(n.receiptFor(0, { checkpoint: other.checkpoint }));
    expect(n.verifier().verify(foreign)).toMatchObject({ ok: false, code: 'bad-checkpoint' });
    const elsewhere = node('ingest.fleet-b.example/enginechain/sidechain');
    const v = new ReceiptVerifier({
      deviceId: DEVICE,
      receiptPublicKey: elsewhere.receiptKey.publicKey,
      checkpointVerifierKey: elsewhere.logKey.verifierKey,
      logOrigin: ORIGIN,
    }).verify(elsewhere.sign(elsewhere.receiptFor(0)));
    expect(v).toMatchObject({ ok: false, code: 'bad-checkpoint' });
  });

  it('refuses a tree size other than the checkpoint’s', () => {
    const n = node();
    const v = n.verifier().verify(n.sign(n.receiptFor(0, { treeSize: n.size + 1 })));
    expect(v).toMatchObject({ ok: false, code: 'size-mismatch' });
  });

  it('refuses a receipt for a batch the log does not hold where the receipt says', () => {
    const n = node();
    const verifier = n.verifier();
    const [a, b] = n.seqs as [number, number];
    const cases: Partial<Receipt>[] = [
      // The node signs a receipt for a batch it never logged (another hash under that leaf).
      { batchHash: new Uint8Array(32).fill(0xee) },
      // … or for a time of receipt other than the logged one.
      { receivedAt: n.receiptFor(a).receivedAt + 1 },
      // … or points at the leaf of another batch.
      { leafIndex: n.receiptFor(b).leafIndex },
      // … or with a proof cut short.
      { inclusionProof: n.receiptFor(a).inclusionProof.slice(1) },
    ];
    for (const change of cases) {
      expect(verifier.verify(n.sign(n.receiptFor(a, change))), JSON.stringify(Object.keys(change))).toMatchObject({ ok: false, code: 'bad-proof' }); // prettier-ignore
    }
  });
});
