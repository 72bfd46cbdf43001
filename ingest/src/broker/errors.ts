/**
 * Configuration errors of the embedded broker's listeners, one table (after fastify's
 * lib/errors.js). Refusals of devices at run time are not errors: they are `BrokerRefusal`
 * counts. A code never changes meaning.
 */
export const BROKER_ERROR_CODES = {
  'plaintext-refused':
    'A plaintext listener (mqtt, ws) on an address other than loopback: use mqtts or wss, or allow plaintext explicitly',
  'bad-listener': 'A listener is misconfigured (unknown kind, bad port, TLS material missing)',
  'tls-material': 'A TLS certificate, key or CA file cannot be read or does not parse',
  'listen-failed': 'The listener could not bind its address (in use, no permission)',
} as const;

export type BrokerErrorCode = keyof typeof BROKER_ERROR_CODES;

export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    readonly code: BrokerErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? BROKER_ERROR_CODES[code], options);
  }
}
