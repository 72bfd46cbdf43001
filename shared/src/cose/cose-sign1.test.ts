import {
  createPublicKey,
  createPrivateKey,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { generateDeviceKey } from '../crypto/device-key.js';
import { secp256k1PublicKeyObject, signEs256k } from '../crypto/secp256k1.js';
import {
  COSE_HEADER,
  ES256,
  ES256K,
  coseSigStructure,
  decodeCoseSign1,
  signCoseSign1,
  verifyCoseSign1,
} from './index.js';

const vectorDir = new URL('../../vectors/cose/', import.meta.url);
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

interface CoseVector {
  title: string;
  fail?: boolean;
  input: {
    plaintext: string;
    sign0: { key: { x: string; y: string; d: string }; external?: string };
  };
  intermediates: { ToBeSign_hex: string };
  output: { cbor: string };
}

const vectors = readdirSync(vectorDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, vectorDir), 'utf8')) as CoseVector] as const);

function p256Key(v: CoseVector): KeyObject {
  const { x, y } = v.input.sign0.key;
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
}

/** What each cose-wg fail file must be refused with (see its `failures` member). */
const EXPECTED_FAILURE: Record<string, string> = {
  'sign-fail-01.json': 'bad-tag', // ChangeCBORTag 998
  'sign-fail-02.json': 'bad-signature', // payload byte changed
  'sign-fail-03.json': 'bad-alg', // alg -999
  'sign-fail-04.json': 'bad-alg', // alg "unknown"
  'sign-fail-06.json': 'bad-signature', // protected attribute added after signing
  'sign-fail-07.json': 'bad-signature', // protected attribute removed after signing
};

describe('COSE_Sign1: cose-wg sign1-tests vectors (ES256)', () => {
  it('has the nine files the README lists', () => {
    expect(vectors.map(([f]) => f)).toHaveLength(9);
  });

  it.each(vectors.filter(([, v]) => !v.fail))(
    '%s decodes, rebuilds ToBeSign byte for byte, verifies',
    (_f, v) => {
      const decoded = decodeCoseSign1(unhex(v.output.cbor), { requireTag: false });
      if (!decoded.ok) throw decoded.error;
      const msg = decoded.value;
      expect(new TextDecoder().decode(msg.payload)).toBe(v.input.plaintext);
      const external = v.input.sign0.external ? unhex(v.input.sign0.external) : new Uint8Array(0);
      const protectedForSig =
        msg.protectedHeader.size === 0 ? new Uint8Array(0) : msg.protectedBytes;
      expect(hex(coseSigStructure(protectedForSig, msg.payload, external))).toBe(
        v.intermediates.ToBeSign_hex,
      );
      const verdict = verifyCoseSign1(msg, p256Key(v), ES256, external);
      expect(verdict.ok).toBe(true);
      // The same message is refused under the wrong external AAD and under ES256K.
      expect(verifyCoseSign1(msg, p256Key(v), ES256, new Uint8Array([1])).ok).toBe(false);
      expect(() => verifyCoseSign1(msg, p256Key(v), ES256K)).toThrow(WireFormatError);
    },
  );

  it.each(vectors.filter(([, v]) => v.fail))('%s is refused with the right code', (f, v) => {
    const expected = EXPECTED_FAILURE[f];
    expect(expected).toBeDefined();
    const decoded = decodeCoseSign1(unhex(v.output.cbor), { requireTag: false });
    const verdict = decoded.ok ? verifyCoseSign1(decoded.value, p256Key(v), ES256) : decoded;
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.error.code).toBe(expected);
    // The signature is genuine over the original ToBeSign: only the mutation makes it fail.
    const sig = unhex(v.output.cbor).subarray(-64);
    const tbs = unhex(v.intermediates.ToBeSign_hex);
    expect(nodeVerify('sha256', tbs, { key: p256Key(v), dsaEncoding: 'ieee-p1363' }, sig)).toBe(
      true,
    );
  });

  it('signing sign-pass-02 input reproduces its bytes up to the (randomised) signature', () => {
    const [, v] = vectors.find(([f]) => f === 'sign-pass-02.json') ?? [];
    if (!v) throw new Error('vector missing');
    const { x, y, d } = v.input.sign0.key;
    const priv = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x, y, d }, format: 'jwk' });
    const bytes = signCoseSign1(
      {
        protectedHeader: new Map([[COSE_HEADER.alg, ES256.id]]),
        unprotectedHeader: new Map([[COSE_HEADER.kid, new TextEncoder().encode('11')]]),
        payload: new TextEncoder().encode(v.input.plaintext),
        externalAad: unhex(v.input.sign0.external ?? ''),
      },
      (tbs) => {
        expect(hex(tbs)).toBe(v.intermediates.ToBeSign_hex);
        return new Uint8Array(nodeSign('sha256', tbs, { key: priv, dsaEncoding: 'ieee-p1363' }));
      },
    );
    expect(hex(bytes).slice(0, -128)).toBe(v.output.cbor.slice(0, -128));
    const decoded = decodeCoseSign1(bytes);
    if (!decoded.ok) throw decoded.error;
    expect(
      verifyCoseSign1(decoded.value, p256Key(v), ES256, unhex(v.input.sign0.external ?? '')).ok,
    ).toBe(true);
  });
});

describe('COSE_Sign1: ES256K through the same path', () => {
  const key = generateDeviceKey();
  const keyObject = secp256k1PublicKeyObject(key.publicKey);
  const sign = (tbs: Uint8Array): Uint8Array => signEs256k(tbs, key.privateKey);
  const payload = new TextEncoder().encode('payload');

  it('signs and verifies, and refuses untagged, wrong tags and non-deterministic envelopes', () => {
    const bytes = signCoseSign1(
      { protectedHeader: new Map([[COSE_HEADER.alg, ES256K.id]]), payload },
      sign,
    );
    expect(bytes[0]).toBe(0xd2);
    const decoded = decodeCoseSign1(bytes);
    if (!decoded.ok) throw decoded.error;
    expect(verifyCoseSign1(decoded.value, keyObject, ES256K).ok).toBe(true);

    const untagged = bytes.subarray(1);
    const r1 = decodeCoseSign1(untagged);
    expect(!r1.ok && r1.error.code).toBe('bad-tag');
    expect(decodeCoseSign1(untagged, { requireTag: false }).ok).toBe(true);

    // Signature length spelled 59 00 40 instead of 58 40: same signature, other bytes.
    const longForm = new Uint8Array([
      ...bytes.subarray(0, bytes.length - 66),
      0x59,
      0x00,
      0x40,
      ...bytes.subarray(-64),
    ]);
    const r2 = decodeCoseSign1(longForm);
    expect(!r2.ok && r2.error.code).toBe('not-deterministic');
    expect(decodeCoseSign1(longForm, { deterministic: false }).ok).toBe(true);
  });

  it('refuses alg in both headers, crit, detached payloads, wrong shapes', () => {
    const both = signCoseSign1(
      { protectedHeader: new Map([[1, -47]]), unprotectedHeader: new Map([[1, -47]]), payload },
      sign,
    );
    const r1 = decodeCoseSign1(both);
    expect(!r1.ok && r1.error.code).toBe('bad-header');
    const crit = signCoseSign1(
      {
        protectedHeader: new Map<number, number | number[]>([
          [1, -47],
          [2, [99]],
        ]),
        payload,
      },
      sign,
    );
    const r2 = decodeCoseSign1(crit);
    expect(!r2.ok && r2.error.code).toBe('bad-header');
    const noAlg = signCoseSign1({ protectedHeader: new Map([[4, payload]]), payload }, sign);
    const r3 = decodeCoseSign1(noAlg);
    if (!r3.ok) throw r3.error;
    const v3 = verifyCoseSign1(r3.value, keyObject, ES256K);
    expect(!v3.ok && v3.error.code).toBe('bad-alg');
    const hostile: [string, string, string][] = [
      ['80', 'bad-tag', 'untagged empty array'],
      ['d28340a040', 'not-cose', 'three items'],
      ['d2844040f640', 'not-cose', 'unprotected header is a byte string'],
      ['d28440a0f64100', 'not-cose', 'detached payload'],
      ['d2844101a0404140', 'bad-header', 'protected header is not a map'],
      ['d28442a101a0404140', 'bad-header', 'protected header is truncated CBOR'],
      ['d28443a10126a0404140', 'bad-signature', 'one-byte signature'],
      ['d28440a04040', 'bad-alg', 'empty everything'],
    ];
    for (const [h, code, what] of hostile) {
      const decoded = decodeCoseSign1(unhex(h));
      // alg -7 accepted for a secp256k1 key here so that the signature checks are reached.
      const verdict = decoded.ok
        ? verifyCoseSign1(decoded.value, keyObject, { ...ES256K, id: -7 })
        : decoded;
      expect(verdict.ok ? 'ok' : verdict.error.code, what).toBe(code);
    }
  });
});
