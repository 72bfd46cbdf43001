import { describe, expect, it } from 'vitest';
import { buildBatchPayload, signBatch, verifyBatch } from '../batch/signed-batch.js';
import { generateDeviceKey } from '../crypto/index.js';
import { createKeyRotationRequest, verifyKeyRotationRequest } from './key-rotation.js';

describe('key rotation request', () => {
  const current = generateDeviceKey();
  const next = generateDeviceKey();
  const stranger = generateDeviceKey();
  const deviceId = current.deviceId;
  const now = 1_764_000_000_000;
  const nonce = new Uint8Array(16).fill(3);
  const request = (over: Partial<Parameters<typeof createKeyRotationRequest>[0]> = {}) =>
    createKeyRotationRequest({
      deviceId,
      currentKey: current,
      newKey: next,
      fromSeq: 12,
      timeMs: now - 1_000,
      nonce,
      ...over,
    });
  const check = (r: Uint8Array, nowMs = now) =>
    verifyKeyRotationRequest(r, { deviceId, currentPublicKey: current.publicKey, nowMs });

  it('verifies a request signed by the current key and the new one', () => {
    expect(check(request())).toEqual({
      ok: true,
      claims: { deviceId, publicKey: next.publicKey, fromSeq: 12, timeMs: now - 1_000, nonce },
    });
  });

  it('refuses a request not signed by the current key', () => {
    expect(check(request({ currentKey: stranger }))).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a new key whose holder did not sign (no proof of possession)', () => {
    // The stranger's private key signs for next's public key: the proof does not hold.
    const forged = request({
      newKey: { publicKey: next.publicKey, privateKey: stranger.privateKey },
    });
    expect(check(forged)).toEqual({ ok: false, reason: 'bad-proof' });
  });

  it('refuses a flipped byte anywhere', () => {
    const r = request();
    for (let i = 0; i < r.length; i++) {
      const bad = r.slice();
      bad[i]! ^= 1;
      expect(check(bad).ok, `byte ${i}`).toBe(false);
    }
  });

  it('refuses stale and future times, another device and the same key', () => {
    expect(check(request(), now + 10 * 60_000)).toEqual({ ok: false, reason: 'expired' });
    expect(check(request(), now - 10 * 60_000)).toEqual({ ok: false, reason: 'from-the-future' });
    expect(check(request({ deviceId: stranger.deviceId }))).toEqual({
      ok: false,
      reason: 'wrong-device',
    });
    expect(check(request({ newKey: current }))).toEqual({ ok: false, reason: 'same-key' });
    expect(check(new Uint8Array(10))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('gives each request a fresh nonce, so a replay is recognisable by it', () => {
    const a = check(
      createKeyRotationRequest({
        deviceId,
        currentKey: current,
        newKey: next,
        fromSeq: 1,
        timeMs: now,
      }),
    );
    const b = check(
      createKeyRotationRequest({
        deviceId,
        currentKey: current,
        newKey: next,
        fromSeq: 1,
        timeMs: now,
      }),
    );
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(a.claims.nonce).not.toEqual(b.claims.nonce);
  });
});

describe('a batch signed by a rotated key', () => {
  it('verifies under the device id with the rotated key only', () => {
    const first = generateDeviceKey();
    const rotated = generateDeviceKey();
    const asDevice = { ...rotated, deviceId: first.deviceId };
    const payload = buildBatchPayload({
      deviceId: first.deviceId,
      vin: null,
      seq: 3,
      start: 1_764_000_000_000,
      clock: { source: 'gnss', jumps: [] },
      samples: [],
    });
    const bytes = signBatch(payload, asDevice);
    expect(verifyBatch(bytes, rotated.publicKey, first.deviceId).ok).toBe(true);
    const wrongKey = verifyBatch(bytes, first.publicKey, first.deviceId);
    expect(wrongKey.ok || wrongKey.error.code).toBe('bad-signature');
    const wrongDevice = verifyBatch(bytes, rotated.publicKey, rotated.deviceId);
    expect(wrongDevice.ok || wrongDevice.error.code).toBe('bad-kid');
    expect(verifyBatch(bytes, rotated.publicKey).ok).toBe(false);
  });
});
