import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Registry } from 'prom-client';
import type { Sidechain } from '../sidechain/sidechain.js';
import type { EnrolmentService } from './enrolment-service.js';
import { HTTP_ERRORS, HttpError, errorSchema } from './errors.js';

/** What the node tells a device at enrolment and anyone at GET /v1/node. */
export interface NodeInfo {
  readonly brokerUrl: string;
  readonly logOrigin: string;
  readonly checkpointVerifierKey: string;
  readonly receiptPublicKey: string;
}

export interface AppDependencies {
  readonly enrolment: EnrolmentService;
  readonly sidechain: Sidechain;
  readonly nodeInfo: NodeInfo;
  readonly metrics: Registry;
  /** Requests per minute per client on enrolment; low, as tokens are guessable only by force. */
  readonly enrolmentRateLimit?: number;
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

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
    await app.register(rateLimit, {
      max: deps.enrolmentRateLimit ?? 30,
      timeWindow: '1 minute',
      errorResponseBuilder: () => ({
        code: 'rate-limited',
        message: HTTP_ERRORS['rate-limited'].message,
        statusCode: 429,
      }),
    });
    app.post(
      '/v1/devices',
      {
        schema: {
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
      { schema: { response: { 200: nodeInfoSchema } } },
      async () => deps.nodeInfo,
    );

    app.get(
      '/v1/log/checkpoint',
      {
        schema: {
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
        return { treeSize: cp.treeSize, rootHash: b64(cp.root), note: cp.note };
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
        return { proof: (await deps.sidechain.inclusionProof(q.leaf, q.size)).map(b64) };
      },
    );
    app.get(
      '/v1/log/proof/consistency',
      {
        schema: {
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
        return { proof: (await deps.sidechain.consistencyProof(q.from, q.to)).map(b64) };
      },
    );

    app.get('/metrics', async (_req, reply) => {
      reply.type(deps.metrics.contentType);
      return deps.metrics.metrics();
    });
  },
  { name: 'enginechain-public' },
);

/** Builds the node's HTTP app; test it with `app.inject()`. The agent never imports this. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
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
      if (err.statusCode && err.statusCode < 500) {
        return reply.code(err.statusCode).send({ code: 'bad-request', message: err.message });
      }
      reply.log.error(err);
      return reply.code(500).send({ code: 'internal', message: 'internal error' });
    },
  );
  await app.register(publicPlugin, deps);
  await app.register(enrolmentPlugin, deps);
  return app;
}
