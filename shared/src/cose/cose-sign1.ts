/**
 * COSE_Sign1 (RFC 9052 §4.2, tag 18) with ECDSA algorithms whose signature is r‖s. Signing
 * takes a callback so the curve library stays the caller's choice; verification runs through
 * the crypto backend (node:crypto in Node, noble in the browser) for every algorithm here
 * (ES256K for devices; ES256, Node only, to check our Sig_structure against the COSE working
 * group's published vectors).
 */
import type { KeyObject } from 'node:crypto';
import { hexToBytes } from '@noble/hashes/utils.js';
import { isEcPublicKey, verifyEcdsaSha256 } from '../crypto/backend.js';
import { DEFAULT_MAX_BYTES, decodeCbor } from '../cbor/decode.js';
import { encodeCbor } from '../cbor/encode.js';
import { CborTag, type CborKey, type CborValue } from '../cbor/types.js';
import { WireFormatError, verdictOf, type Verdict } from '../cbor/wire-format-error.js';
import { SECP256K1_N } from '../crypto/secp256k1.js';

export const COSE_SIGN1_TAG = 18;

/** Common header labels (RFC 9052 §3.1). */
export const COSE_HEADER = { alg: 1, crit: 2, contentType: 3, kid: 4 } as const;

export interface CoseAlgorithm {
  /** COSE algorithm id (IANA registry). */
  readonly id: number;
  readonly name: string;
  /** node:crypto curve name the key must be on. */
  readonly namedCurve: string;
  /**
   * Group order when only low-S signatures are acceptable (s ≤ n/2): makes the signature, and
   * so the hash of the signed bytes, unique.
   */
  readonly lowSOrder?: bigint;
}

/** ECDSA secp256k1 + SHA-256 (RFC 8812 §3.2). Low-S only. */
export const ES256K: CoseAlgorithm = {
  id: -47,
  name: 'ES256K',
  namedCurve: 'secp256k1',
  lowSOrder: SECP256K1_N,
};
/** ECDSA P-256 + SHA-256 (RFC 9053 §2.1). Used here for the COSE test vectors only. */
export const ES256: CoseAlgorithm = { id: -7, name: 'ES256', namedCurve: 'prime256v1' };

const SIGNATURE_BYTES = 64;

/** A parsed COSE_Sign1; its byte fields are views into the message bytes, not copies. */
export interface CoseSign1 {
  /** The protected header exactly as received (the serialized map inside the bstr). */
  readonly protectedBytes: Uint8Array;
  readonly protectedHeader: ReadonlyMap<CborKey, CborValue>;
  readonly unprotectedHeader: ReadonlyMap<CborKey, CborValue>;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  /** Whether the message carried tag 18. */
  readonly tagged: boolean;
}

export interface CoseDecodeOptions {
  /** Refuse larger inputs before parsing. Default 256 KiB. */
  readonly maxBytes?: number;
  /** Refuse untagged messages (`bad-tag`). Default true. */
  readonly requireTag?: boolean;
  /**
   * Require deterministic CBOR for the whole message, not only the protected header (which is
   * always required): without it the same signature fits many byte strings, and so many hashes.
   * Default true.
   */
  readonly deterministic?: boolean;
}

const EMPTY = new Uint8Array(0);

/** Sig_structure = ["Signature1", body_protected, external_aad, payload] (RFC 9052 §4.4). */
export function coseSigStructure(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = EMPTY,
): Uint8Array {
  for (const [field, v] of [
    ['protectedBytes', protectedBytes],
    ['payload', payload],
    ['externalAad', externalAad],
  ] as const) {
    if (!(v instanceof Uint8Array))
      throw new WireFormatError('bad-input', `${field}: expected a Uint8Array`);
  }
  const out = new Uint8Array(sigStructureLength(protectedBytes, payload, externalAad));
  writeSigStructure(out, protectedBytes, payload, externalAad);
  return out;
}

function sigStructureLength(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array,
): number {
  return (
    SIGNATURE1_PREFIX.length +
    bstrHeadLength(protectedBytes.length) +
    protectedBytes.length +
    bstrHeadLength(externalAad.length) +
    externalAad.length +
    bstrHeadLength(payload.length) +
    payload.length
  );
}

/** Writes the Sig_structure at the start of `out`, directly: this runs on every verify. */
function writeSigStructure(
  out: Uint8Array,
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array,
): void {
  out.set(SIGNATURE1_PREFIX, 0);
  let at = SIGNATURE1_PREFIX.length;
  at = writeBstr(out, at, protectedBytes);
  at = writeBstr(out, at, externalAad);
  writeBstr(out, at, payload);
}

/**
 * The Sig_structure for a verification, in a buffer reused from one to the next (verifying
 * only reads it) instead of a new one per message.
 */
let sigScratch = new Uint8Array(4096);
function sigStructureForVerify(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array,
): Uint8Array {
  const length = sigStructureLength(protectedBytes, payload, externalAad);
  if (length > sigScratch.length)
    sigScratch = new Uint8Array(Math.max(length, 2 * sigScratch.length));
  writeSigStructure(sigScratch, protectedBytes, payload, externalAad);
  return sigScratch.subarray(0, length);
}

/** 0x84 (array of 4) followed by the text "Signature1". */
const SIGNATURE1_PREFIX = encodeCbor([
  'Signature1',
  new Uint8Array(0),
  new Uint8Array(0),
  new Uint8Array(0),
]).subarray(0, 12);

/** Bytes in the shortest CBOR head of a byte string of `length` bytes. */
function bstrHeadLength(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/** Writes `bytes` as a CBOR byte string (shortest head) at `at`; returns the offset after it. */
function writeBstr(out: Uint8Array, at: number, bytes: Uint8Array): number {
  const length = bytes.length;
  if (length < 24) out[at++] = 0x40 | length;
  else if (length < 0x100) {
    out[at++] = 0x58;
    out[at++] = length;
  } else if (length < 0x10000) {
    out[at++] = 0x59;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0x5a;
    out[at++] = (length >>> 24) & 0xff;
    out[at++] = (length >> 16) & 0xff;
    out[at++] = (length >> 8) & 0xff;
    out[at++] = length & 0xff;
  }
  out.set(bytes, at);
  return at + length;
}

export interface CoseSign1Input {
  readonly protectedHeader: ReadonlyMap<CborKey, CborValue>;
  readonly unprotectedHeader?: ReadonlyMap<CborKey, CborValue>;
  readonly payload: Uint8Array;
  readonly externalAad?: Uint8Array;
}

/**
 * Builds and signs a tagged COSE_Sign1. `sign` receives the Sig_structure bytes and returns
 * the 64-byte r‖s signature (it hashes them itself: ES256K signers apply SHA-256).
 */
export function signCoseSign1(
  input: CoseSign1Input,
  sign: (toBeSigned: Uint8Array) => Uint8Array,
): Uint8Array {
  const protectedBytes =
    input.protectedHeader.size === 0 ? EMPTY : encodeCbor(input.protectedHeader);
  const signature = sign(coseSigStructure(protectedBytes, input.payload, input.externalAad));
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) {
    throw new WireFormatError('bad-input', 'sign: must return a 64-byte r‖s signature');
  }
  return encodeCbor(
    new CborTag(COSE_SIGN1_TAG, [
      protectedBytes,
      input.unprotectedHeader ?? new Map(),
      input.payload,
      signature,
    ]),
  );
}

function asHeaderMap(v: CborValue | undefined, what: string): ReadonlyMap<CborKey, CborValue> {
  if (!(v instanceof Map)) throw new WireFormatError('not-cose', `${what} header is not a map`);
  return v as ReadonlyMap<CborKey, CborValue>;
}

/** Structure only; throws WireFormatError. */
export function parseCoseSign1(bytes: Uint8Array, options: CoseDecodeOptions = {}): CoseSign1 {
  const top = decodeCbor(bytes, {
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    maxDepth: 16,
    deterministic: options.deterministic ?? true,
    // The parts are parts of the message, which the caller holds: no copies.
    byteStringViews: true,
  });
  let body: CborValue = top;
  const tagged = top instanceof CborTag;
  if (top instanceof CborTag) {
    if (top.tag !== COSE_SIGN1_TAG) {
      throw new WireFormatError('bad-tag', `tag ${String(top.tag)} is not COSE_Sign1 (18)`);
    }
    body = top.value;
  } else if (options.requireTag ?? true) {
    throw new WireFormatError('bad-tag', 'COSE_Sign1 tag 18 is missing');
  }
  if (!Array.isArray(body) || body.length !== 4) {
    throw new WireFormatError('not-cose', 'COSE_Sign1 must be an array of 4 items');
  }
  const [protectedBytes, unprotected, payload, signature] = body as readonly CborValue[];
  if (!(protectedBytes instanceof Uint8Array))
    throw new WireFormatError('not-cose', 'protected header is not a byte string');
  if (!(payload instanceof Uint8Array)) {
    throw new WireFormatError(
      'not-cose',
      payload === null ? 'detached payloads are not supported' : 'payload is not a byte string',
    );
  }
  if (!(signature instanceof Uint8Array))
    throw new WireFormatError('not-cose', 'signature is not a byte string');
  let protectedHeader: ReadonlyMap<CborKey, CborValue> = new Map();
  if (protectedBytes.length > 0) {
    let decoded: CborValue;
    try {
      decoded = decodeCbor(protectedBytes, { maxDepth: 4, deterministic: true });
    } catch (err) {
      if (!(err instanceof WireFormatError)) throw err;
      throw new WireFormatError('bad-header', `protected header: ${err.message}`, { cause: err });
    }
    if (!(decoded instanceof Map))
      throw new WireFormatError('bad-header', 'protected header is not a map');
    protectedHeader = decoded;
  }
  const unprotectedHeader = asHeaderMap(unprotected, 'unprotected');
  for (const label of protectedHeader.keys()) {
    if (unprotectedHeader.has(label)) {
      throw new WireFormatError(
        'bad-header',
        `label ${String(label)} is in both the protected and unprotected header`,
      );
    }
  }
  if (protectedHeader.has(COSE_HEADER.crit)) {
    throw new WireFormatError('bad-header', 'critical header parameters (crit) are not supported');
  }
  return { protectedBytes, protectedHeader, unprotectedHeader, payload, signature, tagged };
}

/** Decodes the structure of a COSE_Sign1 from untrusted bytes; no key needed. */
export function decodeCoseSign1(
  bytes: Uint8Array,
  options: CoseDecodeOptions = {},
): Verdict<CoseSign1> {
  if (!(bytes instanceof Uint8Array))
    throw new WireFormatError('bad-input', 'bytes: expected a Uint8Array');
  return verdictOf(() => parseCoseSign1(bytes, options));
}

/** n/2 of each group order as 32 big-endian bytes, made once. */
const halfOrders = new Map<bigint, Uint8Array>();

/** Whether s (the second half of r‖s) is above n/2, compared bytewise (no bigint per verify). */
function isHighS(signature: Uint8Array, order: bigint): boolean {
  let half = halfOrders.get(order);
  if (half === undefined) {
    half = hexToBytes((order >> 1n).toString(16).padStart(64, '0'));
    halfOrders.set(order, half);
  }
  for (let i = 0; i < 32; i++) {
    const d = (signature[32 + i] as number) - (half[i] as number);
    if (d !== 0) return d > 0;
  }
  return false;
}

/** Throws WireFormatError `bad-alg` / `bad-signature`; `bad-input` when the key does not fit the algorithm. */
export function checkCoseSign1Signature(
  message: CoseSign1,
  publicKey: KeyObject,
  algorithm: CoseAlgorithm,
  externalAad: Uint8Array = EMPTY,
): void {
  if (!isEcPublicKey(publicKey, algorithm.namedCurve)) {
    throw new WireFormatError(
      'bad-input',
      `publicKey: expected a ${algorithm.namedCurve} public KeyObject for ${algorithm.name}`,
    );
  }
  const alg =
    message.protectedHeader.get(COSE_HEADER.alg) ?? message.unprotectedHeader.get(COSE_HEADER.alg);
  if (alg === undefined) throw new WireFormatError('bad-alg', 'no alg header');
  if (alg !== algorithm.id) {
    throw new WireFormatError(
      'bad-alg',
      `alg ${JSON.stringify(typeof alg === 'bigint' ? String(alg) : alg)} is not ${algorithm.name} (${algorithm.id})`,
    );
  }
  const sig = message.signature;
  if (sig.length !== SIGNATURE_BYTES) {
    throw new WireFormatError(
      'bad-signature',
      `signature has ${sig.length} bytes, ${algorithm.name} has ${SIGNATURE_BYTES}`,
    );
  }
  if (algorithm.lowSOrder !== undefined && isHighS(sig, algorithm.lowSOrder)) {
    throw new WireFormatError('bad-signature', 'high-S signature (only s ≤ n/2 is accepted)');
  }
  // RFC 9052 §4.4: with no protected attributes body_protected is a zero-length bstr, even
  // when the message spelled the empty map as h'a0' (cose-wg vector sign-pass-01).
  const bodyProtected = message.protectedHeader.size === 0 ? EMPTY : message.protectedBytes;
  const toBeSigned = sigStructureForVerify(bodyProtected, message.payload, externalAad);
  if (!verifyEcdsaSha256(publicKey, toBeSigned, sig)) {
    throw new WireFormatError(
      'bad-signature',
      `signature does not verify with the given ${algorithm.name} key`,
    );
  }
}

/**
 * Verifies a decoded COSE_Sign1 with `publicKey` under `algorithm` (the alg header, protected
 * or else unprotected, must name it). A verdict for bad messages; throws `bad-input` for a key
 * that does not fit the algorithm.
 */
export function verifyCoseSign1(
  message: CoseSign1,
  publicKey: KeyObject,
  algorithm: CoseAlgorithm,
  externalAad: Uint8Array = EMPTY,
): Verdict<CoseSign1> {
  return verdictOf(() => {
    checkCoseSign1Signature(message, publicKey, algorithm, externalAad);
    return message;
  });
}
