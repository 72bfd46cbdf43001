import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeVin, VinError } from '@enginechain/shared';
import { DATA_KINDS, describeAccessRecord, type DataKind } from '../access/access-record.js';
import type { AccessService, VehicleScope } from '../access/access-service.js';
import { EvidenceRequestError } from '../evidence/evidence-builder.js';
import type { Sidechain } from '../sidechain/sidechain.js';
import type { IngestStore, StoredEvent } from '../storage/ingest-store.js';
import type { VehicleData } from '../vehicles/vehicle-data.js';
import { buildVinFile } from '../vehicles/vin-file.js';
import { HttpError } from './errors.js';
import { requireKind } from './principal.js';
import {
  dataKindSchema,
  errorResponses,
  proofSchema,
  timeRangeQuery,
  toBase64,
  vinParams,
} from './schemas.js';

export interface VehicleRouteOptions {
  readonly access: AccessService;
  readonly data: VehicleData;
  readonly store: IngestStore;
  readonly sidechain: Sidechain;
}

const MAX_TIME = Number.MAX_SAFE_INTEGER;

const seriesSchema = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['unit', 't', 'v'],
    properties: {
      unit: { type: 'string' },
      t: { type: 'array', items: { type: 'number' } },
      v: { type: 'array', items: { type: 'number' } },
    },
  },
} as const;

const eventSchema = {
  type: 'object',
  required: ['id', 'type', 'priority', 'start', 'end', 'data', 'deviceId', 'seq'],
  properties: {
    id: { type: 'integer' },
    type: { type: 'string' },
    priority: { type: 'string' },
    start: { type: 'number' },
    end: { type: 'number' },
    data: { type: 'object', additionalProperties: true },
    deviceId: { type: 'string' },
    seq: { type: 'integer' },
  },
} as const;

const tripSchema = {
  type: 'object',
  required: ['id', 'start', 'end', 'complete', 'distanceKm', 'durationS', 'movingS', 'idleS', 'nightS', 'speedingS', 'speedingKm', 'maxSpeedKmh', 'harshAccelerationCount', 'harshBrakingCount', 'crashCount', 'nightBasis', 'speedingAboveKmh', 'score'],
  properties: {
    id: { type: 'string' },
    start: { type: 'number' },
    end: { type: 'number' },
    complete: { type: 'boolean' },
    distanceKm: { type: 'number' },
    durationS: { type: 'number' },
    movingS: { type: 'number' },
    idleS: { type: 'number' },
    nightS: { type: 'number' },
    speedingS: { type: 'number' },
    speedingKm: { type: 'number' },
    maxSpeedKmh: { type: 'number' },
    harshAccelerationCount: { type: 'integer' },
    harshBrakingCount: { type: 'integer' },
    crashCount: { type: 'integer' },
    nightBasis: { type: 'string', enum: ['sun', 'local-hours'] },
    speedingAboveKmh: { type: 'number' },
    score: { type: ['number', 'null'] },
  },
} as const; // prettier-ignore

const scoreComponentSchema = { type: 'object', additionalProperties: true } as const;

const scoreSchema = {
  type: 'object',
  required: ['score', 'components', 'confidence', 'distanceKm', 'trips', 'formulaVersion'],
  properties: {
    score: { type: ['number', 'null'] },
    components: {
      type: 'object',
      required: ['harshEvents', 'speeding', 'night', 'idling', 'distance'],
      properties: {
        harshEvents: scoreComponentSchema,
        speeding: scoreComponentSchema,
        night: scoreComponentSchema,
        idling: scoreComponentSchema,
        distance: scoreComponentSchema,
      },
    },
    confidence: { type: 'number' },
    distanceKm: { type: 'number' },
    trips: { type: 'integer' },
    formulaVersion: { type: 'string' },
  },
} as const;

const vehicleSummarySchema = {
  type: 'object',
  required: ['vin', 'manufacturer', 'modelYear', 'relation', 'kinds', 'lastSeen', 'score', 'distanceKm', 'openAlerts'],
  properties: {
    vin: { type: 'string' },
    manufacturer: { type: ['string', 'null'] },
    modelYear: { type: ['integer', 'null'] },
    relation: { type: 'string', enum: ['owner', 'grantee'] },
    kinds: { type: 'array', items: dataKindSchema },
    lastSeen: { type: ['number', 'null'] },
    score: { type: ['number', 'null'] },
    distanceKm: { type: ['number', 'null'] },
    openAlerts: { type: ['integer', 'null'] },
  },
} as const; // prettier-ignore

const eventView = (e: StoredEvent) => ({
  id: e.id,
  type: e.type,
  priority: e.priority,
  start: e.start,
  end: e.end,
  data: e.data,
  deviceId: e.deviceId,
  seq: e.seq,
});

function canonicalVin(vin: string): string {
  try {
    return decodeVin(vin).vin;
  } catch (err) {
    if (err instanceof VinError) throw new HttpError('bad-request', `vin: ${err.message}`);
    throw err;
  }
}

/** Alerts a fleet manager acts on: DTCs still set, and crashes in the last 7 days of data. */
function openAlerts(events: readonly StoredEvent[], lastSeen: number | null): number {
  const dtcs = new Set<string>();
  let crashes = 0;
  for (const e of events) {
    const code = typeof e.data.code === 'string' ? e.data.code : '';
    if (e.type === 'dtc-set') dtcs.add(code);
    else if (e.type === 'dtc-cleared') dtcs.delete(code);
    else if (e.type === 'crash' && lastSeen !== null && e.start >= lastSeen - 7 * 86_400_000)
      crashes++;
  }
  return dtcs.size + crashes;
}

/**
 * Vehicle data by VIN. Every route asks the access service for the caller's scope of one data
 * kind, answers only within its time ranges, and logs a business user's access before any
 * data leaves.
 */
export const vehicleRoutes = fp(
  async (app: FastifyInstance, o: VehicleRouteOptions) => {
    const { access, data } = o;

    /** The caller's scope for `kind` on the request's VIN, or the error that explains why not. */
    async function scoped(
      req: FastifyRequest,
      kind: DataKind,
      range: { from?: number; to?: number } = {},
    ): Promise<{ vin: string; scope: VehicleScope }> {
      const vin = canonicalVin((req.params as { vin: string }).vin);
      if (req.principal.kind === 'anonymous') throw new HttpError('unauthenticated');
      const scope = await access.scope(req.principal, vin, kind);
      if (!scope) throw new HttpError('forbidden', `no access to ${kind} of ${vin}`);
      await access.recordAccess(req.principal, scope, {
        vin,
        dataKind: kind,
        request: `${req.method} ${req.routeOptions.url ?? req.url}`,
        from: range.from ?? 0,
        to: range.to ?? MAX_TIME,
      });
      return { vin, scope };
    }

    app.get(
      '/v1/vehicles',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'Vehicles you own or hold an active grant for',
          response: {
            200: {
              type: 'object',
              required: ['vehicles'],
              properties: { vehicles: { type: 'array', items: vehicleSummarySchema } },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        if (req.principal.kind === 'anonymous') throw new HttpError('unauthenticated');
        const vehicles = [];
        for (const v of await access.visibleVehicles(req.principal)) {
          const d = decodeVin(v.vin);
          const stats = await o.store.vehicleStats(v.vin);
          const scopeOf = (k: DataKind) => access.scope(req.principal, v.vin, k);
          const tripScope = await scopeOf('trips');
          const scoreScope = await scopeOf('scores');
          const eventScope = await scopeOf('events');
          const trips = tripScope ? await data.trips(v.vin, tripScope.ranges) : undefined;
          const score = scoreScope ? await data.score(v.vin, scoreScope.ranges) : undefined;
          vehicles.push({
            vin: v.vin,
            manufacturer: d.manufacturer ?? null,
            modelYear: d.modelYears.length === 1 ? (d.modelYears[0] as number) : null,
            relation: v.relation,
            kinds: v.kinds,
            lastSeen: stats.lastTime,
            score: score?.score ?? null,
            distanceKm: trips ? trips.reduce((s, t) => s + t.distanceKm, 0) : null,
            openAlerts: eventScope
              ? openAlerts(await data.events(v.vin, eventScope.ranges), stats.lastTime)
              : null,
          });
        }
        return { vehicles };
      },
    );

    app.get(
      '/v1/vehicles/:vin',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'One vehicle: what its VIN says and its devices',
          params: vinParams,
          response: {
            200: {
              type: 'object',
              required: ['vin', 'decoded', 'relation', 'kinds', 'devices'],
              properties: {
                vin: { type: 'string' },
                decoded: { type: 'object', additionalProperties: true },
                relation: { type: 'string', enum: ['owner', 'grantee'] },
                kinds: { type: 'array', items: dataKindSchema },
                devices: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['deviceId', 'status', 'registeredAt', 'registrationLeaf'],
                    properties: {
                      deviceId: { type: 'string' },
                      status: { type: 'string' },
                      registeredAt: { type: 'number' },
                      registrationLeaf: { type: 'integer' },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const vin = canonicalVin((req.params as { vin: string }).vin);
        if (req.principal.kind === 'anonymous') throw new HttpError('unauthenticated');
        const v = (await access.visibleVehicles(req.principal)).find((x) => x.vin === vin);
        if (!v) throw new HttpError('forbidden', `no access to ${vin}`);
        return {
          vin,
          decoded: decodeVin(vin),
          relation: v.relation,
          kinds: v.kinds,
          devices: (await o.store.devicesByVin(vin)).map((d) => ({
            deviceId: d.deviceId,
            status: d.status,
            registeredAt: d.registeredAt,
            registrationLeaf: d.registrationLeaf,
          })),
        };
      },
    );

    const rangeQuery = {
      type: 'object',
      properties: { ...timeRangeQuery },
    } as const;

    app.get(
      '/v1/vehicles/:vin/trips',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'Trips recomputed from the signed samples (kind: trips)',
          params: vinParams,
          querystring: rangeQuery,
          response: {
            200: {
              type: 'object',
              required: ['trips'],
              properties: { trips: { type: 'array', items: tripSchema } },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const q = req.query as { from?: number; to?: number };
        const { vin, scope } = await scoped(req, 'trips', q);
        return { trips: await data.trips(vin, scope.ranges, q.from, q.to) };
      },
    );

    app.get(
      '/v1/vehicles/:vin/trips/:tripId',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'One trip with speed and engine speed over time (kind: trips)',
          params: {
            type: 'object',
            required: ['vin', 'tripId'],
            properties: { ...vinParams.properties, tripId: { type: 'string', maxLength: 64 } },
          },
          response: {
            200: {
              type: 'object',
              required: ['trip', 'series', 'events'],
              properties: {
                trip: tripSchema,
                series: seriesSchema,
                events: { type: 'array', items: eventSchema },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { vin, scope } = await scoped(req, 'trips');
        const id = (req.params as { tripId: string }).tripId;
        const trip = (await data.trips(vin, scope.ranges)).find((t) => t.id === id);
        if (!trip) throw new HttpError('not-found', `no trip ${id} of ${vin}`);
        const eventScope = await access.scope(req.principal, vin, 'events');
        return {
          trip,
          series: await data.series(vin, scope.ranges, trip.start, trip.end),
          events: eventScope
            ? (await data.events(vin, eventScope.ranges, trip.start, trip.end)).map(eventView)
            : [],
        };
      },
    );

    app.get(
      '/v1/vehicles/:vin/samples',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'Signed samples, paged and time-ranged (kind: trips)',
          params: vinParams,
          querystring: {
            type: 'object',
            properties: {
              ...timeRangeQuery,
              name: {
                type: 'array',
                items: { type: 'string', maxLength: 200 },
                maxItems: 50,
                description: 'VSS names to include (repeat the parameter); all when absent',
              },
              cursor: { type: 'string', pattern: '^[0-9.]+_[0-9]+$' },
              limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1_000 },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['samples', 'next'],
              properties: {
                samples: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['name', 'time', 'value', 'unit'],
                    properties: {
                      name: { type: 'string' },
                      time: { type: 'number' },
                      value: { type: ['number', 'string', 'boolean'] },
                      unit: { type: 'string' },
                    },
                  },
                },
                next: { type: ['string', 'null'] },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const q = req.query as {
          from?: number;
          to?: number;
          name?: string[];
          cursor?: string;
          limit: number;
        };
        const { vin, scope } = await scoped(req, 'trips', q);
        const [time, id] = q.cursor ? q.cursor.split('_').map(Number) : [];
        const page = await data.samplePage({
          vin,
          ranges: scope.ranges,
          from: q.from ?? 0,
          to: q.to ?? MAX_TIME,
          ...(q.name ? { names: q.name } : {}),
          ...(time !== undefined && id !== undefined ? { after: { time, id } } : {}),
          limit: q.limit,
        });
        return {
          samples: page.samples,
          next: page.next ? `${page.next.time}_${page.next.id}` : null,
        };
      },
    );

    app.get(
      '/v1/vehicles/:vin/events',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'Events the device detected and signed (kind: events)',
          params: vinParams,
          querystring: {
            type: 'object',
            properties: { ...timeRangeQuery, type: { type: 'string', maxLength: 40 } },
          },
          response: {
            200: {
              type: 'object',
              required: ['events'],
              properties: { events: { type: 'array', items: eventSchema } },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const q = req.query as { from?: number; to?: number; type?: string };
        const { vin, scope } = await scoped(req, 'events', q);
        const events = await data.events(vin, scope.ranges, q.from, q.to);
        return { events: events.filter((e) => !q.type || e.type === q.type).map(eventView) };
      },
    );

    const eventParams = {
      type: 'object',
      required: ['vin', 'id'],
      properties: { ...vinParams.properties, id: { type: 'integer', minimum: 1 } },
    } as const;

    app.get(
      '/v1/vehicles/:vin/events/:id',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'One event; with kind traces also its trace (20 s before, 10 s after)',
          params: eventParams,
          response: {
            200: {
              type: 'object',
              required: ['event', 'trace'],
              properties: {
                event: eventSchema,
                trace: {
                  anyOf: [
                    { type: 'null' },
                    { type: 'object', required: ['series'], properties: { series: seriesSchema } },
                  ],
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { vin, scope } = await scoped(req, 'events');
        const id = (req.params as { id: number }).id;
        const event = await data.event(vin, id, scope.ranges);
        if (!event) throw new HttpError('not-found', `no event ${id} of ${vin}`);
        const traceScope = await access.scope(req.principal, vin, 'traces');
        if (traceScope)
          await access.recordAccess(req.principal, traceScope, {
            vin,
            dataKind: 'traces',
            request: `${req.method} ${req.routeOptions.url ?? req.url}`,
            from: event.start,
            to: event.end,
          });
        return {
          event: eventView(event),
          trace: traceScope ? { series: await data.trace(vin, event, traceScope.ranges) } : null,
        };
      },
    );

    app.get(
      '/v1/vehicles/:vin/events/:id/evidence',
      {
        schema: {
          tags: ['vehicles'],
          summary:
            'Evidence for an event (application/cbor), the same file `enginechain evidence` writes (crash: kind traces)',
          params: eventParams,
          response: {
            200: { description: 'COSE_Sign1 evidence bundle', type: 'string', format: 'binary' },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const vin = canonicalVin((req.params as { vin: string }).vin);
        const id = (req.params as { id: number }).id;
        const raw = await o.store.eventById(id);
        const kind: DataKind = raw?.type === 'crash' ? 'traces' : 'events';
        const { scope } = await scoped(req, kind, raw ? { from: raw.start, to: raw.end } : {});
        const event = await data.event(vin, id, scope.ranges);
        if (!event) throw new HttpError('not-found', `no event ${id} of ${vin}`);
        let bytes: Uint8Array;
        try {
          bytes = await data.evidence(vin, id);
        } catch (err) {
          if (err instanceof EvidenceRequestError)
            throw new HttpError(
              err.code === 'range-too-large' ? 'evidence-too-large' : 'not-found',
              err.message,
            );
          throw err;
        }
        reply
          .type('application/cbor')
          .header('content-disposition', `attachment; filename="evidence-${vin}-${id}.cbor"`);
        return Buffer.from(bytes);
      },
    );

    app.get(
      '/v1/vehicles/:vin/score',
      {
        schema: {
          tags: ['vehicles'],
          summary: 'Driving score (docs/scoring.md) over the trips in scope (kind: scores)',
          params: vinParams,
          response: { 200: scoreSchema, ...errorResponses },
        },
      },
      async (req) => {
        const { vin, scope } = await scoped(req, 'scores');
        return data.score(vin, scope.ranges);
      },
    );

    const leafSchema = {
      type: 'object',
      required: ['leafIndex', 'entry', 'proof'],
      properties: {
        leafIndex: { type: 'integer' },
        entry: { type: 'string' },
        proof: { anyOf: [{ type: 'null' }, proofSchema] },
      },
    } as const;

    app.get(
      '/v1/vehicles/:vin/file',
      {
        schema: {
          tags: ['vehicles'],
          summary:
            'The VIN file: the vehicle’s lifetime timeline, each item with its log entries and inclusion proofs',
          params: vinParams,
          response: {
            200: {
              type: 'object',
              required: ['vin', 'checkpoint', 'items'],
              properties: {
                vin: { type: 'string' },
                checkpoint: {
                  anyOf: [
                    { type: 'null' },
                    {
                      type: 'object',
                      required: ['treeSize', 'rootHash', 'note'],
                      properties: {
                        treeSize: { type: 'integer' },
                        rootHash: { type: 'string' },
                        note: { type: 'string' },
                      },
                    },
                  ],
                },
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['at', 'kind', 'summary', 'ref', 'leaves'],
                    properties: {
                      at: { type: 'number' },
                      kind: { type: 'string' },
                      summary: { type: 'string' },
                      ref: { type: 'string' },
                      leaves: { type: 'array', items: leafSchema },
                      record: { type: 'object', additionalProperties: true },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const vin = canonicalVin((req.params as { vin: string }).vin);
        if (req.principal.kind === 'anonymous') throw new HttpError('unauthenticated');
        const scope: Partial<Record<DataKind, VehicleScope['ranges']>> = {};
        let relation: 'owner' | 'grantee' | undefined;
        for (const k of DATA_KINDS) {
          const s = await access.scope(req.principal, vin, k);
          if (!s) continue;
          relation = s.relation;
          scope[k] = s.ranges;
          await access.recordAccess(req.principal, s, {
            vin,
            dataKind: k,
            request: `${req.method} ${req.routeOptions.url ?? req.url}`,
            from: 0,
            to: MAX_TIME,
          });
        }
        if (!relation) throw new HttpError('forbidden', `no access to ${vin}`);
        const file = await buildVinFile({
          vin,
          store: o.store,
          sidechain: o.sidechain,
          data,
          scope,
          ...(relation === 'owner' && req.principal.kind === 'user'
            ? { accessRecords: await access.accessLog(req.principal.user, vin) }
            : {}),
        });
        return {
          vin,
          checkpoint: file.checkpoint
            ? {
                treeSize: file.checkpoint.treeSize,
                rootHash: toBase64(file.checkpoint.root),
                note: file.checkpoint.note,
              }
            : null,
          items: file.items.map((i) => ({
            at: i.at,
            kind: i.kind,
            summary: i.summary,
            ref: i.ref,
            leaves: i.leaves.map((l) => ({
              leafIndex: l.leafIndex,
              entry: toBase64(l.entry),
              proof: l.proof ? l.proof.map(toBase64) : null,
            })),
            ...(i.record ? { record: describeAccessRecord(i.record) } : {}),
          })),
        };
      },
    );

    app.get(
      '/v1/vehicles/:vin/access-log',
      {
        schema: {
          tags: ['grants'],
          summary: 'Who was granted, revoked and read what of your vehicle (owner only)',
          params: vinParams,
          response: {
            200: {
              type: 'object',
              required: ['records'],
              properties: {
                records: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: [
                      'id',
                      'kind',
                      'at',
                      'user',
                      'leafIndex',
                      'record',
                      'recordHash',
                      'fields',
                    ],
                    properties: {
                      id: { type: 'integer' },
                      kind: { type: 'string' },
                      at: { type: 'number' },
                      user: { type: 'string' },
                      leafIndex: { type: 'integer' },
                      record: { type: 'string', description: 'base64 deterministic CBOR' },
                      recordHash: { type: 'string' },
                      fields: { type: 'object', additionalProperties: true },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const owner = requireKind(req, 'registered');
        const vin = canonicalVin((req.params as { vin: string }).vin);
        return {
          records: (await access.accessLog(owner, vin)).map((r) => ({
            id: r.id,
            kind: r.kind,
            at: r.at,
            user: r.username,
            leafIndex: r.leafIndex,
            record: toBase64(r.record),
            recordHash: toBase64(r.recordHash),
            fields: describeAccessRecord(r.record),
          })),
        };
      },
    );
  },
  { name: 'enginechain-vehicle-routes' },
);
