import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLogEntry } from '@enginechain/shared';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAdmin } from '../devices/device-admin.js';
import { loadOrCreateOperatorToken, readOperatorTokenFile } from '../devices/operator-token.js';
import { storeWithDevices, VIN } from '../devices/test-devices.js';
import { operatorRoutes } from './operator-routes.js';

describe('operator routes (inject, real SQLite file, real token files)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const { store, ids, cleanup } = await storeWithDevices(2);
    cleanups.push(cleanup);
    const dataDir = mkdtempSync(join(tmpdir(), 'operator-routes-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const { verifier, tokenFile } = await loadOrCreateOperatorToken(dataDir);
    const token = await readOperatorTokenFile(tokenFile);
    const evicted: string[] = [];
    const admin = new DeviceAdmin({ store, evict: (id) => (evicted.push(id), 1) });
    const app: FastifyInstance = Fastify({ logger: false });
    // A sibling route outside the plugin: the operator check must not leak onto it.
    app.get('/v1/public', async () => ({ ok: true }));
    await app.register(operatorRoutes, {
      admin,
      operatorToken: verifier,
      connectedDevices: () => [ids[1]!],
    });
    await app.ready();
    cleanups.push(() => app.close());
    return { app, store, ids, token, evicted };
  }

  it('refuses every operator route without the right bearer token, and only those', async () => {
    const { app, ids, token, store } = await setup();
    const routes = [
      { method: 'GET' as const, url: '/v1/operator/devices' },
      { method: 'POST' as const, url: `/v1/operator/devices/${ids[0]}/revoke`, payload: { reason: 'x' } },
    ]; // prettier-ignore
    const badHeaders: Record<string, string>[] = [
      {},
      { authorization: token },
      { authorization: `Basic ${token}` },
      { authorization: `Bearer ${token.slice(0, -1)}` },
      { authorization: `Bearer ${token}x` },
      { authorization: `Bearer ${'ecop_'.padEnd(48, 'A')}` },
      { authorization: `Bearer ${token} ` },
    ];
    for (const r of routes) {
      for (const headers of badHeaders) {
        const res = await app.inject({ ...r, headers });
        expect(res.statusCode, JSON.stringify(headers)).toBe(401);
        expect(res.json()).toEqual({ code: 'unauthorized', message: expect.any(String) });
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    expect((await store.getDevice(ids[0]!))?.status).toBe('active');
    expect((await app.inject({ method: 'GET', url: '/v1/public' })).statusCode).toBe(200);
  });

  it('lists devices and revokes one; the revocation is in the log', async () => {
    const { app, ids, token, store, evicted } = await setup();
    const auth = { authorization: `Bearer ${token}` };
    const list = await app.inject({ method: 'GET', url: '/v1/operator/devices', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      devices: [
        { deviceId: ids[0], vin: VIN, owner: 'fleet-0', status: 'active', registeredAt: expect.any(Number), registrationLeaf: 0, nextSeq: 0, connected: false },
        { deviceId: ids[1], vin: VIN, owner: 'fleet-1', status: 'active', registeredAt: expect.any(Number), registrationLeaf: 1, nextSeq: 0, connected: true },
      ],
    }); // prettier-ignore

    const res = await app.inject({
      method: 'POST',
      url: `/v1/operator/devices/${ids[0]}/revoke`,
      headers: auth,
      payload: { reason: 'gateway stolen' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ leafIndex: number; revokedAt: number }>();
    expect(body).toEqual({
      deviceId: ids[0],
      revokedAt: expect.any(Number),
      reason: 'gateway stolen',
      leafIndex: 2,
      sessionsClosed: 1,
    });
    expect(evicted).toEqual([ids[0]]);
    expect(decodeLogEntry((await store.logEntry(body.leafIndex))!.entry)).toEqual({
      type: 'revocation',
      deviceId: ids[0],
      at: body.revokedAt,
      reason: 'gateway stolen',
    });
    const revoked = await app.inject({ method: 'GET', url: '/v1/operator/devices?status=revoked', headers: auth }); // prettier-ignore
    expect(revoked.json<{ devices: { deviceId: string }[] }>().devices.map((d) => d.deviceId)).toEqual([ids[0]]); // prettier-ignore

    const again = await app.inject({ method: 'POST', url: `/v1/operator/devices/${ids[0]}/revoke`, headers: auth, payload: { reason: 'again' } }); // prettier-ignore
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'already-revoked' });
  });

  it('answers bad requests with typed errors', async () => {
    const { app, ids, token } = await setup();
    const auth = { authorization: `Bearer ${token}` };
    const cases: [string, unknown, number, string][] = [
      [`/v1/operator/devices/${'0'.repeat(32)}/revoke`, { reason: 'x' }, 404, 'unknown-device'],
      [`/v1/operator/devices/NOT-AN-ID/revoke`, { reason: 'x' }, 400, 'bad-input'],
      [`/v1/operator/devices/${ids[0]}/revoke`, {}, 400, 'bad-input'],
      [`/v1/operator/devices/${ids[0]}/revoke`, { reason: '' }, 400, 'bad-input'],
      [`/v1/operator/devices/${ids[0]}/revoke`, { reason: 'x'.repeat(201) }, 400, 'bad-input'],
      [`/v1/operator/devices/${ids[0]}/revoke`, { reason: 'a\nb' }, 400, 'bad-input'],
    ];
    for (const [url, payload, status, code] of cases) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: auth,
        payload: payload as object,
      });
      expect(res.statusCode, url + JSON.stringify(payload)).toBe(status);
      expect(res.json()).toEqual({ code, message: expect.any(String) });
    }
    const q = await app.inject({ method: 'GET', url: '/v1/operator/devices?status=lost', headers: auth }); // prettier-ignore
    expect(q.statusCode).toBe(400);
  });
});
