/**
 * The two crypto backends (node:crypto and noble, the browser's) against the same published
 * vectors and the same hostile inputs: whatever the verifier concludes must not depend on which
 * one the bundle picked.
 */
import { describe, expect, it } from 'vitest';
import * as browserBackend from './backend.browser.js';
import * as nodeBackend from './backend.js';

// Same names, same types: each must be usable where the other is expected.
const asNode: typeof nodeBackend = browserBackend;
const asBrowser: typeof browserBackend = nodeBackend;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** FIPS 180-2 appendix B examples and the empty string. */
const SHA256 = [
  { input: '', digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  { input: 'abc', digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  {
    input: 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
    digest: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  },
];

/** RFC 8032 §7.1, TEST 1 to 3 (Ed25519). */
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

/**
 * RFC 6979 secp256k1/SHA-256 community vectors (bitcointalk 285142, as in secp256k1.test.ts),
 * with the public key as an uncompressed point. Both halves of s verify at this layer.
 */
const SECP256K1_G =
  '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798' +
  '483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8';
const RFC6979 = [
  {
    publicKey: SECP256K1_G,
    message: 'Satoshi Nakamoto',
    r: '934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8',
    s: [
      'dbbd3162d46e9f9bef7feb87c16dc13b4f6568a87f4e83f728e2443ba586675c',
      '2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5',
    ],
  },
];

/** Ed25519 group order L, little-endian adding helper for the non-canonical S case. */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
function withSPlusL(signature: Uint8Array): Uint8Array {
  const s = signature.subarray(32).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n) + ED25519_L;
  const out = signature.slice();
  let v = s;
  for (let i = 32; i < 64; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

const backends = [
  ['node', nodeBackend],
  ['browser', browserBackend],
] as const;

describe('crypto backends', () => {
  it('export the same names', () => {
    expect(Object.keys(asNode).sort()).toEqual(Object.keys(asBrowser).sort());
    expect(nodeBackend.CRYPTO_BACKEND).toBe('node');
    expect(browserBackend.CRYPTO_BACKEND).toBe('browser');
  });

  describe.each(backends)('%s', (_name, b) => {
    it.each(SHA256)('SHA-256("$input") (FIPS 180-2)', ({ input, digest }) => {
      expect(hex(b.sha256(text(input)))).toBe(digest);
    });

    it('SHA-256 returns a plain Uint8Array', () => {
      expect(Object.getPrototypeOf(b.sha256(text('x')))).toBe(Uint8Array.prototype);
    });

    it('random bytes are fresh and of the asked length', () => {
      const a = b.randomBytes(100_000);
      expect(a.length).toBe(100_000);
      expect(hex(a.subarray(70_000, 70_032))).not.toBe('00'.repeat(32));
      expect(hex(b.randomBytes(32))).not.toBe(hex(b.randomBytes(32)));
    });

    it.each(RFC8032)('Ed25519 RFC 8032 vector (message "$message")', (v) => {
      const seed = unhex(v.seed);
      const message = unhex(v.message);
      expect(hex(b.ed25519PublicFromSeed(seed))).toBe(v.publicKey);
      expect(hex(b.ed25519Sign(b.ed25519PrivateKey(seed), message))).toBe(v.signature);
      const publicKey = b.ed25519PublicKey(unhex(v.publicKey));
      expect(b.ed25519Verify(publicKey, message, unhex(v.signature))).toBe(true);
    });

    it('Ed25519 refuses a changed message, a flipped bit, S + L and garbage', () => {
      const v = RFC8032[1]!;
      const key = b.ed25519PublicKey(unhex(v.publicKey));
      const sig = unhex(v.signature);
      expect(b.ed25519Verify(key, unhex('73'), sig)).toBe(false);
      const flipped = sig.slice();
      flipped[10]! ^= 0x04;
      expect(b.ed25519Verify(key, unhex(v.message), flipped)).toBe(false);
      expect(b.ed25519Verify(key, unhex(v.message), withSPlusL(sig))).toBe(false);
      expect(b.ed25519Verify(key, unhex(v.message), new Uint8Array(64).fill(0xff))).toBe(false);
      const notAPoint = b.ed25519PublicKey(new Uint8Array(32).fill(0xff));
      expect(b.ed25519Verify(notAPoint, unhex(v.message), sig)).toBe(false);
    });

    it.each(RFC6979)('ECDSA secp256k1 RFC 6979 "$message", both halves of s', (v) => {
      const key = b.secp256k1PublicKeyFromPoint(unhex(v.publicKey));
      expect(b.isEcPublicKey(key, 'secp256k1')).toBe(true);
      expect(b.isEcPublicKey(key, 'prime256v1')).toBe(false);
      for (const s of v.s)
        expect(b.verifyEcdsaSha256(key, text(v.message), unhex(v.r + s))).toBe(true);
      expect(b.verifyEcdsaSha256(key, text(`${v.message}!`), unhex(v.r + v.s[1]))).toBe(false);
      expect(b.verifyEcdsaSha256(key, text(v.message), new Uint8Array(64))).toBe(false);
      expect(b.verifyEcdsaSha256(key, text(v.message), unhex(v.r + v.s[1]).slice(0, 63))).toBe(
        false,
      );
    });

    it('EC public keys export as the same JWK', () => {
      const key = b.secp256k1PublicKeyFromPoint(unhex(SECP256K1_G));
      expect(key.export({ format: 'jwk' })).toEqual({
        kty: 'EC',
        crv: 'secp256k1',
        x: Buffer.from(SECP256K1_G.slice(2, 66), 'hex').toString('base64url'),
        y: Buffer.from(SECP256K1_G.slice(66), 'hex').toString('base64url'),
      });
    });

    it('isEcPublicKey says no to things that are not keys', () => {
      for (const k of [null, undefined, 1, 'k', {}, { type: 'public' }, new Uint8Array(33)])
        expect(b.isEcPublicKey(k, 'secp256k1')).toBe(false);
    });
  });

  it('a signature made by either backend verifies on the other', () => {
    const seed = new Uint8Array(32).fill(9);
    const message = text('checkpoint body');
    const fromNode = nodeBackend.ed25519Sign(nodeBackend.ed25519PrivateKey(seed), message);
    const fromBrowser = browserBackend.ed25519Sign(browserBackend.ed25519PrivateKey(seed), message);
    expect(hex(fromBrowser)).toBe(hex(fromNode));
    const pub = nodeBackend.ed25519PublicFromSeed(seed);
    expect(
      browserBackend.ed25519Verify(browserBackend.ed25519PublicKey(pub), message, fromNode),
    ).toBe(true);
  });

  it('a key from one backend is refused by the other instead of misread', () => {
    const nodeKey = nodeBackend.ed25519PublicKey(new Uint8Array(32));
    expect(() =>
      browserBackend.ed25519Verify(nodeKey, new Uint8Array(1), new Uint8Array(64)),
    ).toThrow(TypeError);
  });
});
