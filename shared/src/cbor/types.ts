/**
 * The CBOR data model subset enginechain uses. Integers are JS numbers when safe and bigints
 * beyond 2^53 (CBOR reaches −2^64 … 2^64−1); a non-integer number is a float.
 */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | CborFloat
  | CborTag
  | readonly CborValue[]
  | CborMap
  | CborRecord;

/** Map keys we accept: integers and text strings (COSE labels and our payloads use no others). */
export type CborKey = number | bigint | string;

export type CborMap = ReadonlyMap<CborKey, CborValue>;

/** A plain object is encoded as a map with text keys (encode side only; decode gives `Map`). */
export interface CborRecord {
  readonly [key: string]: CborValue;
}

/** A tagged data item (RFC 8949 §3.4), e.g. tag 18 around a COSE_Sign1 array. */
export class CborTag {
  constructor(
    readonly tag: number | bigint,
    readonly value: CborValue,
  ) {}
}

/**
 * Forces float encoding of an integral number (plain integral numbers encode as integers, the
 * deterministic rule we follow). Only needed to reproduce foreign encodings such as RFC 8949
 * Appendix A's `1.0`; the decoder returns plain numbers for floats.
 */
export class CborFloat {
  constructor(readonly value: number) {}
}
