/**
 * One table of transport error codes (after fastify's lib/errors.js). A code never changes
 * meaning; each message says what to check.
 */
export const TRANSPORT_ERROR_CODES = {
  'bad-input': 'The caller passed an invalid argument',
  'unsupported-url': 'The ingest URL must be mqtt://, mqtts://, ws:// or wss://',
  'plaintext-refused':
    'Plain mqtt:// or ws:// is allowed only to a loopback host: use mqtts:// or wss://, or set allowPlaintext',
  'connect-refused': 'The broker refused the CONNECT (credentials, client id or protocol)',
  'connect-failed': 'No MQTT session could be opened (network, TLS or timeout)',
  'subscribe-refused': 'The broker refused the receipt subscription: check its ACL',
  'password-failed': 'The password provider threw: no CONNECT was sent',
  'receipt-handler-failed': 'The receipt or control callback threw; the message was acknowledged',
  'send-failed': 'Reading the outbox or publishing a batch failed',
} as const;

export type TransportErrorCode = keyof typeof TRANSPORT_ERROR_CODES;

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? TRANSPORT_ERROR_CODES[code], options);
  }
}
