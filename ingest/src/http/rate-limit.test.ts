import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestNode } from '../node/ingest-node.js';

const PER_MINUTE = 20;
const dataDir = mkdtempSync(join(tmpdir(), 'enginechain-rate-'));
let node: IngestNode;

beforeAll(async () => {
  node = await IngestNode.start({
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    verifierThreads: 1,
    requestRateLimit: PER_MINUTE,
    logger: pino({ level: 'silent' }),
  });
}, 60_000);
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function tokenFor(username: string): Promise<string> {
  const user = await node.access.createUser({ username, kind: 'business', password: 'a long enough password' });
  return (await node.access.createApiToken(user, 'claims system', 30)).token;
} // prettier-ignore

describe('rate limit on API token use', () => {
  it('refuses a token over its budget with 429 rate-limited; other tokens and addresses go on', async () => {
    const busy = await tokenFor('busy@claims.example');
    const calm = await tokenFor('calm@claims.example');
    const me = (token: string) => fetch(`${node.httpUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < PER_MINUTE; i++) expect((await me(busy)).status).toBe(200);
    const over = await me(busy);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await over.json()).toMatchObject({ code: 'rate-limited' });
    expect((await me(calm)).status).toBe(200);
    expect((await fetch(`${node.httpUrl}/v1/status`)).status).toBe(200);
  }); // prettier-ignore
});
