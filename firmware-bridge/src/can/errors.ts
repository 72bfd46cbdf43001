/**
 * One table of CAN frame and log error codes (after fastify's lib/errors.js). A bad log line or
 * frame is data, not a bug: readers return these as a verdict and count them; public functions
 * given a malformed argument throw them. A code never changes meaning.
 */
export const CAN_ERROR_CODES = {
  'bad-line': 'Not a candump log line: expected `(seconds) interface ID#DATA`',
  'bad-time': 'The timestamp is not a non-negative decimal number of seconds',
  'bad-id': 'The CAN id is not 3 (standard, <= 0x7FF) or 8 (extended, <= 0x1FFFFFFF) hex digits',
  'bad-hex': 'The payload is not an even number of hex digits',
  'bad-length':
    'The payload length is not allowed: at most 8 bytes for CAN, a CAN FD length for FD',
  'bad-flags': 'The CAN FD flags field is not one hex digit',
  'bad-frame': 'The frame object is malformed (id, extended, rtr, fd, data or time)',
} as const;

export type CanErrorCode = keyof typeof CAN_ERROR_CODES;

export class CanError extends Error {
  override readonly name = 'CanError';
  constructor(
    readonly code: CanErrorCode,
    message?: string,
  ) {
    super(message ?? CAN_ERROR_CODES[code]);
  }
}
