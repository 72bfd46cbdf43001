/// <reference lib="dom" />
/**
 * The node's HTTP API as the dashboard uses it (docs: /work/notes/api-contract.md, the OpenAPI
 * document at /openapi.json). Plain fetch with the session cookie, same origin only; swap for
 * the generated openapi-fetch client (ingest/src/client) once it lands: the shapes below are
 * the contract's.
 */
export type DataKind = 'trips' | 'events' | 'traces' | 'scores';

export interface User {
  readonly id: number;
  readonly username: string;
  readonly kind: 'registered' | 'business';
  readonly displayName: string;
}

export interface NodeInfo {
  readonly brokerUrl: string;
  readonly logOrigin: string;
  readonly checkpointVerifierKey: string;
  readonly receiptPublicKey: string;
}

export interface NodeStatus {
  readonly logSize: number;
  readonly checkpoint: { treeSize: number; rootHash: string; ageSeconds: number } | null;
  readonly batchesPerSecond: number;
  readonly connectedDevices: number;
  readonly devices: number;
  readonly vehicles: number;
  readonly rejections: Readonly<Record<string, number>>;
  readonly uptimeSeconds: number;
}

export interface VehicleSummary {
  readonly vin: string;
  readonly manufacturer: string | null;
  readonly modelYear: number | null;
  readonly relation: 'owner' | 'grantee';
  readonly kinds: readonly DataKind[];
  readonly lastSeen: number | null;
  readonly score: number | null;
  readonly distanceKm: number | null;
  readonly openAlerts: number | null;
}

export interface TripSummary {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly distanceKm: number;
  readonly durationS: number;
  readonly idleS: number;
  readonly maxSpeedKmh: number;
  readonly harshAccelerationCount: number;
  readonly harshBrakingCount: number;
  readonly crashCount: number;
  readonly score: number | null;
}

export interface VehicleEvent {
  readonly id: number;
  readonly type: string;
  readonly priority: string;
  readonly start: number;
  readonly end: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly deviceId: string;
  readonly seq: number;
}

export type SeriesMap = Readonly<
  Record<
    string,
    { readonly unit: string; readonly t: readonly number[]; readonly v: readonly number[] }
  >
>;

export interface Grant {
  readonly id: number;
  readonly vin: string;
  readonly owner: string;
  readonly business: string;
  readonly kinds: readonly DataKind[];
  readonly from: number;
  readonly to: number;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly status: 'active' | 'expired' | 'revoked';
  readonly leafIndex: number;
}

export interface VinInfo {
  readonly vin: string;
  readonly valid: boolean;
  readonly manufacturer?: string | null;
  readonly region?: string | null;
  readonly modelYear?: number | null;
  readonly [k: string]: unknown;
}

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

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
    throw new ApiError(res.status, err.code ?? 'internal', err.message ?? res.statusText);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  node: () => request<NodeInfo>('GET', '/v1/node'),
  status: () => request<NodeStatus>('GET', '/v1/status'),
  vin: (vin: string) => request<VinInfo>('GET', `/v1/vins/${enc(vin)}`),
  me: async (): Promise<User | null> => {
    try {
      return (await request<{ user: User }>('GET', '/v1/me')).user;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },
  login: (username: string, password: string) =>
    request<{ user: User }>('POST', '/v1/session', { username, password }),
  logout: () => request<void>('DELETE', '/v1/session'),
  vehicles: () => request<{ vehicles: VehicleSummary[] }>('GET', '/v1/vehicles'),
  trips: (vin: string) =>
    request<{ trips: TripSummary[] }>('GET', `/v1/vehicles/${enc(vin)}/trips`),
  trip: (vin: string, tripId: string) =>
    request<{ trip: TripSummary; series: SeriesMap; events: VehicleEvent[] }>(
      'GET',
      `/v1/vehicles/${enc(vin)}/trips/${enc(tripId)}`,
    ),
  events: (vin: string) =>
    request<{ events: VehicleEvent[] }>('GET', `/v1/vehicles/${enc(vin)}/events`),
  event: (vin: string, id: number) =>
    request<{ event: VehicleEvent; trace: { series: SeriesMap } | null }>(
      'GET',
      `/v1/vehicles/${enc(vin)}/events/${id}`,
    ),
  evidence: async (vin: string, id: number): Promise<Uint8Array> => {
    const res = await fetch(`/v1/vehicles/${enc(vin)}/events/${id}/evidence`, {
      credentials: 'same-origin',
    });
    if (!res.ok) {
      const err = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ApiError(res.status, err.code ?? 'internal', err.message ?? res.statusText);
    }
    return new Uint8Array(await res.arrayBuffer());
  },
  grants: () => request<{ grants: Grant[] }>('GET', '/v1/grants'),
  createGrant: (g: {
    vin: string;
    business: string;
    kinds: DataKind[];
    from: number;
    to: number;
    expiresAt: number;
  }) => request<Grant>('POST', '/v1/grants', g),
  revokeGrant: (id: number) => request<Grant>('DELETE', `/v1/grants/${id}`),
  businessUsers: () =>
    request<{ users: { username: string; displayName: string }[] }>(
      'GET',
      '/v1/users?kind=business',
    ),
};
