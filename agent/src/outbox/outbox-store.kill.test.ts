import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { OutboxStore } from './outbox-store.js';
import { startAppendLoop } from './test-batches.js';

const DEVICE = '0123456789abcdef0123456789abcdef';
const KILLS = 20;

const dir = mkdtempSync(join(tmpdir(), 'outbox-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the append loop until it has opened the outbox, lets it work `ms`, then SIGKILLs it. */
async function appendThenKill(path: string, seed: number, ms: number): Promise<number> {
  const loop = await startAppendLoop(path, DEVICE, seed);
  await new Promise((r) => setTimeout(r, ms));
  const { signal, stderr } = await loop.kill();
  // The child never stops on its own: anything but our SIGKILL is a crash in the loop.
  expect(signal, stderr).toBe('SIGKILL');
  return loop.startSeq;
}

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every invariant a crash must not break, read straight from the file. */
function checkFile(path: string): { nextSeq: number; receipts: number; drops: number } {
  const db = new Database(path, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const chain = db.prepare('SELECT * FROM chain').get() as {
      next_seq: number;
      prev_hash: Buffer;
      stored_bytes: number;
    };
    const hashOf = new Map<number, string>();
    const where = new Map<number, string>();
    const claim = (seq: number, hash: Buffer, table: string) => {
      // No seq may live in two places at once (an evicted batch is only in drops).
      expect(where.get(seq), `seq ${seq} in ${table} and ${where.get(seq)}`).toBeUndefined();
      where.set(seq, table);
      hashOf.set(seq, hex(hash));
    };
    const batches = db
      .prepare('SELECT b.*, p.bytes FROM batches b LEFT JOIN payloads p USING (seq)')
      .all() as { seq: number; hash: Buffer; prev: Buffer; size: number; bytes: Buffer | null }[];
    let bytes = 0;
    for (const b of batches) {
      expect(b.bytes, `seq ${b.seq} has no payload (torn row)`).not.toBeNull();
      const payload = new Uint8Array(b.bytes as Buffer);
      expect(hex(sha256(payload))).toBe(hex(b.hash));
      expect(payload.length).toBe(b.size);
      expect(hex(payload.subarray(0, 32))).toBe(hex(b.prev));
      expect(Number(new DataView(payload.buffer).getBigUint64(32))).toBe(b.seq);
      bytes += b.size;
      claim(b.seq, b.hash, 'batches');
    }
    expect(chain.stored_bytes).toBe(bytes);
    expect(db.prepare('SELECT count(*) FROM payloads').pluck().get()).toBe(batches.length);
    const receipts = db.prepare('SELECT seq, hash FROM receipts').all() as {
      seq: number;
      hash: Buffer;
    }[];
    for (const r of receipts) claim(r.seq, r.hash, 'receipts');
    const drops = db.prepare('SELECT seq, hash FROM drops').all() as {
      seq: number;
      hash: Buffer;
    }[];
    for (const d of drops) claim(d.seq, d.hash, 'drops');

    // No gap: every seq below the head is accounted for, nothing at or above it.
    expect(where.size).toBe(chain.next_seq);
    for (let s = 0; s < chain.next_seq; s++) expect(where.has(s), `gap at seq ${s}`).toBe(true);
    // No fork: each stored batch's prev is the hash of the seq before it.
    for (const b of batches) {
      const expected = b.seq === 0 ? hex(new Uint8Array(32)) : hashOf.get(b.seq - 1);
      expect(hex(b.prev), `seq ${b.seq} does not chain`).toBe(expected);
    }
    expect(hex(chain.prev_hash)).toBe(
      chain.next_seq === 0 ? hex(new Uint8Array(32)) : hashOf.get(chain.next_seq - 1),
    );
    return { nextSeq: chain.next_seq, receipts: receipts.length, drops: drops.length };
  } finally {
    db.close();
  }
}

describe('OutboxStore under SIGKILL', () => {
  it(`keeps the chain whole across ${KILLS} kills at random moments`, async () => {
    const path = join(dir, 'outbox.db');
    let lastSeq = 0;
    for (let i = 0; i < KILLS; i++) {
      const startSeq = await appendThenKill(path, 1_000 + i, Math.floor(Math.random() * 300));
      // The restarted child continued exactly where the previous one was killed.
      expect(startSeq).toBe(lastSeq);
      lastSeq = checkFile(path).nextSeq;
      expect(lastSeq).toBeGreaterThanOrEqual(startSeq);
      // The store itself reopens and agrees with the file.
      const store = OutboxStore.open({ path, deviceId: DEVICE, quotaBytes: 64 * 1024 });
      expect(store.chainHead().nextSeq).toBe(lastSeq);
      store.close();
    }
    const final = checkFile(path);
    // The run exercised appends, receipts and quota evictions, not just startup.
    expect(final.nextSeq).toBeGreaterThan(KILLS);
    expect(final.receipts).toBeGreaterThan(0);
    expect(final.drops).toBeGreaterThan(0);
  }, 120_000);
});
