/**
 * One table of wire-format error codes (after fastify's lib/errors.js) for everything that
 * reads or writes enginechain bytes: CBOR, COSE_Sign1 and signed batches. A code never changes
 * meaning; docs/wire-format.md lists each with what to check, and a test keeps both in step.
 */
export const WIRE_FORMAT_ERROR_CODES = {
  'bad-input': 'The caller passed an invalid argument (a programming error, not bad data)',
  'too-large': 'The bytes exceed the size limit; nothing was parsed',
  'bad-cbor': 'The bytes are not well-formed CBOR of the supported subset',
  'not-deterministic':
    'The CBOR is well-formed but not in deterministic encoding (RFC 8949 §4.2.1) where it must be',
  'over-limit': 'The CBOR nests deeper or holds more items than the decoder allows',
  'not-cose': 'The bytes are not a COSE_Sign1 structure (4-element array of the right types)',
  'bad-tag': 'The CBOR tag is not 18 (COSE_Sign1), or the tag is missing where it is required',
  'bad-header':
    'A COSE header is missing a required label, has an unexpected one, or a wrong value',
  'bad-alg': 'The algorithm is missing, unknown, or not the one expected (ES256K, -47)',
  'bad-kid': 'The key id is missing, malformed, or not the device id of the verifying key',
  'bad-signature':
    'The signature is malformed, high-S, or does not verify with the key over the Sig_structure',
  'bad-version': 'The batch format version is not one this code reads',
  'bad-field': 'A batch payload field is missing, unknown, of the wrong type, or out of range',
} as const;

export type WireFormatErrorCode = keyof typeof WIRE_FORMAT_ERROR_CODES;

export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
  constructor(
    readonly code: WireFormatErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? WIRE_FORMAT_ERROR_CODES[code], options);
  }
}

/**
 * What every function taking untrusted bytes returns (STYLE.md: misuse throws, untrusted data
 * gets a verdict). `error.code` says why the bytes were refused.
 */
export type Verdict<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireFormatError };

/** Turns a thrown WireFormatError into a failed verdict; anything else is a bug and rethrows. */
export function verdictOf<T>(fn: () => T): Verdict<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof WireFormatError && err.code !== 'bad-input')
      return { ok: false, error: err };
    throw err;
  }
}
