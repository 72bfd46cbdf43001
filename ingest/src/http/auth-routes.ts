import type {} from '@fastify/cookie';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { AccessService } from '../access/access-service.js';
import { SESSION_TTL_MS } from '../access/access-service.js';
import { SESSION_COOKIE, requireKind, requireUser } from './principal.js';
import { errorResponses, userSchema } from './schemas.js';

export interface AuthRouteOptions {
  readonly access: AccessService;
  /** Login attempts per minute per client address and username. */
  readonly loginRateLimit?: number;
  /** Send the session cookie only over HTTPS (on whenever the node is not on loopback). */
  readonly secureCookies?: boolean;
}

const tokenSchema = {
  type: 'object',
  required: ['id', 'name', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    createdAt: { type: 'integer' },
    expiresAt: { type: 'integer' },
    revokedAt: { type: ['integer', 'null'] },
    lastUsedAt: { type: ['integer', 'null'] },
  },
} as const;

/** Sessions for the browser, API tokens for programs, and who-am-I. */
export const authRoutes = fp(
  async (app: FastifyInstance, o: AuthRouteOptions) => {
    app.post(
      '/v1/session',
      {
        config: {
          rateLimit: {
            max: o.loginRateLimit ?? 10,
            timeWindow: '1 minute',
            // After parsing, so the key can include the username being tried.
            hook: 'preHandler',
            keyGenerator: (req) =>
              `login:${req.ip}:${String((req.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
          },
        },
        schema: {
          tags: ['auth'],
          summary: 'Log in (browser): sets the ec_session cookie',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['username', 'password'],
            properties: {
              username: { type: 'string', minLength: 1, maxLength: 64 },
              password: { type: 'string', minLength: 1, maxLength: 1024 },
            },
          },
          response: {
            200: { type: 'object', required: ['user'], properties: { user: userSchema } },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const body = req.body as { username: string; password: string };
        const { user, session } = await o.access.login(body.username, body.password);
        reply.setCookie(SESSION_COOKIE, session, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: o.secureCookies ?? false,
          maxAge: SESSION_TTL_MS / 1_000,
        });
        return { user };
      },
    );

    app.delete(
      '/v1/session',
      { schema: { tags: ['auth'], summary: 'Log out', response: { 204: { type: 'null' } } } },
      async (req, reply) => {
        const session = req.cookies[SESSION_COOKIE];
        if (session) await o.access.logout(session);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        reply.code(204);
        return null;
      },
    );

    app.get(
      '/v1/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'The logged-in user',
          response: {
            200: { type: 'object', required: ['user'], properties: { user: userSchema } },
            ...errorResponses,
          },
        },
      },
      async (req) => ({ user: requireUser(req) }),
    );

    app.post(
      '/v1/tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'Create an API token (shown once)',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 100 },
              expiresInDays: { type: 'integer', minimum: 1, maximum: 366, default: 90 },
            },
          },
          response: {
            201: {
              type: 'object',
              required: ['id', 'token', 'expiresAt'],
              properties: {
                id: { type: 'integer' },
                token: { type: 'string' },
                expiresAt: { type: 'integer' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const user = requireUser(req);
        const body = req.body as { name: string; expiresInDays: number };
        reply.code(201);
        return o.access.createApiToken(user, body.name, body.expiresInDays);
      },
    );

    app.get(
      '/v1/tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'Your API tokens (never the secrets)',
          response: {
            200: {
              type: 'object',
              required: ['tokens'],
              properties: { tokens: { type: 'array', items: tokenSchema } },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => ({ tokens: await o.access.apiTokens(requireUser(req)) }),
    );

    app.delete(
      '/v1/tokens/:id',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke one of your API tokens',
          params: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'integer', minimum: 1 } },
          },
          response: { 204: { type: 'null' }, ...errorResponses },
        },
      },
      async (req, reply) => {
        await o.access.revokeApiToken(requireUser(req), (req.params as { id: number }).id);
        reply.code(204);
        return null;
      },
    );

    app.get(
      '/v1/users',
      {
        schema: {
          tags: ['grants'],
          summary: 'Business users an owner can grant access to',
          querystring: {
            type: 'object',
            properties: { kind: { type: 'string', enum: ['business'], default: 'business' } },
          },
          response: {
            200: {
              type: 'object',
              required: ['users'],
              properties: {
                users: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['username', 'displayName'],
                    properties: { username: { type: 'string' }, displayName: { type: 'string' } },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (req) => {
        requireKind(req, 'registered');
        return {
          users: (await o.access.users('business')).map((u) => ({
            username: u.username,
            displayName: u.displayName,
          })),
        };
      },
    );
  },
  { name: 'enginechain-auth-routes' },
);
