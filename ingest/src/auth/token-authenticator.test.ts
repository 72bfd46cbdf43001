import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createMqttToken, generateDeviceKey, sha256 } from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded-broker.js';
import { SqliteIngestStore } from '../storage/sqlite-store.js';
import { tokenAuthenticator } from './token-authenticator.js';

const VIN = '1HGCM82633A004352';

async function setup() {
  const store = new SqliteIngestStore(join(mkdtempSync(join(tmpdir(), 'enginechain-auth-')), 'node.db'));
  const key = generateDeviceKey();
  const tokenHash = sha256(new TextEncoder().encode('enrol'));
  await store.addEnrolmentToken({ tokenHash, vin: VIN, owner: undefined, createdAt: 0, expiresAt: Date.now() + 60_000 });
  await store.registerDevice({ tokenHash, deviceId: key.deviceId, publicKey: key.publicKey, vinSalt: new Uint8Array(16), now: Date.now(), logEntry: () => new TextEncoder().encode('reg') });
  return { store, key };
} // prettier-ignore

describe('token authenticator', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('admits a registered device with a fresh signed token, once', async () => {
    const { store, key } = await setup();
    cleanup.push(() => store.close());
    const auth = tokenAuthenticator({ store });
    const token = createMqttToken(key.deviceId, key.privateKey);
    expect(await auth.authenticate(key.deviceId, token)).toEqual({
      ok: true,
      deviceId: key.deviceId,
    });
    expect(await auth.authenticate(key.deviceId, token)).toEqual({
      ok: false,
      code: 'token-replayed',
      reason: 'token replayed',
    });
  });

  it('refuses unknown devices, foreign keys and stale tokens with a reason', async () => {
    const { store, key } = await setup();
    cleanup.push(() => store.close());
    const auth = tokenAuthenticator({ store });
    const stranger = generateDeviceKey();
    expect(await auth.authenticate(stranger.deviceId, createMqttToken(stranger.deviceId, stranger.privateKey)))
      .toEqual({ ok: false, code: 'unknown-device', reason: 'unknown device' });
    expect(await auth.authenticate(key.deviceId, createMqttToken(key.deviceId, stranger.privateKey)))
      .toEqual({ ok: false, code: 'token-bad-signature', reason: 'token bad-signature' });
    expect(await auth.authenticate(key.deviceId, createMqttToken(key.deviceId, key.privateKey, Date.now() - 600_000)))
      .toEqual({ ok: false, code: 'token-expired', reason: 'token expired' });
    expect(await auth.authenticate('admin', new Uint8Array(80))).toEqual({ ok: false, code: 'not-a-device-id', reason: 'username is not a device id' });
  }); // prettier-ignore

  it('works end to end through the embedded broker with mqtt.js', async () => {
    const { store, key } = await setup();
    const broker: EmbeddedBroker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      authenticator: tokenAuthenticator({ store }),
    });
    cleanup.push(
      () => store.close(),
      () => broker.close(),
    );
    const client = await mqtt.connectAsync(broker.url, {
      username: key.deviceId,
      password: Buffer.from(createMqttToken(key.deviceId, key.privateKey)),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    cleanup.push(() => client.endAsync(true));
    expect(client.connected).toBe(true);
    await expect(
      mqtt.connectAsync(broker.url, {
        username: key.deviceId,
        password: Buffer.from('not a token'),
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password/i);
  });
});
