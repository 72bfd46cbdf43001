import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import { decodeLogEntry, decodeVin, VinError } from '@enginechain/shared';
import type { AccessService } from '../access/access-service.js';
import type { Sidechain } from '../sidechain/sidechain.js';
import type { IngestStore } from '../storage/ingest-store.js';
import type { VehicleData } from '../vehicles/vehicle-data.js';
import { authRoutes } from './auth-routes.js';
import type { EnrolmentService } from './enrolment-service.js';
import { HTTP_ERRORS, HttpError, errorSchema } from './errors.js';
import { grantRoutes } from './grant-routes.js';
import { keyRotationRoutes } from './key-rotation-routes.js';
import { principalPlugin } from './principal.js';
import { errorResponses, toBase64 } from './schemas.js';
import { vehicleRoutes } from './vehicle-routes.js';

/** What the node tells a device at enrolment and anyone at GET /v1/node. */
export interface NodeInfo {
  readonly brokerUrl: string;
  readonly logOrigin: string;
  readonly checkpointVerifierKey: string;
  readonly receiptPublicKey: string;
}

/** What anyone may know of the node's health (GET /v1/status, the dashboard's node page). */
export interface NodeStatus {
  readonly logSize: number;
  readonly checkpoint: {
    readonly treeSize: number;
    readonly rootHash: string;
    readonly ageSeconds: number;
  } | null;
  readonly batchesPerSecond: number;
  readonly connectedDevices: number;
  readonly devices: number;
  readonly vehicles: number;
  readonly rejections: Readonly<Record<string, number>>;
  readonly uptimeSeconds: number;
}

export interface AppDependencies {
  readonly enrolment: EnrolmentService;
  readonly sidechain: Sidechain;
  readonly nodeInfo: NodeInfo;
  readonly metrics: Registry;
  readonly store: IngestStore;
  readonly access: AccessService;
  readonly vehicles: VehicleData;
  readonly status: () => Promise<NodeStatus>;
  /** Requests per minute per client on enrolment; low, as tokens are guessable only by force. */
  readonly enrolmentRateLimit?: number;
  /** Login attempts per minute per client and username. */
  readonly loginRateLimit?: number;
  /** Requests per minute per API token or, without one, per client address. */
  readonly requestRateLimit?: number;
  /** Mark the session cookie Secure (when served over HTTPS or off loopback). */
  readonly secureCookies?: boolean;
  /** More plugins on the same app (the dashboard, operator routes), registered last. */
  readonly plugins?: readonly { plugin: FastifyPluginAsync<never>; options?: unknown }[];
}

const nodeInfoSchema = {
  type: 'object',
  required: ['brokerUrl', 'logOrigin', 'checkpointVerifierKey', 'receiptPublicKey'],
  properties: {
    brokerUrl: { type: 'string' },
    logOrigin: { type: 'string' },
    checkpointVerifierKey: { type: 'string' },
    receiptPublicKey: { type: 'string' },
  },
} as const;

const enrolmentPlugin = fp(
  async (app: FastifyInstance, deps: AppDependencies) => {
    app.post(
      '/v1/devices',
      {
        config: { rateLimit: { max: deps.enrolmentRateLimit ?? 30, timeWindow: '1 minute' } },
        schema: {
          tags: ['devices'],
          summary: 'Enrol a device with a single-use token and proof of key possession',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['token', 'vin', 'publicKey', 'proof'],
            properties: {
              token: { type: 'string', minLength: 16, maxLength: 128 },
              vin: { type: 'string', minLength: 17, maxLength: 17 },
              publicKey: {
                type: 'string',
                description: 'base64 SEC1 secp256k1 public key',
                maxLength: 100,
              },
              proof: {
                type: 'string',
                description: 'base64 ES256K signature (r‖s)',
                maxLength: 100,
              },
            },
          },
          response: {
            201: {
              type: 'object',
              required: ['deviceId', 'registrationLeafIndex', ...nodeInfoSchema.required],
              properties: {
                deviceId: { type: 'string' },
                registrationLeafIndex: { type: 'integer' },
                ...nodeInfoSchema.properties,
              },
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req, reply) => {
        const body = req.body as { token: string; vin: string; publicKey: string; proof: string };
        const result = await deps.enrolment.register({
          token: body.token,
          vin: body.vin,
          publicKey: new Uint8Array(Buffer.from(body.publicKey, 'base64')),
          proof: new Uint8Array(Buffer.from(body.proof, 'base64')),
        });
        reply.code(201);
        return { ...result, ...deps.nodeInfo };
      },
    );
  },
  { name: 'enginechain-enrolment' },
);

const publicPlugin = fp(
  async (app: FastifyInstance, deps: AppDependencies) => {
    app.get(
      '/v1/node',
      {
        schema: {
          tags: ['public'],
          summary: 'How to reach and trust this node',
          response: { 200: nodeInfoSchema },
        },
      },
      async () => deps.nodeInfo,
    );

    app.get(
      '/v1/log/checkpoint',
      {
        schema: {
          tags: ['public'],
          summary: 'The latest signed checkpoint (C2SP signed note)',
          response: {
            200: {
              type: 'object',
              required: ['treeSize', 'rootHash', 'note'],
              properties: {
                treeSize: { type: 'integer' },
                rootHash: { type: 'string' },
                note: { type: 'string' },
              },
            },
            '4xx': errorSchema,
          },
        },
      },
      async () => {
        const cp = deps.sidechain.latestCheckpoint;
        if (!cp) throw new HttpError('not-found', 'no checkpoint signed yet');
        return { treeSize: cp.treeSize, rootHash: toBase64(cp.root), note: cp.note };
      },
    );

    const proofResponse = {
      200: {
        type: 'object',
        required: ['proof'],
        properties: { proof: { type: 'array', items: { type: 'string' } } },
      },
      '4xx': errorSchema,
    };
    app.get(
      '/v1/log/proof/inclusion',
      {
        schema: {
          tags: ['public'],
          summary: 'RFC 9162 inclusion proof of a leaf in a tree size',
          querystring: {
            type: 'object',
            required: ['leaf', 'size'],
            properties: {
              leaf: { type: 'integer', minimum: 0 },
              size: { type: 'integer', minimum: 1 },
            },
          },
          response: proofResponse,
        },
      },
      async (req) => {
        const q = req.query as { leaf: number; size: number };
        return { proof: (await deps.sidechain.inclusionProof(q.leaf, q.size)).map(toBase64) };
      },
    );
    app.get(
      '/v1/log/proof/consistency',
      {
        schema: {
          tags: ['public'],
          summary: 'RFC 9162 consistency proof between two tree sizes',
          querystring: {
            type: 'object',
            required: ['from', 'to'],
            properties: {
              from: { type: 'integer', minimum: 1 },
              to: { type: 'integer', minimum: 1 },
            },
          },
          response: proofResponse,
        },
      },
      async (req) => {
        const q = req.query as { from: number; to: number };
        return { proof: (await deps.sidechain.consistencyProof(q.from, q.to)).map(toBase64) };
      },
    );

    app.get(
      '/v1/log/entries/:leaf',
      {
        schema: {
          tags: ['public'],
          summary: 'One log entry (public: device ids, hashes and times, never a VIN or sample)',
          params: {
            type: 'object',
            required: ['leaf'],
            properties: { leaf: { type: 'integer', minimum: 0 } },
          },
          response: {
            200: {
              type: 'object',
              required: ['leafIndex', 'entry', 'leafHash', 'decoded'],
              properties: {
                leafIndex: { type: 'integer' },
                entry: { type: 'string' },
                leafHash: { type: 'string' },
                decoded: { type: 'object', additionalProperties: true },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const leaf = (req.params as { leaf: number }).leaf;
        const stored = await deps.store.logEntry(leaf);
        if (!stored) throw new HttpError('not-found', `no leaf ${leaf}`);
        const decoded = Object.fromEntries(
          Object.entries(decodeLogEntry(stored.entry)).map(([k, v]) => [
            k,
            v instanceof Uint8Array ? toBase64(v) : v,
          ]),
        );
        return {
          leafIndex: leaf,
          entry: toBase64(stored.entry),
          leafHash: toBase64(stored.leafHash),
          decoded,
        };
      },
    );

    app.get(
      '/v1/status',
      {
        schema: {
          tags: ['public'],
          summary: 'Node status: throughput, log, checkpoint age, devices, rejections',
          response: {
            200: {
              type: 'object',
              required: ['logSize', 'checkpoint', 'batchesPerSecond', 'connectedDevices', 'devices', 'vehicles', 'rejections', 'uptimeSeconds'],
              properties: {
                logSize: { type: 'integer' },
                checkpoint: {
                  anyOf: [
                    { type: 'null' },
                    {
                      type: 'object',
                      required: ['treeSize', 'rootHash', 'ageSeconds'],
                      properties: {
                        treeSize: { type: 'integer' },
                        rootHash: { type: 'string' },
                        ageSeconds: { type: 'number' },
                      },
                    },
                  ],
                },
                batchesPerSecond: { type: 'number' },
                connectedDevices: { type: 'integer' },
                devices: { type: 'integer' },
                vehicles: { type: 'integer' },
                rejections: { type: 'object', additionalProperties: { type: 'integer' } },
                uptimeSeconds: { type: 'number' },
              },
            },
          },
        },
      },
      async () => deps.status(),
    ); // prettier-ignore

    app.get(
      '/v1/vins/:vin',
      {
        schema: {
          tags: ['public'],
          summary: 'What a VIN itself says (ISO 3779): maker, region, model year; no driving data',
          params: {
            type: 'object',
            required: ['vin'],
            properties: { vin: { type: 'string', minLength: 1, maxLength: 32 } },
          },
          response: {
            200: {
              type: 'object',
              required: ['vin', 'wmi', 'region', 'manufacturer', 'modelYears', 'checkDigit'],
              properties: {
                vin: { type: 'string' },
                wmi: { type: 'string' },
                vds: { type: 'string' },
                vis: { type: 'string' },
                region: { type: 'string' },
                country: { type: ['string', 'null'] },
                manufacturer: { type: ['string', 'null'] },
                checkDigit: { type: 'string' },
                modelYears: { type: 'array', items: { type: 'integer' } },
                serialNumber: { type: 'string' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        try {
          const d = decodeVin((req.params as { vin: string }).vin);
          return { ...d, country: d.country ?? null, manufacturer: d.manufacturer ?? null };
        } catch (err) {
          if (err instanceof VinError) throw new HttpError('bad-request', err.message);
          throw err;
        }
      },
    );

    app.get(
      '/metrics',
      { schema: { tags: ['public'], summary: 'Prometheus metrics' } },
      async (_req, reply) => {
        reply.type(deps.metrics.contentType);
        return deps.metrics.metrics();
      },
    );
  },
  { name: 'enginechain-public' },
);

/** Builds the node's HTTP app; test it with `app.inject()`. The agent never imports this. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    // `name=a&name=b` (or one `name=a`) arrives as an array; unknown body fields are refused.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });
  app.setErrorHandler(
    (err: Error & { validation?: unknown; statusCode?: number; code?: string }, _req, reply) => {
      if (err instanceof HttpError)
        return reply.code(err.statusCode).send({ code: err.code, message: err.message });
      if (err.validation)
        return reply.code(400).send({ code: 'bad-request', message: err.message });
      if (err.statusCode === 429)
        return reply.code(429).send({ code: 'rate-limited', message: err.message });
      if (err.name === 'SidechainError')
        return reply.code(404).send({ code: 'not-found', message: err.message });
      if (err instanceof TypeError && err.message.includes(':'))
        return reply.code(400).send({ code: 'bad-request', message: err.message });
      if (err.statusCode && err.statusCode < 500) {
        return reply.code(err.statusCode).send({ code: 'bad-request', message: err.message });
      }
      reply.log.error(err);
      return reply.code(500).send({ code: 'internal', message: HTTP_ERRORS.internal.message });
    },
  );
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'enginechain ingestion node',
        description:
          'Signed vehicle data anchored on the driving-data sidechain. Errors are JSON `{ code, message }` with a stable code (ingest/src/http/errors.ts).',
        version: '1.0.0',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'ec_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }, {}],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(cookie);
  await app.register(rateLimit, {
    global: true,
    max: deps.requestRateLimit ?? 1_200,
    timeWindow: '1 minute',
    // API tokens are limited per token, everything else per client address.
    keyGenerator: (req) => {
      const auth = req.headers.authorization;
      return auth?.startsWith('Bearer ') ? `token:${auth.slice(-16)}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: () => ({
      code: 'rate-limited',
      message: HTTP_ERRORS['rate-limited'].message,
      statusCode: 429,
    }),
  });
  await app.register(principalPlugin, { access: deps.access });
  await app.register(publicPlugin, deps);
  await app.register(enrolmentPlugin, deps);
  await app.register(keyRotationRoutes, {
    store: deps.store,
    ...(deps.enrolmentRateLimit !== undefined ? { rateLimit: deps.enrolmentRateLimit } : {}),
  });
  await app.register(authRoutes, {
    access: deps.access,
    ...(deps.loginRateLimit !== undefined ? { loginRateLimit: deps.loginRateLimit } : {}),
    ...(deps.secureCookies !== undefined ? { secureCookies: deps.secureCookies } : {}),
  });
  await app.register(grantRoutes, { access: deps.access });
  await app.register(vehicleRoutes, {
    access: deps.access,
    data: deps.vehicles,
    store: deps.store,
    sidechain: deps.sidechain,
  });
  for (const p of deps.plugins ?? []) await app.register(p.plugin, p.options as never);
  return app;
}
