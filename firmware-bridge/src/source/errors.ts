/**
 * One table of adapter error codes (after fastify's lib/errors.js). A code never changes
 * meaning; docs/install.md ("Adapter error codes") lists each with what to check.
 */
export const ADAPTER_ERROR_CODES = {
  'no-adapter': 'No adapter answered: check the port or address, power and baud rate',
  'no-data': 'The adapter answered but the vehicle returned no data for the request',
  protocol: 'The adapter or device replied with something the protocol does not allow',
  timeout: 'No complete reply within the timeout',
  disconnected: 'The link to the adapter was lost',
  'bus-error': 'The adapter reported a vehicle bus error',
  'buffer-full': 'The adapter reported that its buffer overflowed',
  unsupported: 'The adapter or vehicle does not support the request',
  'bad-input': 'The caller passed an invalid argument',
} as const;

export type AdapterErrorCode = keyof typeof ADAPTER_ERROR_CODES;

export class AdapterError extends Error {
  override readonly name: string = 'AdapterError';
  constructor(
    readonly code: AdapterErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? ADAPTER_ERROR_CODES[code], options);
  }
}

/** The vehicle returned no data (ELM327 `NO DATA`, a PID the ECU does not support). */
export class NoDataError extends AdapterError {
  override readonly name = 'NoDataError';
  constructor(message?: string) {
    super('no-data', message);
  }
}

/** A reply that violates the protocol (bad framing, checksum, impossible length). */
export class ProtocolError extends AdapterError {
  override readonly name = 'ProtocolError';
  constructor(message?: string, options?: { cause?: unknown }) {
    super('protocol', message, options);
  }
}

export class TimeoutError extends AdapterError {
  override readonly name = 'TimeoutError';
  constructor(message?: string) {
    super('timeout', message);
  }
}

export class DisconnectedError extends AdapterError {
  override readonly name = 'DisconnectedError';
  constructor(message?: string, options?: { cause?: unknown }) {
    super('disconnected', message, options);
  }
}
