import {
  decodeLogEntry,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyEvidence,
  verifyInclusion,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRecordHash } from '../access/access-record.js';
import { FLEET, LOGIN_ATTEMPTS_PER_MINUTE, login, startTestFleet } from './test-fleet.fixture.js';

type Fleet = Awaited<ReturnType<typeof startTestFleet>>;
type Client = (path: string, init?: RequestInit) => Promise<Response>;

let fleet: Fleet;
let base: string;
let owner: Client;
let otherOwner: Client;
let insurer: Client;
let stranger: Client;
const anonymous: Client = (path, init) => fetch(`${base}${path}`, init);
let tripId: string;
let crashId: number;
let brakeId: number;

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

beforeAll(async () => {
  fleet = await startTestFleet();
  base = fleet.node.httpUrl;
  owner = await login(base, FLEET.owner);
  otherOwner = await login(base, FLEET.otherOwner);
  insurer = await login(base, FLEET.insurer);
  stranger = await login(base, FLEET.stranger);
  const trips = (await (await owner(`/v1/vehicles/${FLEET.vin}/trips`)).json()) as { trips: { id: string }[] };
  tripId = trips.trips[0]!.id;
  const events = (await (await owner(`/v1/vehicles/${FLEET.vin}/events`)).json()) as { events: { id: number; type: string }[] };
  crashId = events.events.find((e) => e.type === 'crash')!.id;
  brakeId = events.events.find((e) => e.type === 'harsh-braking')!.id;
}, 60_000); // prettier-ignore
afterAll(() => fleet?.close());

/** Every vehicle-data route, with the data kind a grant must cover for it. */
const vehicleRoutes = () =>
  [
    { path: `/v1/vehicles/${FLEET.vin}`, kind: 'any' },
    { path: `/v1/vehicles/${FLEET.vin}/trips`, kind: 'trips' },
    { path: `/v1/vehicles/${FLEET.vin}/trips/${tripId}`, kind: 'trips' },
    { path: `/v1/vehicles/${FLEET.vin}/samples?limit=10`, kind: 'trips' },
    { path: `/v1/vehicles/${FLEET.vin}/events`, kind: 'events' },
    { path: `/v1/vehicles/${FLEET.vin}/events/${brakeId}`, kind: 'events' },
    { path: `/v1/vehicles/${FLEET.vin}/events/${brakeId}/evidence`, kind: 'events' },
    { path: `/v1/vehicles/${FLEET.vin}/events/${crashId}/evidence`, kind: 'traces' },
    { path: `/v1/vehicles/${FLEET.vin}/score`, kind: 'scores' },
    { path: `/v1/vehicles/${FLEET.vin}/file`, kind: 'any' },
    { path: `/v1/vehicles/${FLEET.vin}/access-log`, kind: 'owner' },
  ] as const;

const publicRoutes = [
  '/v1/node',
  '/v1/status',
  '/v1/log/checkpoint',
  '/v1/log/entries/0',
  '/v1/log/proof/inclusion?leaf=0&size=2',
  '/v1/log/proof/consistency?from=1&to=2',
  `/v1/vins/${FLEET.vin}`,
  '/openapi.json',
  '/metrics',
];

async function grant(body: Record<string, unknown>) {
  const res = await owner('/v1/grants', json({ vin: FLEET.vin, business: FLEET.insurer.username, from: 0, to: FLEET.t0 + 3_600_000, expiresAt: Date.now() + 3_600_000, ...body }));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: number; status: string; leafIndex: number };
} // prettier-ignore

async function revokeAll() {
  const list = (await (await owner('/v1/grants')).json()) as { grants: { id: number; status: string }[] };
  for (const g of list.grants.filter((x) => x.status === 'active'))
    expect((await owner(`/v1/grants/${g.id}`, { method: 'DELETE' })).status).toBe(200);
} // prettier-ignore

describe('HTTP API: who sees what', () => {
  it('anonymous: every public route answers; no vehicle data, no grants', async () => {
    for (const path of publicRoutes) expect((await anonymous(path)).status, path).toBe(200);
    const status = (await (await anonymous('/v1/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ vehicles: 2, devices: 2, logSize: expect.any(Number) });
    const vin = (await (await anonymous(`/v1/vins/${FLEET.vin}`)).json()) as Record<string, unknown>;
    expect(vin).toMatchObject({ manufacturer: expect.stringMatching(/Honda/i), region: 'North America' });
    for (const r of vehicleRoutes()) {
      const res = await anonymous(r.path);
      expect(res.status, r.path).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('unauthenticated');
    }
    expect((await anonymous('/v1/vehicles')).status).toBe(401);
    expect((await anonymous('/v1/grants')).status).toBe(401);
    expect((await anonymous('/v1/me')).status).toBe(401);
  }); // prettier-ignore

  it('owner: every route on their own vehicle, nothing of another owner’s', async () => {
    for (const r of vehicleRoutes()) expect((await owner(r.path)).status, r.path).toBe(200);
    const list = (await (await owner('/v1/vehicles')).json()) as { vehicles: { vin: string; relation: string; score: number | null; openAlerts: number }[] };
    expect(list.vehicles).toEqual([expect.objectContaining({ vin: FLEET.vin, relation: 'owner', openAlerts: 1 })]);
    expect(list.vehicles[0]!.score).toEqual(expect.any(Number));
    for (const r of vehicleRoutes()) {
      const res = await otherOwner(r.path);
      expect(res.status, r.path).toBe(403);
    }
  }); // prettier-ignore

  it('business without a grant: refused everywhere, sees no vehicles, cannot grant', async () => {
    await revokeAll();
    for (const r of vehicleRoutes()) expect((await insurer(r.path)).status, r.path).toBe(403);
    expect(((await (await insurer('/v1/vehicles')).json()) as { vehicles: unknown[] }).vehicles).toEqual([]);
    const res = await insurer('/v1/grants', json({ vin: FLEET.vin, business: FLEET.stranger.username, kinds: ['trips'], from: 0, to: 1, expiresAt: Date.now() + 1e6 }));
    expect(res.status).toBe(403);
  }); // prettier-ignore

  it('business with a grant: exactly the kinds and time range granted, every read on the log', async () => {
    // Trips and traces only, and only the first minute of the trip.
    const g = await grant({ kinds: ['trips', 'traces'], to: FLEET.t0 + 60_000 });
    expect(g.status).toBe('active');
    const allowed = new Set(['any', 'trips', 'traces']);
    for (const r of vehicleRoutes()) {
      const res = await insurer(r.path);
      // The crash (95 s) and the trip (0–120 s) are not inside the granted minute, so they
      // are not found within the grant's scope; a trip is shown only when wholly inside it.
      const outside = r.path.includes(`/events/${crashId}`) || r.path.includes(`/trips/${tripId}`);
      const expected = r.kind === 'owner' ? 403 : !allowed.has(r.kind) ? 403 : outside ? 404 : 200;
      expect(res.status, r.path).toBe(expected);
    }
    expect((await stranger(`/v1/vehicles/${FLEET.vin}/trips`)).status).toBe(403);
    const samples = (await (await insurer(`/v1/vehicles/${FLEET.vin}/samples?limit=10000&name=Vehicle.Speed`)).json()) as { samples: { time: number; name: string }[] };
    expect(samples.samples.length).toBeGreaterThan(50);
    expect(samples.samples.every((s) => s.time <= FLEET.t0 + 60_000 && s.name === 'Vehicle.Speed')).toBe(true);
    const ownerSamples = (await (await owner(`/v1/vehicles/${FLEET.vin}/samples?limit=10000&name=Vehicle.Speed`)).json()) as { samples: unknown[] };
    expect(ownerSamples.samples.length).toBeGreaterThan(samples.samples.length);

    // The owner sees the grant and every access in the access log, each a leaf on the log
    // whose entry commits to the record's hash.
    const log = (await (await owner(`/v1/vehicles/${FLEET.vin}/access-log`)).json()) as { records: { kind: string; user: string; leafIndex: number; record: string; recordHash: string; fields: Record<string, unknown> }[] };
    const accesses = log.records.filter((r) => r.kind === 'access' && r.user === FLEET.insurer.username);
    expect(accesses.length).toBeGreaterThanOrEqual(5);
    expect(log.records.some((r) => r.kind === 'grant' && r.leafIndex === g.leafIndex)).toBe(true);
    for (const r of log.records) {
      const record = new Uint8Array(Buffer.from(r.record, 'base64'));
      expect(Buffer.from(accessRecordHash(record)).toString('base64')).toBe(r.recordHash);
      const entry = (await (await anonymous(`/v1/log/entries/${r.leafIndex}`)).json()) as { entry: string };
      const decoded = decodeLogEntry(new Uint8Array(Buffer.from(entry.entry, 'base64')));
      expect(decoded.type).toBe('access');
      expect(decoded.type === 'access' && Buffer.from(decoded.recordHash).toString('base64')).toBe(r.recordHash);
    }
    expect(accesses.at(-1)!.fields).toMatchObject({ kind: 'access', business: FLEET.insurer.username, vin: FLEET.vin, dataKind: 'trips' });
    await revokeAll();
  }); // prettier-ignore

  it('a revoked grant and an expired grant are refused', async () => {
    const g = await grant({ kinds: ['trips', 'events', 'traces', 'scores'] });
    expect((await insurer(`/v1/vehicles/${FLEET.vin}/score`)).status).toBe(200);
    const revoked = (await (await owner(`/v1/grants/${g.id}`, { method: 'DELETE' })).json()) as { status: string; revokedAt: number };
    expect(revoked.status).toBe('revoked');
    for (const r of vehicleRoutes()) expect((await insurer(r.path)).status, r.path).toBe(403);
    expect((await owner(`/v1/grants/${g.id}`, { method: 'DELETE' })).status).toBe(409);

    const short = await grant({ kinds: ['scores'], expiresAt: Date.now() + 1_200 });
    expect((await insurer(`/v1/vehicles/${FLEET.vin}/score`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_300));
    expect((await insurer(`/v1/vehicles/${FLEET.vin}/score`)).status).toBe(403);
    const held = (await (await insurer('/v1/grants')).json()) as { grants: { id: number; status: string }[] };
    expect(held.grants.find((x) => x.id === short.id)?.status).toBe('expired');
    expect(held.grants.find((x) => x.id === g.id)?.status).toBe('revoked');
    // Grants only for one's own VIN, to a business user, with known kinds.
    expect((await otherOwner('/v1/grants', json({ vin: FLEET.vin, business: FLEET.insurer.username, kinds: ['trips'], from: 0, to: 1, expiresAt: Date.now() + 1e6 }))).status).toBe(403);
    expect((await owner('/v1/grants', json({ vin: FLEET.vin, business: FLEET.otherOwner.username, kinds: ['trips'], from: 0, to: 1, expiresAt: Date.now() + 1e6 }))).status).toBe(404);
    expect((await owner('/v1/grants', json({ vin: FLEET.vin, business: FLEET.insurer.username, kinds: ['everything'], from: 0, to: 1, expiresAt: Date.now() + 1e6 }))).status).toBe(400);
  }, 20_000); // prettier-ignore

  it('API tokens: bearer access for programs, revocable, unknown tokens refused', async () => {
    const created = (await (await insurer('/v1/tokens', json({ name: 'claims system', expiresInDays: 30 }))).json()) as { id: number; token: string };
    expect(created.token).toMatch(/^ect_/);
    const bearer = { headers: { authorization: `Bearer ${created.token}` } };
    const me = (await (await anonymous('/v1/me', bearer)).json()) as { user: { username: string; kind: string } };
    expect(me.user).toMatchObject({ username: FLEET.insurer.username, kind: 'business' });
    expect((await anonymous(`/v1/vehicles/${FLEET.vin}/trips`, bearer)).status).toBe(403);
    const g = await grant({ kinds: ['trips'] });
    expect((await anonymous(`/v1/vehicles/${FLEET.vin}/trips`, bearer)).status).toBe(200);
    const tokens = (await (await insurer('/v1/tokens')).json()) as { tokens: { id: number; lastUsedAt: number | null }[] };
    expect(tokens.tokens.find((t) => t.id === created.id)?.lastUsedAt).toEqual(expect.any(Number));
    expect((await insurer(`/v1/tokens/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    const after = await anonymous(`/v1/vehicles/${FLEET.vin}/trips`, bearer);
    expect(after.status).toBe(401);
    expect((await anonymous('/v1/me', { headers: { authorization: 'Bearer ect_AAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })).status).toBe(401);
    expect((await anonymous('/v1/me', { headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status).toBe(401);
    await owner(`/v1/grants/${g.id}`, { method: 'DELETE' });
  }); // prettier-ignore

  it('sessions: wrong passwords are refused alike, logout ends the session, logins are rate-limited', async () => {
    const wrong = await anonymous('/v1/session', json({ username: FLEET.owner.username, password: 'not the password' }));
    const unknown = await anonymous('/v1/session', json({ username: 'nobody@example.org', password: 'not the password' }));
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(((await wrong.json()) as { code: string }).code).toBe('bad-credentials');
    const session = await login(base, FLEET.otherOwner);
    expect((await session('/v1/me')).status).toBe(200);
    expect((await session('/v1/session', { method: 'DELETE' })).status).toBe(204);
    expect((await session('/v1/me')).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i <= LOGIN_ATTEMPTS_PER_MINUTE; i++)
      statuses.push((await anonymous('/v1/session', json({ username: 'rate@example.org', password: 'guess guess ' + i }))).status);
    expect(statuses.slice(0, LOGIN_ATTEMPTS_PER_MINUTE).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  }, 30_000); // prettier-ignore

  it('bad input gets a clear error with a stable code', async () => {
    const bad = await owner('/v1/vehicles/NOT-A-VIN-AT-ALL!/trips');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('bad-request');
    const extra = await owner('/v1/grants', json({ vin: FLEET.vin, business: FLEET.insurer.username, kinds: ['trips'], from: 0, to: 1, expiresAt: Date.now() + 1e6, admin: true }));
    expect(extra.status).toBe(400);
    expect((await owner(`/v1/vehicles/${FLEET.vin}/trips/trip-1`)).status).toBe(404);
    expect((await owner(`/v1/vehicles/${FLEET.vin}/events/999999`)).status).toBe(404);
    expect((await anonymous('/v1/log/entries/99999999')).status).toBe(404);
  }); // prettier-ignore
});

describe('HTTP API: what the data says', () => {
  it('trips are recomputed from the signed samples', async () => {
    const { trips } = (await (await owner(`/v1/vehicles/${FLEET.vin}/trips`)).json()) as { trips: { distanceKm: number; maxSpeedKmh: number; harshBrakingCount: number; crashCount: number }[] };
    expect(trips).toHaveLength(1);
    // ∫ fleetSpeed dt = 10·30 + 40·60 + 2·45 + 38·30 + 10·15 = 4,080 km/h·s = 1.1333 km.
    expect(trips[0]!.distanceKm).toBeCloseTo(1.133, 2);
    expect(trips[0]).toMatchObject({ maxSpeedKmh: 60, harshBrakingCount: 1, crashCount: 1 });
    const detail = (await (await owner(`/v1/vehicles/${FLEET.vin}/trips/${tripId}`)).json()) as { series: Record<string, { t: number[]; v: number[] }>; events: { type: string }[] };
    expect(detail.series['Vehicle.Speed']!.v.length).toBeGreaterThan(200);
    expect(detail.series['Vehicle.Powertrain.CombustionEngine.Speed']!.t.length).toBe(detail.series['Vehicle.Speed']!.t.length);
    expect(detail.events.map((e) => e.type).sort()).toEqual(['crash', 'harsh-braking']);
  }); // prettier-ignore

  it('samples page through without loss or repeat', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/vehicles/${FLEET.vin}/samples?limit=100&name=Vehicle.Speed&name=Vehicle.Powertrain.CombustionEngine.Speed${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await (await owner(q)).json()) as { samples: { name: string; time: number }[]; next: string | null };
      seen.push(...page.samples.map((s) => `${s.name}@${s.time}`));
      cursor = page.next;
    } while (cursor);
    expect(seen).toHaveLength(12 * 20 * 2);
    expect(new Set(seen).size).toBe(seen.length);
  }); // prettier-ignore

  it('crash evidence downloads as application/cbor and verifies offline against the node key', async () => {
    const res = await owner(`/v1/vehicles/${FLEET.vin}/events/${crashId}/evidence`);
    expect(res.headers.get('content-type')).toBe('application/cbor');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const node = (await (await anonymous('/v1/node')).json()) as { checkpointVerifierKey: string };
    const verified = verifyEvidence(bytes, { trustedKeys: [node.checkpointVerifierKey] });
    expect(verified.trusted).toBe(true);
    expect(verified.events.map((e) => e.type)).toContain('crash');
    const trace = (await (await owner(`/v1/vehicles/${FLEET.vin}/events/${crashId}`)).json()) as { trace: { series: Record<string, { t: number[] }> } };
    expect(trace.trace.series['Vehicle.Speed']!.t.length).toBeGreaterThan(10);
  }); // prettier-ignore

  it('the VIN file: registration, trip, events and grants, each leaf proven against one checkpoint', async () => {
    await fleet.node.checkpointNow();
    const file = (await (await owner(`/v1/vehicles/${FLEET.vin}/file`)).json()) as { checkpoint: { treeSize: number; rootHash: string; note: string }; items: { kind: string; leaves: { leafIndex: number; entry: string; proof: string[] | null }[] }[] };
    const kinds = new Set(file.items.map((i) => i.kind));
    for (const k of ['registration', 'trip', 'event', 'crash', 'grant', 'grant-revoked', 'access']) expect(kinds, k).toContain(k);
    const node = (await (await anonymous('/v1/node')).json()) as { checkpointVerifierKey: string; logOrigin: string };
    const cp = openCheckpoint(file.checkpoint.note, [parseVerifierKey(node.checkpointVerifierKey)], { origin: node.logOrigin });
    let proven = 0;
    for (const item of file.items)
      for (const l of item.leaves) {
        if (!l.proof) continue;
        const entry = new Uint8Array(Buffer.from(l.entry, 'base64'));
        const proof = l.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64')));
        expect(() => verifyInclusion(BigInt(l.leafIndex), BigInt(cp.checkpoint.treeSize), leafHash(entry), proof, cp.checkpoint.rootHash)).not.toThrow();
        proven++;
      }
    expect(proven).toBeGreaterThan(12);
    // A business user's file holds only what its grants cover: no access records, no trips
    // without the trips kind.
    const g = await grant({ kinds: ['events'] });
    const theirs = (await (await insurer(`/v1/vehicles/${FLEET.vin}/file`)).json()) as { items: { kind: string }[] };
    expect(new Set(theirs.items.map((i) => i.kind))).toEqual(new Set(['registration', 'event', 'crash']));
    await owner(`/v1/grants/${g.id}`, { method: 'DELETE' });
  }); // prettier-ignore

  it('the OpenAPI document describes every route with a schema', async () => {
    const doc = (await (await anonymous('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/session', '/v1/vehicles', '/v1/vehicles/{vin}/trips', '/v1/vehicles/{vin}/samples', '/v1/vehicles/{vin}/events/{id}/evidence', '/v1/vehicles/{vin}/score', '/v1/vehicles/{vin}/file', '/v1/grants', '/v1/status', '/v1/log/checkpoint'])
      expect(doc.paths, p).toHaveProperty([p]);
    expect((await anonymous('/docs')).status).toBeLessThan(400);
  }); // prettier-ignore
});
