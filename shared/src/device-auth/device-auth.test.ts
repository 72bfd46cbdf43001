import { describe, expect, it } from 'vitest';
import { generateDeviceKey, signEs256k, verifyEs256k } from '../crypto/index.js';
import { createMqttToken, enrolmentProofMessage, verifyMqttToken } from './device-auth.js';

describe('MQTT token', () => {
  const key = generateDeviceKey();
  const other = generateDeviceKey();
  const now = 1_764_000_000_000;
  const check = (token: Uint8Array, over: Partial<Parameters<typeof verifyMqttToken>[1]> = {}) =>
    verifyMqttToken(token, {
      deviceId: key.deviceId,
      publicKey: key.publicKey,
      nowMs: now,
      ...over,
    });

  it('verifies a fresh token and returns its nonce', () => {
    const nonce = new Uint8Array(16).fill(7);
    const v = check(createMqttToken(key.deviceId, key.privateKey, now - 1_000, nonce));
    expect(v).toEqual({ ok: true, claims: { deviceId: key.deviceId, timeMs: now - 1_000, nonce } });
  });

  it('gives each token a new nonce', () => {
    const a = createMqttToken(key.deviceId, key.privateKey, now);
    const b = createMqttToken(key.deviceId, key.privateKey, now);
    expect(a).not.toEqual(b);
  });

  it('refuses another device’s key, another username, stale and future tokens', () => {
    const t = createMqttToken(key.deviceId, key.privateKey, now);
    expect(check(t, { publicKey: other.publicKey })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(check(t, { deviceId: other.deviceId })).toEqual({ ok: false, reason: 'wrong-device' });
    expect(check(createMqttToken(key.deviceId, key.privateKey, now - 121_000))).toEqual({ ok: false, reason: 'expired' });
    expect(check(createMqttToken(key.deviceId, key.privateKey, now + 121_000))).toEqual({ ok: false, reason: 'from-the-future' });
  }); // prettier-ignore

  it('refuses any single flipped byte and garbage', () => {
    const t = createMqttToken(key.deviceId, key.privateKey, now);
    for (let i = 0; i < t.length; i++) {
      const bad = t.slice();
      bad[i]! ^= 0x01;
      expect(check(bad).ok, `byte ${i}`).toBe(false);
    }
    for (const junk of [new Uint8Array(0), new Uint8Array(64), new Uint8Array(300), new TextEncoder().encode('password')]) {
      expect(check(junk)).toEqual({ ok: false, reason: 'malformed' });
    }
  }); // prettier-ignore

  it('rejects misuse when creating', () => {
    expect(() => createMqttToken('nope', key.privateKey)).toThrow(TypeError);
    expect(() => createMqttToken(key.deviceId, key.privateKey, -1)).toThrow(TypeError);
  });
});

describe('enrolment proof', () => {
  it('binds the token to the public key', () => {
    const key = generateDeviceKey();
    const msg = enrolmentProofMessage('tok', key.publicKey);
    const proof = signEs256k(msg, key.privateKey);
    expect(verifyEs256k(msg, proof, key.publicKey)).toBe(true);
    expect(verifyEs256k(enrolmentProofMessage('other', key.publicKey), proof, key.publicKey)).toBe(
      false,
    );
  });
});
