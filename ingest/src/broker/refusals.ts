/**
 * Why the node's broker refused a device's MQTT CONNECT, one table (after fastify's
 * lib/errors.js). Each refusal is a log line naming the code and a count in
 * `enginechain_ingest_mqtt_auth_refusals_total{code}`; docs/errors.md lists every code. A code
 * never changes meaning.
 */
export const MQTT_AUTH_REFUSAL_CODES = {
  'missing-credentials': 'CONNECT carried no username or no password',
  'not-a-device-id': 'The username is not a device id (32 lower-case hex digits)',
  'unknown-device': 'No device with this id is registered',
  'revoked-device': 'The device was revoked',
  'device-evicted': 'The device was revoked while this broker runs; its sessions were closed',
  'token-malformed': 'The password is not a device token (CBOR array, context, nonce, signature)',
  'token-wrong-device': 'The token names another device than the username',
  'token-bad-signature': 'The token signature does not verify with the registered device key',
  'token-expired': 'The token time is older than the allowed clock skew (120 s)',
  'token-from-the-future': 'The token time is further ahead than the allowed clock skew (120 s)',
  'token-replayed': 'The token nonce was used before within its window (tokens are single use)',
  'auth-failed': 'The node could not check the token (store error); the device may retry',
} as const;

export type MqttAuthRefusalCode = keyof typeof MQTT_AUTH_REFUSAL_CODES;

/**
 * What the broker refused: a CONNECT (`bad-credentials`, the code says why), a PUBLISH or
 * SUBSCRIBE outside the ACL, a TLS handshake (no or an untrusted client certificate, no
 * shared protocol), a connection declaring a packet over MAX_MQTT_PACKET_BYTES. Counted in
 * `enginechain_ingest_rejections_total{reason}`.
 */
export const BROKER_REFUSALS = [
  'bad-credentials',
  'publish-denied',
  'subscribe-denied',
  'tls-refused',
  'packet-too-large',
] as const;

export type BrokerRefusal = (typeof BROKER_REFUSALS)[number];

export interface BrokerRefusalDetail {
  readonly clientId: string;
  readonly reason: string;
  /** Why a CONNECT was refused (only with `bad-credentials`). */
  readonly code?: MqttAuthRefusalCode;
}
