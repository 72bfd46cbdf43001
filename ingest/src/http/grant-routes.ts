import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { AccessService } from '../access/access-service.js';
import type { DataKind } from '../access/access-record.js';
import type { GrantRow } from '../access/access-store.js';
import { requireKind, requireUser } from './principal.js';
import { dataKindSchema, errorResponses, grantSchema } from './schemas.js';

export function grantView(access: AccessService, g: GrantRow) {
  return {
    id: g.id,
    vin: g.vin,
    owner: g.owner,
    business: g.business,
    kinds: [...g.kinds],
    from: g.from,
    to: g.to,
    expiresAt: g.expiresAt,
    createdAt: g.createdAt,
    revokedAt: g.revokedAt,
    status: access.grantStatus(g),
    leafIndex: g.leafIndex,
  };
}

/** Owners grant and revoke; business users list what they hold. Each change is logged. */
export const grantRoutes = fp(
  async (app: FastifyInstance, o: { access: AccessService }) => {
    app.get(
      '/v1/grants',
      {
        schema: {
          tags: ['grants'],
          summary: 'Grants you gave (owners) or hold (business users)',
          response: {
            200: {
              type: 'object',
              required: ['grants'],
              properties: { grants: { type: 'array', items: grantSchema } },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => ({
        grants: (await o.access.grantsOf(requireUser(req))).map((g) => grantView(o.access, g)),
      }),
    );

    app.post(
      '/v1/grants',
      {
        schema: {
          tags: ['grants'],
          summary: 'Grant a business user access to one of your vehicles',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['vin', 'business', 'kinds', 'from', 'to', 'expiresAt'],
            properties: {
              vin: { type: 'string', minLength: 17, maxLength: 17 },
              business: { type: 'string', minLength: 1, maxLength: 64 },
              kinds: { type: 'array', minItems: 1, maxItems: 4, items: dataKindSchema },
              from: { type: 'integer', minimum: 0 },
              to: { type: 'integer', minimum: 0 },
              expiresAt: { type: 'integer', minimum: 0 },
            },
          },
          response: { 201: grantSchema, ...errorResponses },
        },
      },
      async (req, reply) => {
        const owner = requireKind(req, 'registered');
        const body = req.body as {
          vin: string;
          business: string;
          kinds: DataKind[];
          from: number;
          to: number;
          expiresAt: number;
        };
        const g = await o.access.grant(owner, body);
        reply.code(201);
        return grantView(o.access, g);
      },
    );

    app.delete(
      '/v1/grants/:id',
      {
        schema: {
          tags: ['grants'],
          summary: 'Revoke a grant you gave',
          params: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'integer', minimum: 1 } },
          },
          response: { 200: grantSchema, ...errorResponses },
        },
      },
      async (req) => {
        const owner = requireKind(req, 'registered');
        const g = await o.access.revokeGrant(owner, (req.params as { id: number }).id);
        return grantView(o.access, g);
      },
    );
  },
  { name: 'enginechain-grant-routes' },
);
