/**
 * One table of NMEA 0183 error codes (after fastify's lib/errors.js). Bad sentences are data,
 * not bugs: the parser returns these as a verdict and the source counts them; a code never
 * changes meaning.
 */
export const NMEA_ERROR_CODES = {
  framing: 'Not an NMEA sentence: must start with $, be printable ASCII and at most 120 chars',
  checksum: 'The *hh checksum is missing or does not match the sentence',
  field: 'A field has a value the sentence type does not allow',
} as const;

export type NmeaErrorCode = keyof typeof NMEA_ERROR_CODES;

export class NmeaError extends Error {
  override readonly name = 'NmeaError';
  constructor(
    readonly code: NmeaErrorCode,
    message?: string,
  ) {
    super(message ?? NMEA_ERROR_CODES[code]);
  }
}
