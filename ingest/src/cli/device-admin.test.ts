import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAdmin } from '../devices/device-admin.js';
import { loadOrCreateOperatorToken, readOperatorTokenFile } from '../devices/operator-token.js';
import { storeWithDevices, VIN } from '../devices/test-devices.js';
import { operatorRoutes } from '../http/operator-routes.js';
import { operatorClient, OperatorClientError } from './device-admin.js';

// The client of `enginechain device revoke|list` over real HTTP against the operator routes
// (a real SQLite store); the spawned CLI is tested in test/e2e/ingest-tls-cli.test.ts.
describe('operatorClient', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function serve() {
    const { store, ids, cleanup } = await storeWithDevices(2);
    cleanups.push(cleanup);
    const dir = mkdtempSync(join(tmpdir(), 'operator-client-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { verifier, tokenFile } = await loadOrCreateOperatorToken(dir);
    const app: FastifyInstance = Fastify({ logger: false });
    await app.register(operatorRoutes, {
      admin: new DeviceAdmin({ store }),
      operatorToken: verifier,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const { port } = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, token: await readOperatorTokenFile(tokenFile), ids, store }; // prettier-ignore
  }

  it('lists and revokes with the token; surfaces the node’s error codes', async () => {
    const { url, token, ids, store } = await serve();
    const client = operatorClient(url, token);
    expect((await client.list()).map((d) => [d.deviceId, d.vin, d.status])).toEqual([
      [ids[0], VIN, 'active'],
      [ids[1], VIN, 'active'],
    ]);
    const r = await client.revoke(ids[1]!, 'sold');
    expect(r).toMatchObject({ deviceId: ids[1], reason: 'sold', leafIndex: 2 });
    expect((await store.getDevice(ids[1]!))?.status).toBe('revoked');
    expect((await client.list('revoked')).map((d) => d.deviceId)).toEqual([ids[1]]);
    await expect(client.revoke(ids[1]!, 'again')).rejects.toMatchObject({ code: 'already-revoked', status: 409 }); // prettier-ignore
    await expect(client.revoke('0'.repeat(32), 'x')).rejects.toMatchObject({ code: 'unknown-device', status: 404 }); // prettier-ignore
    // The id stays one path segment: no way to reach another route through it.
    await expect(client.revoke('../../v1/node', 'x')).rejects.toMatchObject({
      code: 'bad-input',
      status: 400,
    });
    const wrong = operatorClient(url, `ecop_${'A'.repeat(43)}`);
    await expect(wrong.list()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('refuses plaintext off loopback, bad URLs, and reports an unreachable node', async () => {
    const token = `ecop_${'A'.repeat(43)}`;
    expect(() => operatorClient('http://node.example:8080', token)).toThrow(
      expect.objectContaining({ code: 'plaintext-refused' }),
    );
    expect(() => operatorClient('http://node.example:8080', token, { allowPlaintext: true })).not.toThrow(); // prettier-ignore
    expect(() => operatorClient('https://node.example', token)).not.toThrow();
    expect(() => operatorClient('http://[::1]:8080', token)).not.toThrow();
    for (const bad of ['not a url', 'ftp://127.0.0.1/', 'mqtt://127.0.0.1:1883'])
      expect(() => operatorClient(bad, token)).toThrow(OperatorClientError);
    // A port nothing listens on (bound and released).
    const app = Fastify();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    await app.close();
    await expect(operatorClient(`http://127.0.0.1:${port}`, token).list()).rejects.toMatchObject({ code: 'unreachable' }); // prettier-ignore
  });
});
