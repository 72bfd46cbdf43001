import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET, startTestFleet } from '../http/test-fleet.fixture.js';
import { createEnginechainClient } from './api-client.js';
import { CLIENT_TYPES_PATH, generateClientTypes, nodeOpenApiDocument } from './generate-client.js';

let fleet: Awaited<ReturnType<typeof startTestFleet>>;
beforeAll(async () => {
  fleet = await startTestFleet();
}, 60_000);
afterAll(() => fleet?.close());

describe('generated API client', () => {
  it('is up to date with the routes (regenerate with `npm run generate:client`)', async () => {
    const fresh = await generateClientTypes(await nodeOpenApiDocument());
    expect(fresh === readFileSync(CLIENT_TYPES_PATH, 'utf8')).toBe(true);
  }, 30_000);

  it('logs in with a token and reads typed data within its scope', async () => {
    const base = fleet.node.httpUrl;
    // A session to mint a token, as a person would in the dashboard.
    const login = await fetch(`${base}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(FLEET.owner),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const viaCookie = createEnginechainClient(base, {
      fetch: (input: Request | string | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        const headers = new Headers(request.headers);
        headers.set('cookie', cookie);
        return fetch(new Request(request, { headers }));
      },
    });
    const minted = await viaCookie.POST('/v1/tokens', { body: { name: 'api-client test' } });
    expect(minted.response.status).toBe(201);
    const token = minted.data!.token;

    const client = createEnginechainClient(base, { token });
    const me = await client.GET('/v1/me');
    expect(me.data?.user.username).toBe(FLEET.owner.username);
    const trips = await client.GET('/v1/vehicles/{vin}/trips', { params: { path: { vin: FLEET.vin } } });
    expect(trips.data?.trips[0]?.distanceKm).toBeGreaterThan(1);
    const score = await client.GET('/v1/vehicles/{vin}/score', { params: { path: { vin: FLEET.vin } } });
    expect(score.data?.formulaVersion).toMatch(/^enginechain-score-/);
    const other = await client.GET('/v1/vehicles/{vin}/trips', { params: { path: { vin: FLEET.otherVin } } });
    expect(other.response.status).toBe(403);
    expect(other.error).toMatchObject({ code: 'forbidden' });
    const anonymous = createEnginechainClient(base);
    expect((await anonymous.GET('/v1/status')).data?.vehicles).toBe(2);
  }); // prettier-ignore
});
