/// <reference lib="dom" />
/**
 * The node's HTTP API as the dashboard uses it: the client generated from /openapi.json
 * (ingest/src/client), so a route that changes shape fails the dashboard's type check rather
 * than the page. Same origin only, riding on the session cookie; the types below are the
 * generated response types under the names the views use.
 */
import { createEnginechainClient, type paths } from '../../client/api-client.js';

/** The JSON body a route answers with for `status`. */
type Body<
  P extends keyof paths,
  M extends 'get' | 'post' | 'delete',
  S extends number = 200,
> = paths[P][M] extends { responses: { [K in S]: { content: { 'application/json': infer T } } } }
  ? T
  : never;

export type DataKind = Grant['kinds'][number];
export type User = Body<'/v1/me', 'get'>['user'];
export type NodeInfo = Body<'/v1/node', 'get'>;
export type NodeStatus = Body<'/v1/status', 'get'>;
export type VehicleSummary = Body<'/v1/vehicles', 'get'>['vehicles'][number];
export type TripSummary = Body<'/v1/vehicles/{vin}/trips', 'get'>['trips'][number];
export type VehicleEvent = Body<'/v1/vehicles/{vin}/events', 'get'>['events'][number];
export type SeriesMap = Body<'/v1/vehicles/{vin}/trips/{tripId}', 'get'>['series'];
export type Grant = Body<'/v1/grants', 'get'>['grants'][number];
export type VinInfo = Body<'/v1/vins/{vin}', 'get'>;
export type VinFile = Body<'/v1/vehicles/{vin}/file', 'get'>;

/** A refusal from the node: its stable code (bad-credentials, forbidden, ...) and message. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const client = createEnginechainClient(location.origin);

/** The body of a successful answer, or the node's error as an ApiError. */
async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined && data !== null) return data as NonNullable<T>;
  if (response.ok && response.status === 204) return undefined as unknown as NonNullable<T>;
  const e = (error ?? {}) as { code?: string; message?: string };
  throw new ApiError(response.status, e.code ?? 'internal', e.message ?? response.statusText);
}

const vinPath = (vin: string) => ({ params: { path: { vin } } });

export const api = {
  node: () => ok(client.GET('/v1/node')),
  status: () => ok(client.GET('/v1/status')),
  vin: (vin: string) => ok(client.GET('/v1/vins/{vin}', vinPath(vin))),
  me: async (): Promise<User | null> => {
    try {
      return (await ok(client.GET('/v1/me'))).user;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },
  login: (username: string, password: string) =>
    ok(client.POST('/v1/session', { body: { username, password } })),
  logout: () => ok(client.DELETE('/v1/session')),
  vehicles: () => ok(client.GET('/v1/vehicles')),
  trips: (vin: string) => ok(client.GET('/v1/vehicles/{vin}/trips', vinPath(vin))),
  trip: (vin: string, tripId: string) =>
    ok(client.GET('/v1/vehicles/{vin}/trips/{tripId}', { params: { path: { vin, tripId } } })),
  events: (vin: string) => ok(client.GET('/v1/vehicles/{vin}/events', vinPath(vin))),
  event: (vin: string, id: number) =>
    ok(client.GET('/v1/vehicles/{vin}/events/{id}', { params: { path: { vin, id } } })),
  file: (vin: string) => ok(client.GET('/v1/vehicles/{vin}/file', vinPath(vin))),
  /** The evidence file's bytes, exactly as served (never re-encoded: it is what is verified). */
  evidence: async (vin: string, id: number): Promise<Uint8Array> => {
    const res = await ok(
      client.GET('/v1/vehicles/{vin}/events/{id}/evidence', {
        params: { path: { vin, id } },
        parseAs: 'arrayBuffer',
      }),
    );
    return new Uint8Array(res);
  },
  grants: () => ok(client.GET('/v1/grants')),
  createGrant: (g: {
    vin: string;
    business: string;
    kinds: DataKind[];
    from: number;
    to: number;
    expiresAt: number;
  }) => ok(client.POST('/v1/grants', { body: g })),
  revokeGrant: (id: number) => ok(client.DELETE('/v1/grants/{id}', { params: { path: { id } } })),
  businessUsers: () => ok(client.GET('/v1/users', { params: { query: { kind: 'business' } } })),
};
