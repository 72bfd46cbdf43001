import {
  batchHash,
  buildBatchPayload,
  generateDeviceKey,
  decodeBatch,
  signBatch,
  ZERO_HASH,
  type DeviceKey,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from './collect-garbage.test-support.js';
import { toVerifiedBatch, type VerifyResult } from './verified-batch.js';
import { VerifierPool } from './verifier-pool.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);

let pool: VerifierPool;
beforeAll(() => {
  pool = new VerifierPool(2);
});
afterAll(() => pool.close());

function signed(key: DeviceKey, seq: number, prev: Uint8Array): Uint8Array {
  return signBatch(
    buildBatchPayload({
      deviceId: key.deviceId,
      vin: VIN,
      seq,
      prev,
      clock: { source: 'gnss', jumps: [] },
      samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: T0 + seq * 1_000, value: seq }],
    }),
    key,
  );
}

describe('VerifierPool', () => {
  it('answers each request with its own verdict, whichever worker took it', async () => {
    const keys = [generateDeviceKey(), generateDeviceKey()];
    const asked: { bytes: Uint8Array; key: DeviceKey; seq: number; ok: boolean }[] = [];
    for (const [k, key] of keys.entries()) {
      let prev = ZERO_HASH;
      for (let seq = 0; seq < 150; seq++) {
        const bytes = signed(key, seq, prev);
        prev = batchHash(bytes);
        // Every seventh is checked against the other device's key: it must fail alone.
        const wrong = seq % 7 === 3;
        asked.push({ bytes, key: wrong ? (keys[1 - k] as DeviceKey) : key, seq, ok: !wrong });
      }
    }
    const results = await Promise.all(
      asked.map((a) => pool.verify(a.bytes, a.key.publicKey, T0 + 5, a.key.deviceId)),
    );
    results.forEach((r, i) => {
      const a = asked[i] as (typeof asked)[number];
      expect(r.ok).toBe(a.ok);
      if (r.ok) {
        expect(r.batch.deviceId).toBe(a.key.deviceId);
        expect(r.batch.seq).toBe(a.seq);
        expect(r.batch.hash).toEqual(batchHash(a.bytes));
        expect(r.batch.receivedAt).toBe(T0 + 5);
      } else {
        expect(r.code).toBe('bad-kid');
      }
    });
  });

  it('hands back every field of a verified batch as this thread would compute it', async () => {
    // Batches with and without events, declared drops and a VIN, interleaved, so the answers'
    // columns and their sparse extras must stay aligned.
    const key = generateDeviceKey();
    const inputs = Array.from({ length: 40 }, (_, seq) => ({
      deviceId: key.deviceId,
      vin: seq % 3 === 0 ? null : VIN,
      kind: seq % 5 === 0 ? ('event' as const) : ('routine' as const),
      seq,
      prev: ZERO_HASH,
      clock: { source: 'gnss' as const, jumps: [] },
      samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: T0 + seq * 1_000 + seq, value: seq }],
      events:
        seq % 5 === 0
          ? [{ type: 'harsh-braking', priority: 'high' as const, start: T0 + seq * 1_000, end: T0 + seq * 1_000 + 700, data: { peak: seq } }]
          : [],
      dropped: seq % 7 === 6 ? [{ seq: seq - 1, hash: new Uint8Array(32).fill(seq), samples: 10, start: T0, end: T0 + 900 }] : [],
    })); // prettier-ignore
    const all = inputs.map((input) => signBatch(buildBatchPayload(input), key));
    const results = await Promise.all(all.map((bytes, i) => pool.verify(bytes, key.publicKey, T0 + i, key.deviceId)));
    results.forEach((r, i) => {
      const bytes = all[i] as Uint8Array;
      const decoded = decodeBatch(bytes);
      if (!r.ok || !decoded.ok) throw new Error(`batch ${i} did not verify`);
      expect({ ...r.batch }).toEqual({ ...toVerifiedBatch(decoded.value.payload, bytes, T0 + i) });
    });
    expect(results.filter((r) => r.ok && r.batch.events.length > 0)).toHaveLength(8);
    expect(results.filter((r) => r.ok && r.batch.declaredDrops.length > 0)).toHaveLength(5);
  }); // prettier-ignore

  it('lets go of the bytes of requests it has sent while others still wait to be', async () => {
    // Under a sustained backlog the queue never empties: what was sent must not stay in it.
    const key = generateDeviceKey();
    const sent: WeakRef<Uint8Array>[] = [];
    const answers: Promise<VerifyResult>[] = [];
    (() => {
      for (let i = 0; i < 2_000; i++) {
        const bytes = new Uint8Array(900).fill(0xff);
        if (i < 100) sent.push(new WeakRef(bytes));
        answers.push(pool.verify(bytes, key.publicKey, T0, key.deviceId));
      }
    })();
    const first = await Promise.all(answers.slice(0, 200));
    expect(first.map((r) => (r.ok ? 'ok' : r.code))).toEqual(Array(200).fill('bad-cbor'));
    collectGarbage();
    expect(sent.filter((w) => w.deref() !== undefined)).toHaveLength(0);
    expect((await Promise.all(answers)).every((r) => !r.ok)).toBe(true);
  });
});
