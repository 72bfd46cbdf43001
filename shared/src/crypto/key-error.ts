/**
 * One table of device-key error codes (keys in memory and key files). A code never changes
 * meaning; docs/wire-format.md lists each with what to do.
 */
export const KEY_ERROR_CODES = {
  'bad-key':
    'The bytes are not a valid secp256k1 private key (32 bytes, 1..n-1) or public key point',
  'not-found': 'No key file at the expected path',
  'insecure-permissions':
    'The private key file is readable or writable by group or others; chmod 600 it (and check who else could have read it)',
  'bad-format':
    'The key file is not a PEM secp256k1 key of the expected kind (PKCS#8 private, SPKI public)',
  mismatch: 'The public key file does not belong to the private key beside it',
  exists: 'A key already exists at the output path; pass --force (force: true) to replace it',
} as const;

export type KeyErrorCode = keyof typeof KEY_ERROR_CODES;

/** Errors about device keys and key files, with a stable `code`; `path` names the file when one is involved. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly code: KeyErrorCode,
    message?: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? KEY_ERROR_CODES[code], options);
  }
}
