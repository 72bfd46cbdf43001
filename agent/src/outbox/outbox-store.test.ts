import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OUTBOX_ERROR_CODES, OutboxError, QuotaError, type OutboxErrorCode } from './errors.js';
import { OUTBOX_MIGRATIONS } from './migrations.js';
import { OutboxStore, type OutboxBatchKind, type OutboxOptions } from './outbox-store.js';
import { chainedBatch, seededRandom } from './test-batches.js';

const DEVICE = '0123456789abcdef0123456789abcdef';
const OTHER_DEVICE = 'fedcba9876543210fedcba9876543210';

const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
const open: OutboxStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** A store on a fresh real SQLite file, with a clock the test moves. */
function freshStore(options: Partial<OutboxOptions> = {}) {
  const clock = { now: 1_700_000_000_000 };
  const path = options.path ?? join(dir, `outbox-${++fileNo}.db`);
  const reopen = () => {
    const s = OutboxStore.open({
      path,
      deviceId: DEVICE,
      quotaBytes: 1 << 20,
      resendAfterMs: 30_000,
      now: () => clock.now,
      ...options,
    });
    open.push(s);
    return s;
  };
  return { store: reopen(), reopen, clock, path };
}

function append(store: OutboxStore, kind: OutboxBatchKind, size = 200, declaredDrops?: number[]) {
  const batch = chainedBatch(store.chainHead(), kind, size, {
    random: seededRandom(store.chainHead().nextSeq),
    ...(declaredDrops ? { declaredDrops } : {}),
  });
  store.appendBatch(batch);
  return batch;
}

function codeOf(fn: () => unknown): OutboxErrorCode | 'no error' {
  try {
    fn();
  } catch (err) {
    if (err instanceof OutboxError) return err.code;
    throw err;
  }
  return 'no error';
}

const receipt = (seq: number) => new TextEncoder().encode(`signed receipt for ${seq}`);

describe('OutboxStore chain', () => {
  it('starts at seq 0 with 32 zero bytes', () => {
    const { store } = freshStore();
    expect(store.chainHead()).toEqual({ nextSeq: 0, prevHash: new Uint8Array(32) });
  });

  it('continues the chain across close and reopen', () => {
    const { store, reopen } = freshStore();
    const first = [append(store, 'routine'), append(store, 'event'), append(store, 'routine')];
    store.close();
    const again = reopen();
    expect(again.chainHead()).toEqual({ nextSeq: 3, prevHash: first[2]?.hash });
    const next = append(again, 'trace');
    expect(next.seq).toBe(3);
    expect(next.prev).toEqual(first[2]?.hash);
    again.close();
    const third = reopen();
    expect(third.nextToSend(10).map((b) => b.seq)).toEqual([3, 1, 0, 2]);
  });

  it('refuses a seq that is not nextSeq, a prev that does not chain, a hash of other bytes', () => {
    const { store } = freshStore();
    const b0 = append(store, 'routine');
    const head = store.chainHead();
    const replay = chainedBatch({ nextSeq: 0, prevHash: new Uint8Array(32) }, 'routine', 100);
    expect(codeOf(() => store.appendBatch(replay))).toBe('out-of-sequence');
    const ahead = chainedBatch({ nextSeq: 2, prevHash: b0.hash }, 'routine', 100);
    expect(codeOf(() => store.appendBatch(ahead))).toBe('out-of-sequence');
    const fork = chainedBatch({ nextSeq: 1, prevHash: new Uint8Array(32).fill(7) }, 'event', 100);
    expect(codeOf(() => store.appendBatch(fork))).toBe('broken-chain');
    const good = chainedBatch(head, 'routine', 100);
    const lying = { ...good, hash: b0.hash };
    expect(codeOf(() => store.appendBatch(lying))).toBe('hash-mismatch');
    // Nothing changed by any refusal.
    expect(store.chainHead()).toEqual(head);
    expect(store.stats().depth).toBe(1);
    store.appendBatch(good);
    expect(store.chainHead().nextSeq).toBe(2);
  });

  it('copies what it stores and returns (callers may reuse their buffers)', () => {
    const { store } = freshStore();
    const b = append(store, 'routine');
    const kept = b.bytes.slice();
    b.bytes.fill(0);
    const [sent] = store.nextToSend(1);
    expect(sent?.bytes).toEqual(kept);
    expect(sent?.bytes).toBeInstanceOf(Uint8Array);
  });
});

describe('OutboxStore send order and in-flight marks', () => {
  it('hands out traces, then events, then routine, each by seq', () => {
    const { store } = freshStore();
    const kinds: OutboxBatchKind[] = ['routine', 'event', 'routine', 'trace', 'event', 'trace'];
    for (const k of kinds) append(store, k);
    const sent = store.nextToSend(100);
    expect(sent.map((b) => [b.kind, b.seq])).toEqual([
      ['trace', 3],
      ['trace', 5],
      ['event', 1],
      ['event', 4],
      ['routine', 0],
      ['routine', 2],
    ]);
    expect(sent[0]?.prev).toEqual(sent.find((b) => b.seq === 2)?.hash);
  });

  it('does not hand out in-flight batches until the resend timeout or a release', () => {
    const { store, clock, reopen } = freshStore();
    for (let i = 0; i < 5; i++) append(store, 'routine');
    expect(store.nextToSend(2).map((b) => b.seq)).toEqual([0, 1]);
    expect(store.nextToSend(10).map((b) => b.seq)).toEqual([2, 3, 4]);
    expect(store.nextToSend(10)).toEqual([]);
    expect(store.stats().inFlight).toBe(5);
    // A batch stored after the others were sent goes out at once.
    append(store, 'event');
    expect(store.nextToSend(10).map((b) => b.seq)).toEqual([5]);

    store.releaseInFlight([3]);
    expect(store.nextToSend(10).map((b) => b.seq)).toEqual([3]);
    clock.now += 30_000;
    expect(store.nextToSend(10).map((b) => b.seq)).toEqual([5, 0, 1, 2, 3, 4]);
    store.releaseInFlight();
    expect(store.nextToSend(3).map((b) => b.seq)).toEqual([5, 0, 1]);
    // After a restart everything unreceipted goes out again.
    store.close();
    expect(reopen().nextToSend(10)).toHaveLength(6);
  });
});

describe('OutboxStore nextToSend against a naive model', () => {
  it('agrees over 600 random appends, sends, releases, receipts and clock steps', () => {
    const { store, clock } = freshStore({ resendAfterMs: 1_000 });
    const random = seededRandom(42);
    const kinds: OutboxBatchKind[] = ['trace', 'event', 'routine'];
    // The model: every unreceipted batch with its kind, and in-flight deadlines.
    const stored = new Map<number, { kind: OutboxBatchKind; hash: Uint8Array }>();
    const until = new Map<number, number>();
    for (let op = 0; op < 600; op++) {
      const r = random();
      if (r < 0.35) {
        const kind = kinds[Math.floor(random() * 3)] as OutboxBatchKind;
        const b = append(store, kind, 50);
        stored.set(b.seq, { kind, hash: b.hash });
      } else if (r < 0.7) {
        const limit = 1 + Math.floor(random() * 5);
        const expected = [...stored]
          .filter(([seq]) => (until.get(seq) ?? -Infinity) <= clock.now)
          .sort(([a, x], [b, y]) => kinds.indexOf(x.kind) - kinds.indexOf(y.kind) || a - b)
          .slice(0, limit)
          .map(([seq]) => seq);
        expect(store.nextToSend(limit).map((b) => b.seq)).toEqual(expected);
        for (const seq of expected) until.set(seq, clock.now + 1_000);
      } else if (r < 0.78) {
        const seqs = [...until.keys()].filter(() => random() < 0.3);
        store.releaseInFlight(seqs);
        for (const seq of seqs) until.delete(seq);
      } else if (r < 0.9) {
        const seqs = [...stored.keys()];
        const seq = seqs[Math.floor(random() * seqs.length)];
        if (seq === undefined) continue;
        store.markReceipted(seq, stored.get(seq)!.hash, receipt(seq));
        stored.delete(seq);
        until.delete(seq);
      } else {
        clock.now += Math.floor(random() * 700);
      }
    }
    expect(store.stats().depth).toBe(stored.size);
  });
});

describe('OutboxStore receipts', () => {
  it('deletes the bytes, keeps a receipt row, and is idempotent', () => {
    const { store, clock } = freshStore();
    const b0 = append(store, 'routine', 500);
    const b1 = append(store, 'event', 300);
    clock.now += 5_000;
    expect(store.markReceipted(1, b1.hash, receipt(1), { logIndex: 42 })).toBe('receipted');
    expect(store.stats()).toMatchObject({
      depth: 1,
      bytes: 500,
      lastReceiptAt: clock.now,
      oldestUnreceiptedAgeMs: 5_000,
    });
    expect(store.receiptOf(1)).toEqual({
      seq: 1,
      hash: b1.hash,
      logIndex: 42,
      receivedAt: clock.now,
      receipt: receipt(1),
    });
    expect(store.nextToSend(10).map((b) => b.seq)).toEqual([0]);
    clock.now += 1_000;
    expect(store.markReceipted(1, b1.hash, receipt(1))).toBe('already-receipted');
    expect(store.receiptOf(1)?.receivedAt).toBe(clock.now - 1_000);
    expect(store.markReceipted(0, b0.hash, receipt(0))).toBe('receipted');
    expect(store.receiptOf(0)?.logIndex).toBeUndefined();
    expect(store.stats()).toMatchObject({ depth: 0, bytes: 0, oldestUnreceiptedAgeMs: undefined });
  });

  it('refuses a hash mismatch and an unknown seq, changing nothing', () => {
    const { store } = freshStore();
    const b0 = append(store, 'routine');
    const b1 = append(store, 'routine');
    const before = store.stats();
    expect(codeOf(() => store.markReceipted(0, b1.hash, receipt(0)))).toBe('hash-mismatch');
    expect(store.stats()).toEqual(before);
    expect(store.receiptOf(0)).toBeUndefined();
    store.markReceipted(0, b0.hash, receipt(0));
    expect(codeOf(() => store.markReceipted(0, b1.hash, receipt(0)))).toBe('hash-mismatch');
    expect(codeOf(() => store.markReceipted(2, b1.hash, receipt(2)))).toBe('unknown-batch');
    expect(store.receiptOf(0)?.hash).toEqual(b0.hash);
  });

  it('keeps a receipt for a batch evicted after it was published', () => {
    const { store } = freshStore({ quotaBytes: 1_000 });
    const b0 = append(store, 'routine', 600);
    append(store, 'routine', 600); // evicts seq 0
    expect(store.pendingDrops().map((d) => d.seq)).toEqual([0]);
    expect(store.markReceipted(0, b0.hash, receipt(0))).toBe('receipted');
    expect(store.receiptOf(0)?.hash).toEqual(b0.hash);
    expect(store.pendingDrops().map((d) => d.seq)).toEqual([0]);
    expect(codeOf(() => store.markReceipted(0, new Uint8Array(32), receipt(0)))).toBe(
      'hash-mismatch',
    );
  });

  it('prunes old receipts without touching the chain', () => {
    const { store, clock } = freshStore();
    const b0 = append(store, 'routine');
    const b1 = append(store, 'routine');
    store.markReceipted(0, b0.hash, receipt(0));
    clock.now += 10_000;
    store.markReceipted(1, b1.hash, receipt(1));
    expect(store.pruneReceipts(clock.now - 1)).toBe(1);
    expect(store.receiptOf(0)).toBeUndefined();
    expect(store.receiptOf(1)).toBeDefined();
    expect(store.chainHead()).toEqual({ nextSeq: 2, prevHash: b1.hash });
  });
});

describe('OutboxStore disk quota', () => {
  it('evicts the oldest routine batches, never events or traces, and reports the drops', () => {
    const { store } = freshStore({ quotaBytes: 10_000 });
    const routine = [append(store, 'routine', 1_000), append(store, 'routine', 1_000)];
    append(store, 'event', 3_000);
    append(store, 'trace', 3_000);
    append(store, 'routine', 1_000);
    expect(store.stats().bytes).toBe(9_000);
    const b5 = chainedBatch(store.chainHead(), 'routine', 2_500);
    const { evicted } = store.appendBatch(b5);
    expect(evicted.map((e) => e.seq)).toEqual([0, 1]);
    expect(evicted[0]).toEqual({
      seq: 0,
      hash: routine[0]?.hash,
      sampleCount: routine[0]?.sampleCount,
      firstTime: routine[0]?.firstTime,
      lastTime: routine[0]?.lastTime,
    });
    expect(store.pendingDrops()).toEqual(evicted);
    expect(store.stats()).toMatchObject({
      bytes: 9_500,
      depth: 4,
      depthByKind: { trace: 1, event: 1, routine: 2 },
      evictionsTotal: 2,
      pendingDrops: 2,
    });
    expect(store.nextToSend(10).map((b) => b.seq)).toEqual([3, 2, 4, 5]);
  });

  it('refuses a routine batch when only events and traces fill the quota, keeping everything', () => {
    const { store } = freshStore({ quotaBytes: 4_000 });
    append(store, 'event', 1_500);
    append(store, 'trace', 1_500);
    append(store, 'routine', 1_000);
    const head = store.chainHead();
    const tooBig = chainedBatch(head, 'routine', 2_000);
    let error: unknown;
    try {
      store.appendBatch(tooBig);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QuotaError);
    expect(error).toMatchObject({ code: 'quota-exceeded', shortBytes: 1_000 });
    expect(store.chainHead()).toEqual(head);
    expect(store.stats()).toMatchObject({ depth: 3, bytes: 4_000, evictionsTotal: 0 });

    // An event still gets in: it evicts every routine batch and goes over the quota.
    const { evicted } = store.appendBatch(chainedBatch(head, 'event', 2_000));
    expect(evicted.map((e) => e.seq)).toEqual([2]);
    expect(store.stats()).toMatchObject({ bytes: 5_000, depthByKind: { routine: 0 } });
    // And a routine batch now has nothing to evict.
    const small = chainedBatch(store.chainHead(), 'routine', 100);
    expect(() => store.appendBatch(small)).toThrow(QuotaError);
  });

  it('refuses a single routine batch larger than the quota', () => {
    const { store } = freshStore({ quotaBytes: 1_000 });
    expect(codeOf(() => store.appendBatch(chainedBatch(store.chainHead(), 'routine', 1_001)))).toBe(
      'quota-exceeded',
    );
    expect(store.chainHead().nextSeq).toBe(0);
  });

  it('clears declared drops with the batch that declares them, and only those', () => {
    const { store, reopen } = freshStore({ quotaBytes: 2_000 });
    append(store, 'routine', 900);
    append(store, 'routine', 900);
    append(store, 'routine', 900); // evicts 0
    expect(store.pendingDrops().map((d) => d.seq)).toEqual([0]);
    // Declaring something that is not pending is refused, changing nothing.
    const bogus = chainedBatch(store.chainHead(), 'event', 100, { declaredDrops: [1] });
    expect(codeOf(() => store.appendBatch(bogus))).toBe('unknown-drop');
    expect(store.chainHead().nextSeq).toBe(3);
    // A crash between pendingDrops() and appendBatch() loses nothing: still pending.
    store.close();
    const again = reopen();
    expect(again.pendingDrops().map((d) => d.seq)).toEqual([0]);
    // seq 3 declares drop 0 and, being large, evicts 1: only 0 stops being pending.
    append(again, 'routine', 900, [0]);
    expect(again.pendingDrops().map((d) => d.seq)).toEqual([1]);
  });

  it('declares again the drops of a declaring batch that is itself evicted', () => {
    const { store } = freshStore({ quotaBytes: 2_000 });
    append(store, 'routine', 1_000); // 0
    append(store, 'routine', 1_000); // 1
    append(store, 'event', 100); // 2, evicts 0
    append(store, 'routine', 1_000, [0]); // 3 declares 0, evicts 1
    expect(store.pendingDrops().map((d) => d.seq)).toEqual([1]);
    append(store, 'routine', 1_000, [1]); // 4 declares 1, evicts 3 (which declared 0)
    // The node never sees seq 3, so drop 0 must be declared by a later batch.
    expect(store.pendingDrops().map((d) => d.seq)).toEqual([0, 3]);
    expect(store.stats().evictionsTotal).toBe(3);
  });
});

describe('OutboxStore file', () => {
  it('uses WAL with synchronous=FULL and records its schema version', () => {
    const { store, path } = freshStore();
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(OUTBOX_MIGRATIONS.length);
    db.close();
  });

  it('refuses a file from a newer agent and a file of another device', () => {
    const { store, path } = freshStore();
    store.close();
    expect(
      codeOf(() => OutboxStore.open({ path, deviceId: OTHER_DEVICE, quotaBytes: 1_000 })),
    ).toBe('wrong-device');
    const db = new Database(path);
    db.pragma(`user_version = ${OUTBOX_MIGRATIONS.length + 1}`);
    db.close();
    expect(codeOf(() => OutboxStore.open({ path, deviceId: DEVICE, quotaBytes: 1_000 }))).toBe(
      'schema-too-new',
    );
  });

  it('reports storage failures as storage errors', () => {
    const path = join(dir, 'no-such-folder', 'outbox.db');
    expect(codeOf(() => OutboxStore.open({ path, deviceId: DEVICE, quotaBytes: 1_000 }))).toBe(
      'storage',
    );
  });

  it('is closed after close(), which is idempotent', () => {
    const { store } = freshStore();
    store.close();
    store.close();
    expect(codeOf(() => store.chainHead())).toBe('closed');
    expect(codeOf(() => store.nextToSend(1))).toBe('closed');
    expect(codeOf(() => store.stats())).toBe('closed');
  });
});

describe('OutboxStore bad input', () => {
  const store = OutboxStore.open({
    path: join(dir, 'hostile.db'),
    deviceId: DEVICE,
    quotaBytes: 1 << 20,
  });
  afterAll(() => store.close());
  const good = chainedBatch(store.chainHead(), 'routine', 100);
  const hostile: unknown[] = [
    undefined,
    null,
    -1,
    1.5,
    NaN,
    2 ** 53,
    '1',
    {},
    [],
    new Uint8Array(31),
  ];

  it.each([
    ['seq', -1],
    ['seq', 0.5],
    ['seq', 2 ** 53],
    ['hash', new Uint8Array(31)],
    ['hash', 'ab'.repeat(32)],
    ['prev', undefined],
    ['bytes', new Uint8Array(0)],
    ['bytes', [1, 2, 3]],
    ['kind', 'crash'],
    ['kind', 'toString'],
    ['sampleCount', -1],
    ['firstTime', 1.5],
    ['lastTime', good.firstTime - 1],
    ['declaredDrops', [-1]],
    ['declaredDrops', [3, 3]],
    ['declaredDrops', 'all'],
  ])('appendBatch refuses %s = %j naming the field', (field, value) => {
    expect(() => store.appendBatch({ ...good, [field]: value })).toThrow(
      expect.objectContaining({ code: 'bad-input', message: expect.stringContaining(field) }),
    );
    expect(store.chainHead().nextSeq).toBe(0);
  });

  it('every other public function refuses hostile values with bad-input', () => {
    for (const v of hostile) {
      expect(codeOf(() => store.appendBatch(v as never))).toBe('bad-input');
      expect(codeOf(() => store.nextToSend(v as never))).toBe('bad-input');
      expect(codeOf(() => store.markReceipted(v as never, good.hash, receipt(0)))).toBe(
        'bad-input',
      );
      expect(codeOf(() => store.markReceipted(0, v as never, receipt(0)))).toBe('bad-input');
      expect(codeOf(() => store.receiptOf(v as never))).toBe('bad-input');
    }
    expect(codeOf(() => store.markReceipted(0, good.hash, new Uint8Array(0)))).toBe('bad-input');
    expect(codeOf(() => store.markReceipted(0, good.hash, receipt(0), { logIndex: -1 }))).toBe(
      'bad-input',
    );
    expect(codeOf(() => store.nextToSend(0))).toBe('bad-input');
    expect(codeOf(() => store.pruneReceipts(NaN))).toBe('bad-input');
    expect(codeOf(() => store.releaseInFlight('all' as never))).toBe('bad-input');
  });

  it.each([
    ['path', { path: '' }],
    ['deviceId', { deviceId: 'ABC' }],
    ['quotaBytes', { quotaBytes: 0 }],
    ['resendAfterMs', { resendAfterMs: -5 }],
    ['now', { now: 5 }],
  ])('open refuses a bad %s', (field, patch) => {
    const options = { path: join(dir, 'bad.db'), deviceId: DEVICE, quotaBytes: 1_000, ...patch };
    expect(() => OutboxStore.open(options as OutboxOptions)).toThrow(
      expect.objectContaining({ code: 'bad-input', message: expect.stringContaining(field) }),
    );
  });

  it('has one message per error code', () => {
    for (const code of Object.keys(OUTBOX_ERROR_CODES) as OutboxErrorCode[]) {
      const e = new OutboxError(code);
      expect(e.message).toBe(OUTBOX_ERROR_CODES[code]);
      expect(e.message.length).toBeGreaterThan(10);
    }
    expect(new QuotaError('full', 5)).toMatchObject({ name: 'QuotaError', code: 'quota-exceeded' });
  });
});
