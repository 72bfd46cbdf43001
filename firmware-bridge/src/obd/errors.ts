/**
 * One table of OBD-II decoding error codes (after fastify's lib/errors.js). A reply from the
 * vehicle that does not decode is data, not a bug: callers such as `Elm327Source` count it and
 * go on. A code never changes meaning.
 */
export const OBD_ERROR_CODES = {
  'bad-input': 'The caller passed an argument of the wrong type or range',
  truncated: 'The reply has fewer data bytes than SAE J1979 defines for it',
  'unknown-pid': 'The PID is not defined by SAE J1979, so its length is unknown',
  'wrong-service': 'The reply is not the positive response to the requested service',
  'negative-response': 'The ECU refused the request (service 7F)',
  'bad-dtc': 'The DTC reply is malformed (odd byte count, count byte larger than the data)',
  'bad-vin': 'No 17-character VIN could be recovered from the reply',
  'bad-voltage': 'The ATRV reply is not a voltage such as 12.6V',
} as const;

export type ObdErrorCode = keyof typeof OBD_ERROR_CODES;

export class ObdError extends Error {
  override readonly name = 'ObdError';
  constructor(
    readonly code: ObdErrorCode,
    message?: string,
  ) {
    super(message ?? OBD_ERROR_CODES[code]);
  }
}

/** Boundary check shared by every public decoder: bytes must be a Uint8Array. */
export function assertBytes(value: unknown, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ObdError('bad-input', `${field} must be a Uint8Array`);
  }
}

export function assertByte(value: unknown, field: string): asserts value is number {
  if (!(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xff)) {
    throw new ObdError('bad-input', `${field} must be an integer 0..255`);
  }
}
