import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  verifyNodeMessage,
  ed25519PublicKeyFromRaw,
} from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { SqliteIngestStore } from '../storage/sqlite-store.js';
import { loadOrCreateNodeKeys, NodeKeyError } from './node-keys.js';
import { ReceiptDispatcher } from './receipt-dispatcher.js';
import { Sidechain, SidechainError } from './sidechain.js';

const ORIGIN = 'enginechain.test/sidechain';
const tmp = () => mkdtempSync(join(tmpdir(), 'enginechain-sidechain-'));
const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);

describe('node keys', () => {
  it('are created once with mode 0600 and reloaded unchanged', async () => {
    const dir = tmp();
    const a = await loadOrCreateNodeKeys(dir, 'enginechain.test');
    expect(a.created).toBe(true);
    for (const f of ['checkpoint.key', 'receipt.key'])
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    const b = await loadOrCreateNodeKeys(dir, 'enginechain.test');
    expect(b.created).toBe(false);
    expect(b.checkpointVerifierKey).toBe(a.checkpointVerifierKey);
    expect(b.receiptPublicKey).toBe(a.receiptPublicKey);
  });

  it('refuse a key file others can read', async () => {
    const dir = tmp();
    await loadOrCreateNodeKeys(dir, 'enginechain.test');
    chmodSync(join(dir, 'receipt.key'), 0o644);
    await expect(loadOrCreateNodeKeys(dir, 'enginechain.test')).rejects.toMatchObject({
      code: 'insecure-permissions',
    });
    await expect(loadOrCreateNodeKeys(dir, 'enginechain.test')).rejects.toBeInstanceOf(
      NodeKeyError,
    );
  });
});

describe('Sidechain', () => {
  async function setup(path = join(tmp(), 'node.db'), keyDir = tmp()) {
    const store = new SqliteIngestStore(path);
    const keys = await loadOrCreateNodeKeys(keyDir, 'enginechain.test');
    const chain = new Sidechain({ store, origin: ORIGIN, signer: keys.checkpointSigner });
    await chain.open();
    return { store, keys, chain, path, keyDir };
  }

  it('signs checkpoints only when the log grew, and proofs verify against them', async () => {
    const { store, keys, chain } = await setup();
    expect(await chain.checkpoint()).toBeUndefined();
    for (let i = 0; i < 13; i++) await store.appendLogEntry(entry(i), leafHash(entry(i)));
    const cp1 = await chain.checkpoint();
    expect(cp1?.treeSize).toBe(13);
    expect(await chain.checkpoint()).toBeUndefined();
    const { checkpoint } = openCheckpoint(
      cp1!.note,
      [parseVerifierKey(keys.checkpointVerifierKey)],
      { origin: ORIGIN },
    );
    expect(checkpoint.treeSize).toBe(13n);
    for (const i of [0, 6, 12]) {
      verifyInclusion(
        BigInt(i),
        13n,
        leafHash(entry(i)),
        await chain.inclusionProof(i, 13),
        checkpoint.rootHash,
      );
    }
    for (let i = 13; i < 40; i++) await store.appendLogEntry(entry(i), leafHash(entry(i)));
    const cp2 = await chain.checkpoint();
    verifyConsistency(13n, 40n, cp1!.root, cp2!.root, await chain.consistencyProof(13, 40));
    await expect(chain.inclusionProof(40, 40)).rejects.toBeInstanceOf(SidechainError);
    await store.close();
  });

  it('reopens consistent after a restart and refuses a log that no longer matches', async () => {
    const first = await setup();
    for (let i = 0; i < 5; i++) await first.store.appendLogEntry(entry(i), leafHash(entry(i)));
    await first.chain.checkpoint();
    for (let i = 5; i < 9; i++) await first.store.appendLogEntry(entry(i), leafHash(entry(i)));
    await first.store.close();
    const again = await setup(first.path, first.keyDir);
    expect(again.chain.latestCheckpoint?.treeSize).toBe(5);
    expect((await again.chain.checkpoint())?.treeSize).toBe(9);
    await again.store.close();

    // Someone rewrites a stored node: the node must refuse to go on signing.
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(first.path);
    // (3, 0) covers leaves 0..7, one of the two nodes the signed root at size 9 is built from.
    db.prepare('UPDATE log_nodes SET hash = ? WHERE level = 3 AND idx = 0').run(
      Buffer.alloc(32, 7),
    );
    db.close();
    const store = new SqliteIngestStore(first.path);
    const chain = new Sidechain({ store, origin: ORIGIN, signer: first.keys.checkpointSigner });
    await expect(chain.open()).rejects.toMatchObject({ code: 'inconsistent' });
    await store.close();
  });

  it('sends receipts only once a checkpoint covers the batch, with a verifying proof', async () => {
    const { store, keys, chain } = await setup();
    const sent: { deviceId: string; bytes: Uint8Array }[] = [];
    const dispatcher = new ReceiptDispatcher({
      sidechain: chain,
      receiptKey: keys.receiptKey,
      send: async (deviceId, bytes) => void sent.push({ deviceId, bytes }),
    });
    const deviceId = 'ab'.repeat(16);
    for (let i = 0; i < 3; i++) await store.appendLogEntry(entry(i), leafHash(entry(i)));
    dispatcher.enqueue({
      deviceId,
      seq: 0,
      hash: new Uint8Array(32).fill(1),
      leafIndex: 2,
      receivedAt: 5,
      kind: 'routine',
    });
    expect(sent).toHaveLength(0);
    const cp = await chain.checkpoint();
    await dispatcher.onCheckpoint(cp!);
    expect(sent).toHaveLength(1);
    const v = verifyNodeMessage(
      sent[0]!.bytes,
      ed25519PublicKeyFromRaw(Buffer.from(keys.receiptPublicKey, 'base64')),
    );
    expect(v.ok).toBe(true);
    if (v.ok && v.value.type === 'receipt') {
      expect(v.value).toMatchObject({ seq: 0, leafIndex: 2, treeSize: 3 });
      verifyInclusion(2n, 3n, leafHash(entry(2)), [...v.value.inclusionProof], cp!.root);
    }
    // Already covered: sent at once.
    dispatcher.enqueue({
      deviceId,
      seq: 0,
      hash: new Uint8Array(32).fill(1),
      leafIndex: 2,
      receivedAt: 5,
      kind: 'routine',
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(2);
    await store.close();
  });
});
