import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { KeyRotationService } from '../devices/key-rotation.js';
import type { IngestStore } from '../storage/ingest-store.js';
import { errorSchema } from './errors.js';
import { deviceIdParams } from './schemas.js';

export interface KeyRotationRouteOptions {
  readonly store: IngestStore;
  /** Requests per minute per client; low, like enrolment. */
  readonly rateLimit?: number;
}

/**
 * POST /v1/devices/:deviceId/key-rotations (docs/protocol.md, key rotation). No session or
 * token: the request authenticates itself, signed by the device's current key.
 */
export const keyRotationRoutes = fp(
  async (app: FastifyInstance, o: KeyRotationRouteOptions) => {
    const rotation = new KeyRotationService(o.store);
    app.post(
      '/v1/devices/:deviceId/key-rotations',
      {
        config: { rateLimit: { max: o.rateLimit ?? 30, timeWindow: '1 minute' } },
        schema: {
          tags: ['devices'],
          summary: "Rotate a device's signing key (signed by the current key and the new one)",
          params: deviceIdParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['request'],
            properties: {
              request: {
                type: 'string',
                description:
                  'base64 of CBOR [context, deviceId, newPublicKey, fromSeq, timeMs, nonce] ‖ ES256K by the current key ‖ ES256K by the new key',
                maxLength: 500,
              },
            },
          },
          response: {
            201: {
              type: 'object',
              required: ['deviceId', 'fromSeq', 'rotatedAt', 'leafIndex'],
              properties: {
                deviceId: { type: 'string' },
                fromSeq: { type: 'integer' },
                rotatedAt: { type: 'integer' },
                leafIndex: { type: 'integer' },
              },
            },
            '4xx': errorSchema,
          },
        },
      },
      async (req, reply) => {
        const { deviceId } = req.params as { deviceId: string };
        const { request } = req.body as { request: string };
        const result = await rotation.rotate(
          deviceId,
          new Uint8Array(Buffer.from(request, 'base64')),
        );
        reply.code(201);
        return result;
      },
    );
  },
  { name: 'enginechain-key-rotation' },
);
