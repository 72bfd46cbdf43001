import { verifyMqttToken } from '@enginechain/shared';
import type { DeviceAuthenticator } from '../broker/embedded-broker.js';
import type { IngestStore } from '../storage/ingest-store.js';

export interface TokenAuthenticatorOptions {
  readonly store: Pick<IngestStore, 'getDevice' | 'useNonce'>;
  readonly now?: () => number;
  /** Accepted clock difference between device and node, ms. */
  readonly maxSkewMs?: number;
}

/**
 * The broker's authenticator: username = device id of a registered, active device;
 * password = a fresh token signed by that device's key, used once (docs/protocol.md §2).
 */
export function tokenAuthenticator(options: TokenAuthenticatorOptions): DeviceAuthenticator {
  const now = options.now ?? Date.now;
  const maxSkewMs = options.maxSkewMs ?? 120_000;
  return {
    async authenticate(username, password) {
      if (!/^[0-9a-f]{32}$/.test(username))
        return { ok: false, code: 'not-a-device-id', reason: 'username is not a device id' };
      const device = await options.store.getDevice(username);
      if (!device) return { ok: false, code: 'unknown-device', reason: 'unknown device' };
      if (device.status !== 'active')
        return { ok: false, code: 'revoked-device', reason: `device is ${device.status}` };
      const nowMs = now();
      const verdict = verifyMqttToken(password, {
        deviceId: username,
        publicKey: device.publicKey,
        nowMs,
        maxSkewMs,
      });
      if (!verdict.ok)
        return { ok: false, code: `token-${verdict.reason}`, reason: `token ${verdict.reason}` };
      // Keep the nonce until the token could no longer pass the time check anyway.
      const fresh = await options.store.useNonce(
        username,
        verdict.claims.nonce,
        verdict.claims.timeMs + maxSkewMs,
        nowMs,
      );
      if (!fresh) return { ok: false, code: 'token-replayed', reason: 'token replayed' };
      return { ok: true, deviceId: username };
    },
  };
}
