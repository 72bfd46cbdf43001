import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { DeviceAdmin } from '../devices/device-admin.js';
import { DeviceAdminError } from '../devices/errors.js';
import type { OperatorTokenVerifier } from '../devices/operator-token.js';
import { deviceIdParams } from './schemas.js';

export interface OperatorRoutesOptions {
  readonly admin: DeviceAdmin;
  /** Checks the bearer token (the node's `<data>/operator.token`, kept as a hash). */
  readonly operatorToken: OperatorTokenVerifier;
  /** Device ids with a live session on the embedded broker, shown in the list. */
  readonly connectedDevices?: () => readonly string[];
}

const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

const deviceSchema = {
  type: 'object',
  required: [
    'deviceId',
    'vin',
    'status',
    'registeredAt',
    'registrationLeaf',
    'nextSeq',
    'connected',
  ],
  properties: {
    deviceId: { type: 'string' },
    vin: { type: 'string' },
    owner: { type: 'string' },
    status: { type: 'string', enum: ['active', 'revoked'] },
    registeredAt: { type: 'integer', description: 'Unix ms' },
    registrationLeaf: { type: 'integer' },
    nextSeq: { type: 'integer' },
    connected: { type: 'boolean', description: 'has a live session on the embedded broker' },
  },
} as const;

const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

function bearer(req: FastifyRequest): string | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,200})$/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function sendError(reply: FastifyReply, err: DeviceAdminError): FastifyReply {
  if (err.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="operator"');
  return reply.code(err.statusCode).send({ code: err.code, message: err.message });
}

/**
 * The node operator's routes: list devices, revoke one. Encapsulated: its bearer-token check
 * and its error table (DEVICE_ADMIN_ERRORS) apply to these routes only. Only the node's
 * operator holds the token; it is not a user of the dashboard.
 */
export const operatorRoutes = fp(
  async (app: FastifyInstance, deps: OperatorRoutesOptions) => {
    app.setErrorHandler(
      (err: Error & { validation?: unknown; statusCode?: number; code?: unknown }, req, reply) => {
        if (err instanceof DeviceAdminError) return sendError(reply, err);
        if (err.validation) return sendError(reply, new DeviceAdminError('bad-input', err.message));
        // Refusals from the app's own hooks (rate limit, a principal check) keep their answer.
        if (err.statusCode && err.statusCode < 500 && typeof err.code === 'string')
          return reply.code(err.statusCode).send({ code: err.code, message: err.message });
        req.log.error(err);
        return reply.code(500).send({ code: 'internal', message: 'internal error' });
      },
    );
    app.addHook('onRequest', async (req) => {
      const token = bearer(req);
      if (token === undefined || !deps.operatorToken.verify(token))
        throw new DeviceAdminError('unauthorized');
    });

    app.get(
      '/v1/operator/devices',
      {
        schema: {
          summary: 'Every registered device, for the node operator',
          tags: ['operator'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { status: { type: 'string', enum: ['active', 'revoked'] } },
          },
          response: {
            200: {
              type: 'object',
              required: ['devices'],
              properties: { devices: { type: 'array', items: deviceSchema } },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { status } = req.query as { status?: 'active' | 'revoked' };
        const live = new Set(deps.connectedDevices?.() ?? []);
        const devices = await deps.admin.list(status ? { status } : {});
        return { devices: devices.map((d) => ({ ...d, connected: live.has(d.deviceId) })) };
      },
    );

    app.post(
      '/v1/operator/devices/:deviceId/revoke',
      {
        schema: {
          summary: 'Revoke a device: logged, its session closed, its batches refused from now on',
          tags: ['operator'],
          params: deviceIdParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['reason'],
            properties: {
              reason: {
                type: 'string',
                minLength: 1,
                maxLength: 200,
                description: 'public: it goes into the log',
              },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['deviceId', 'revokedAt', 'reason', 'leafIndex', 'sessionsClosed'],
              properties: {
                deviceId: { type: 'string' },
                revokedAt: { type: 'integer', description: 'Unix ms' },
                reason: { type: 'string' },
                leafIndex: { type: 'integer' },
                sessionsClosed: { type: 'integer' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { deviceId } = req.params as { deviceId: string };
        const { reason } = req.body as { reason: string };
        req.log.info({ deviceId, reason }, 'operator revokes device');
        return deps.admin.revoke(deviceId, reason);
      },
    );
  },
  { name: 'enginechain-operator', fastify: '5.x', encapsulate: true },
);
