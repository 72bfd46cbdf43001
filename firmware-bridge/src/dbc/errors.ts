/**
 * One table of DBC error codes (after fastify's lib/errors.js). A code never changes meaning.
 * Parsing a bad file throws (the file is the caller's input); decoding an unknown or short
 * frame returns a verdict instead (frames are data).
 */
export const DBC_ERROR_CODES = {
  syntax: 'The DBC text does not follow the DBC grammar at the given line',
  'bad-signal': 'A signal definition is impossible (length, start bit, byte order, factor)',
  duplicate: 'Two messages share an id or name, or two signals in a message share a name',
  'bad-input': 'The caller passed an invalid argument',
  'unknown-message': 'No message with that id or name in the database',
  'bad-value': 'A value cannot be encoded into the signal (not finite, or out of its raw range)',
} as const;

export type DbcErrorCode = keyof typeof DBC_ERROR_CODES;

export class DbcError extends Error {
  override readonly name = 'DbcError';
  constructor(
    readonly code: DbcErrorCode,
    message?: string,
  ) {
    super(message ?? DBC_ERROR_CODES[code]);
  }
}
