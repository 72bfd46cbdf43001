import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import * as secp from '@noble/secp256k1';
import { describe, expect, it } from 'vitest';
import { deviceKeyFromPrivateKey, generateDeviceKey, deviceIdFromPublicKey } from './device-key.js';
import { KeyFileError } from './key-error.js';
import {
  SECP256K1_N,
  compressPublicKey,
  isLowS,
  normalizeLowS,
  secp256k1PublicKeyObject,
  signEs256k,
  verifyEs256k,
} from './secp256k1.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * RFC 6979 deterministic ECDSA on secp256k1 with SHA-256: the community vectors first published
 * on bitcointalk (topic 285142, msg3150733) and reused by bitcoinj, python-ecdsa and trezor.
 * `raw` is the RFC 6979 signature as computed; `lowS` is its canonical half (BIP 62).
 */
const RFC6979_SECP256K1 = [
  {
    d: '01',
    msg: 'Satoshi Nakamoto',
    r: '934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8',
    rawS: 'dbbd3162d46e9f9bef7feb87c16dc13b4f6568a87f4e83f728e2443ba586675c',
    lowS: '2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5',
  },
  {
    d: '01',
    msg: 'All those moments will be lost in time, like tears in rain. Time to die...',
    r: '8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b',
    rawS: 'ab8019bbd8b6924cc4099fe625340ffb1eaac34bf4477daa39d0835429094520',
    lowS: '547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21',
  },
  {
    d: 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140',
    msg: 'Satoshi Nakamoto',
    r: 'fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0',
    rawS: '94c632f14e4379fc1ea610a3df5a375152549736425ee17cebe10abbc2a2826c',
    lowS: '6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5',
  },
  {
    d: 'f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181',
    msg: 'Alan Turing',
    r: '7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c',
    rawS: 'a72033e1ff5ca1ea8d0c99001cb45f0272d3be7525d3049c0d9e98dc7582b857',
    lowS: '58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea',
  },
  {
    d: 'e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2',
    msg:
      'There is a computer disease that anybody who works with computers knows about.' +
      " It's a very serious disease and it interferes completely with the work." +
      " The trouble with computers is that you 'play' with them!",
    r: 'b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b',
    rawS: '279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6',
    lowS: '279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6',
  },
];

describe('ES256K: RFC 6979 secp256k1 vectors', () => {
  it.each(RFC6979_SECP256K1)('signs "$msg" with d=$d', (v) => {
    const key = deviceKeyFromPrivateKey(unhex(v.d.padStart(64, '0')));
    const sig = signEs256k(text(v.msg), key.privateKey);
    expect(hex(sig)).toBe(v.r + v.lowS);
    expect(verifyEs256k(text(v.msg), sig, key.publicKey)).toBe(true);
    // node:crypto accepts the raw RFC 6979 form; we accept only its low-S twin.
    const raw = unhex(v.r + v.rawS);
    expect(hex(normalizeLowS(raw))).toBe(v.r + v.lowS);
    expect(isLowS(raw)).toBe(v.rawS === v.lowS);
    expect(verifyEs256k(text(v.msg), raw, key.publicKey)).toBe(v.rawS === v.lowS);
  });
});

describe('ES256K: noble and node:crypto agree both ways', () => {
  it('noble signatures verify with node:crypto, node:crypto signatures (normalised) with noble', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const jwk = privateKey.export({ format: 'jwk' });
    const d = new Uint8Array(Buffer.from(jwk.d ?? '', 'base64url'));
    const device = deviceKeyFromPrivateKey(d);
    const spkiPub = compressPublicKey(
      new Uint8Array([
        4,
        ...Buffer.from(jwk.x ?? '', 'base64url'),
        ...Buffer.from(jwk.y ?? '', 'base64url'),
      ]),
    );
    expect(hex(spkiPub)).toBe(hex(device.publicKey));
    const keyObject = secp256k1PublicKeyObject(device.publicKey);
    expect(keyObject.export({ format: 'jwk' })).toEqual(publicKey.export({ format: 'jwk' }));

    let highSeen = 0;
    let lowSeen = 0;
    for (let i = 0; i < 40; i++) {
      const msg = text(`message ${i}`);
      // noble -> node
      const ours = signEs256k(msg, device.privateKey);
      expect(isLowS(ours)).toBe(true);
      expect(verifyEs256k(msg, ours, keyObject)).toBe(true);
      // node -> noble, with and without normalisation
      const theirs = new Uint8Array(
        nodeSign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      );
      const normalised = normalizeLowS(theirs);
      expect(secp.verify(normalised, msg, device.publicKey)).toBe(true);
      expect(verifyEs256k(msg, normalised, device.publicKey)).toBe(true);
      if (isLowS(theirs)) {
        lowSeen++;
        expect(hex(normalised)).toBe(hex(theirs));
      } else {
        highSeen++;
        expect(secp.verify(theirs, msg, device.publicKey)).toBe(false); // noble is low-S by default too
        expect(secp.verify(theirs, msg, device.publicKey, { lowS: false })).toBe(true);
        expect(verifyEs256k(msg, theirs, device.publicKey)).toBe(false);
      }
    }
    // 40 draws with p = 1/2 each: both halves show up except with probability 2^-39.
    expect(highSeen).toBeGreaterThan(0);
    expect(lowSeen).toBeGreaterThan(0);
  });

  it('rejects a signature for another message, key, or with r or s out of range', () => {
    const a = generateDeviceKey();
    const b = generateDeviceKey();
    const sig = signEs256k(text('x'), a.privateKey);
    expect(verifyEs256k(text('y'), sig, a.publicKey)).toBe(false);
    expect(verifyEs256k(text('x'), sig, b.publicKey)).toBe(false);
    expect(verifyEs256k(text('x'), new Uint8Array(64), a.publicKey)).toBe(false);
    const nAsBytes = unhex(SECP256K1_N.toString(16));
    expect(
      verifyEs256k(text('x'), new Uint8Array([...sig.subarray(0, 32), ...nAsBytes]), a.publicKey),
    ).toBe(false);
    expect(verifyEs256k(text('x'), sig.subarray(0, 63), a.publicKey)).toBe(false);
  });
});

describe('device keys', () => {
  it('derives the device id as hex of the first 16 bytes of SHA-256(compressed key)', () => {
    const key = deviceKeyFromPrivateKey(unhex('01'.padStart(64, '0')));
    // The generator point G, compressed.
    expect(hex(key.publicKey)).toBe(
      '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    );
    const expected = createHash256(key.publicKey).slice(0, 32);
    expect(key.deviceId).toBe(expected);
    expect(deviceIdFromPublicKey(secp.getPublicKey(key.privateKey, false))).toBe(expected);
    expect(key.deviceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses bad private and public keys with KeyFileError bad-key', () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(32), unhex(SECP256K1_N.toString(16))]) {
      expect(() => deviceKeyFromPrivateKey(bad)).toThrow(KeyFileError);
    }
    expect(() => deviceIdFromPublicKey(new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'bad-key' }),
    );
    expect(() => secp256k1PublicKeyObject(new Uint8Array(10))).toThrow(
      expect.objectContaining({ code: 'bad-key' }),
    );
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(() => verifyEs256k(text('x'), new Uint8Array(64), p256)).toThrow(
      expect.objectContaining({ code: 'bad-key' }),
    );
  });
});

function createHash256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
