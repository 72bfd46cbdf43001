/**
 * What an ingestion node sends down to a device (docs/protocol.md §4): receipts and resend
 * requests, each a COSE_Sign1 signed with the node's receipt key (EdDSA, Ed25519, COSE alg −8).
 * The payload is a deterministic CBOR map with small integer keys.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { decodeCbor } from '../cbor/decode.js';
import { encodeCbor } from '../cbor/encode.js';
import type { CborKey, CborValue } from '../cbor/types.js';
import { WireFormatError, verdictOf, type Verdict } from '../cbor/wire-format-error.js';
import {
  COSE_HEADER,
  coseSigStructure,
  parseCoseSign1,
  signCoseSign1,
} from '../cose/cose-sign1.js';

export const EDDSA_ALG = -8;
export const NODE_MESSAGE_CONTENT_TYPE = 'application/vnd.enginechain.node-message+cbor;v=1';
/** Node messages are small: a checkpoint note and an inclusion proof of ≤ 64 hashes. */
const MAX_NODE_MESSAGE_BYTES = 16 * 1024;

const K = {
  type: 0,
  version: 1,
  deviceId: 2,
  seq: 3,
  batchHash: 4,
  leafIndex: 5,
  treeSize: 6,
  checkpoint: 7,
  inclusionProof: 8,
  receivedAt: 9,
  seqs: 10,
} as const;

/** The node's promise that a batch is in its log. */
export interface Receipt {
  readonly type: 'receipt';
  readonly deviceId: string;
  readonly seq: number;
  /** SHA-256 of the batch's COSE bytes. */
  readonly batchHash: Uint8Array;
  readonly leafIndex: number;
  /** Size of the checkpointed tree that includes the leaf. */
  readonly treeSize: number;
  /** The signed checkpoint note (C2SP signed-note text). */
  readonly checkpoint: string;
  /** Inclusion proof of the leaf in that checkpoint's tree. */
  readonly inclusionProof: readonly Uint8Array[];
  readonly receivedAt: number;
}

/** The node asks the device to send these seqs again (a gap it cannot close alone). */
export interface ResendRequest {
  readonly type: 'resend';
  readonly deviceId: string;
  readonly seqs: readonly number[];
}

export type NodeMessage = Receipt | ResendRequest;

/** A fresh Ed25519 receipt key pair. */
export function generateReceiptKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** The raw 32-byte Ed25519 public key, as served by the node and kept in agent configs. */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new WireFormatError('bad-input', 'key: expected an Ed25519 key');
  }
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new WireFormatError('bad-input', 'raw: expected a 32-byte Ed25519 public key');
  }
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

export function ed25519PrivateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WireFormatError('bad-input', 'pem: expected an Ed25519 private key');
  }
  return key;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function payloadOf(m: NodeMessage): Map<CborKey, CborValue> {
  if (!/^[0-9a-f]{32}$/.test(m.deviceId))
    throw new WireFormatError('bad-input', 'deviceId: expected 32 hex digits');
  const map = new Map<CborKey, CborValue>([
    [K.type, m.type],
    [K.version, 1],
    [K.deviceId, unhex(m.deviceId)],
  ]);
  if (m.type === 'receipt') {
    map.set(K.seq, m.seq);
    map.set(K.batchHash, m.batchHash);
    map.set(K.leafIndex, m.leafIndex);
    map.set(K.treeSize, m.treeSize);
    map.set(K.checkpoint, m.checkpoint);
    map.set(K.inclusionProof, [...m.inclusionProof]);
    map.set(K.receivedAt, m.receivedAt);
  } else {
    map.set(K.seqs, [...m.seqs]);
  }
  return map;
}

/** Signs a node message with the node's Ed25519 receipt key. */
export function signNodeMessage(message: NodeMessage, privateKey: KeyObject): Uint8Array {
  if (privateKey?.asymmetricKeyType !== 'ed25519' || privateKey.type !== 'private') {
    throw new WireFormatError('bad-input', 'privateKey: expected an Ed25519 private KeyObject');
  }
  return signCoseSign1(
    {
      protectedHeader: new Map<CborKey, CborValue>([
        [COSE_HEADER.alg, EDDSA_ALG],
        [COSE_HEADER.contentType, NODE_MESSAGE_CONTENT_TYPE],
      ]),
      payload: encodeCbor(payloadOf(message)),
    },
    (tbs) => new Uint8Array(nodeSign(null, tbs, privateKey)),
  );
}

function field<T>(
  map: ReadonlyMap<CborKey, CborValue>,
  key: number,
  check: (v: CborValue) => v is CborValue & T,
  name: string,
): T {
  const v = map.get(key);
  if (v === undefined || !check(v))
    throw new WireFormatError('bad-field', `${name} is missing or of the wrong type`);
  return v as T;
}
const isUint = (v: CborValue): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes =
  (n?: number) =>
  (v: CborValue): v is Uint8Array =>
    v instanceof Uint8Array && (n === undefined || v.length === n);
const isText = (v: CborValue): v is string => typeof v === 'string';

/**
 * Verifies a node message with the node's receipt public key and decodes it. Untrusted bytes
 * get a verdict; a wrong key type is misuse and throws.
 */
export function verifyNodeMessage(bytes: Uint8Array, publicKey: KeyObject): Verdict<NodeMessage> {
  if (publicKey?.asymmetricKeyType !== 'ed25519' || publicKey.type !== 'public') {
    throw new WireFormatError('bad-input', 'publicKey: expected an Ed25519 public KeyObject');
  }
  if (!(bytes instanceof Uint8Array))
    throw new WireFormatError('bad-input', 'bytes: expected a Uint8Array');
  return verdictOf(() => {
    if (bytes.length > MAX_NODE_MESSAGE_BYTES)
      throw new WireFormatError('too-large', `node message of ${bytes.length} bytes`);
    const cose = parseCoseSign1(bytes, { maxBytes: MAX_NODE_MESSAGE_BYTES });
    if (cose.protectedHeader.get(COSE_HEADER.alg) !== EDDSA_ALG)
      throw new WireFormatError('bad-alg', 'node messages are EdDSA (-8)');
    if (cose.protectedHeader.get(COSE_HEADER.contentType) !== NODE_MESSAGE_CONTENT_TYPE) {
      throw new WireFormatError('bad-header', 'not an enginechain node message');
    }
    if (
      cose.signature.length !== 64 ||
      !nodeVerify(
        null,
        coseSigStructure(cose.protectedBytes, cose.payload),
        publicKey,
        cose.signature,
      )
    ) {
      throw new WireFormatError(
        'bad-signature',
        'node message signature does not verify with the receipt key',
      );
    }
    const decoded = decodeCbor(cose.payload, { deterministic: true, maxDepth: 4 });
    if (!(decoded instanceof Map)) throw new WireFormatError('bad-field', 'payload is not a map');
    const map = decoded as ReadonlyMap<CborKey, CborValue>;
    if (map.get(K.version) !== 1)
      throw new WireFormatError('bad-version', 'node message version is not 1');
    const type = field(map, K.type, isText, 'type');
    const deviceId = hex(field(map, K.deviceId, isBytes(16), 'deviceId'));
    if (type === 'resend') {
      const seqs = field(map, K.seqs, (v): v is CborValue[] => Array.isArray(v), 'seqs');
      if (!seqs.every(isUint))
        throw new WireFormatError('bad-field', 'seqs must be unsigned integers');
      return { type, deviceId, seqs: seqs as number[] };
    }
    if (type !== 'receipt')
      throw new WireFormatError('bad-field', `unknown node message type ${JSON.stringify(type)}`);
    const proof = field(
      map,
      K.inclusionProof,
      (v): v is CborValue[] => Array.isArray(v),
      'inclusionProof',
    );
    if (!proof.every(isBytes(32)))
      throw new WireFormatError('bad-field', 'inclusionProof must hold 32-byte hashes');
    return {
      type,
      deviceId,
      seq: field(map, K.seq, isUint, 'seq'),
      batchHash: field(map, K.batchHash, isBytes(32), 'batchHash'),
      leafIndex: field(map, K.leafIndex, isUint, 'leafIndex'),
      treeSize: field(map, K.treeSize, isUint, 'treeSize'),
      checkpoint: field(map, K.checkpoint, isText, 'checkpoint'),
      inclusionProof: proof as Uint8Array[],
      receivedAt: field(map, K.receivedAt, isUint, 'receivedAt'),
    };
  });
}
