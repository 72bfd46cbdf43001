/**
 * HTTP error codes of the ingestion node's API, one table (after fastify's lib/errors.js):
 * code → status and message. Clients switch on `code`; a code never changes meaning.
 */
export const HTTP_ERRORS = {
  'bad-request': { status: 400, message: 'The request does not match its schema' },
  'unknown-token': { status: 403, message: 'The enrolment token is not known' },
  'token-used': { status: 409, message: 'The enrolment token was already used' },
  'token-expired': { status: 410, message: 'The enrolment token has expired' },
  'vin-mismatch': { status: 403, message: 'The VIN is not the one the token was issued for' },
  'bad-key': { status: 400, message: 'The public key is not a secp256k1 point' },
  'bad-proof': { status: 403, message: 'The proof of key possession does not verify' },
  'device-exists': { status: 409, message: 'A device with this key is already registered' },
  'unknown-device': { status: 404, message: 'No device with this id is registered' },
  'revoked-device': { status: 403, message: 'The device is revoked' },
  'bad-signature': {
    status: 403,
    message: "The key rotation request is not signed by the device's current key",
  },
  'same-key': { status: 409, message: 'The new key is the current key' },
  'stale-request': {
    status: 403,
    message: "The request's time is too far from the node's clock",
  },
  'replayed-request': { status: 409, message: 'The request (its nonce) was used before' },
  'seq-passed': {
    status: 409,
    message:
      "The new key's first seq is below the device's next seq or a rotation already covers it",
  },
  'rate-limited': { status: 429, message: 'Too many requests' },
  'not-found': { status: 404, message: 'Not found' },
  'evidence-too-large': {
    status: 422,
    message: 'The evidence asked for holds more than one file takes (evidence range-too-large)',
  },
  unauthenticated: { status: 401, message: 'Log in or send an API token' },
  'bad-credentials': { status: 401, message: 'Unknown user or wrong password' },
  forbidden: { status: 403, message: 'Not allowed for this user' },
  conflict: { status: 409, message: 'Conflicts with the current state' },
  internal: { status: 500, message: 'Internal error' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  constructor(
    readonly code: HttpErrorCode,
    message?: string,
  ) {
    super(message ?? HTTP_ERRORS[code].message);
    this.statusCode = HTTP_ERRORS[code].status;
  }
}

export const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;
