import { describe, expect, it } from 'vitest';
import {
  ed25519PublicKeyFromRaw,
  generateReceiptKey,
  rawEd25519PublicKey,
  signNodeMessage,
  verifyNodeMessage,
  type Receipt,
} from './node-message.js';

const receipt: Receipt = {
  type: 'receipt',
  deviceId: '0123456789abcdef0123456789abcdef',
  seq: 42,
  batchHash: new Uint8Array(32).fill(0xab),
  leafIndex: 1_234,
  treeSize: 1_300,
  checkpoint:
    'example.com/log\n1300\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n\n— example.com/log AAAA\n',
  inclusionProof: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)],
  receivedAt: 1_764_000_000_000,
};

describe('node messages (receipts, resend requests)', () => {
  const { privateKey, publicKey } = generateReceiptKey();

  it('round-trips a receipt and a resend request', () => {
    const v = verifyNodeMessage(signNodeMessage(receipt, privateKey), publicKey);
    expect(v).toEqual({ ok: true, value: receipt });
    const resend = { type: 'resend', deviceId: receipt.deviceId, seqs: [3, 4, 5] } as const;
    expect(verifyNodeMessage(signNodeMessage(resend, privateKey), publicKey)).toEqual({
      ok: true,
      value: resend,
    });
  });

  it('verifies with the raw 32-byte public key the agent keeps in its config', () => {
    const raw = rawEd25519PublicKey(publicKey);
    expect(raw).toHaveLength(32);
    const v = verifyNodeMessage(signNodeMessage(receipt, privateKey), ed25519PublicKeyFromRaw(raw));
    expect(v.ok).toBe(true);
  });

  it('refuses another node’s signature and every single flipped byte', () => {
    const bytes = signNodeMessage(receipt, privateKey);
    const other = generateReceiptKey();
    const wrong = verifyNodeMessage(bytes, other.publicKey);
    expect(wrong.ok || wrong.error.code).toBe('bad-signature');
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x20;
      expect(verifyNodeMessage(bad, publicKey).ok, `byte ${i}`).toBe(false);
    }
  });

  it('gives verdicts for garbage and throws for misuse', () => {
    for (const junk of [new Uint8Array(0), new Uint8Array([0xd2, 0x80]), new Uint8Array(20_000)]) {
      expect(verifyNodeMessage(junk, publicKey).ok).toBe(false);
    }
    expect(() => verifyNodeMessage(new Uint8Array(1), privateKey)).toThrow();
    expect(() => signNodeMessage({ ...receipt, deviceId: 'x' }, privateKey)).toThrow(/deviceId/);
  });
});
