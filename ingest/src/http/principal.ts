import type {} from '@fastify/cookie';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ANONYMOUS, type AccessService, type Principal } from '../access/access-service.js';
import type { User } from '../access/access-store.js';
import { HttpError } from './errors.js';

export const SESSION_COOKIE = 'ec_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * Resolves who is asking before any route runs: a browser session cookie or an API token.
 * A token that is sent but unknown is an error, not anonymity: a program with a revoked
 * token should hear so rather than silently see only public data.
 */
export const principalPlugin = fp(
  async (app: FastifyInstance, deps: { access: AccessService }) => {
    // Decorated with a getter/setter pair (fastify refuses object values shared by requests);
    // the hook below sets it for every request.
    app.decorateRequest('principal', {
      getter(this: FastifyRequest & { _principal?: Principal }) {
        return this._principal ?? ANONYMOUS;
      },
      setter(this: FastifyRequest & { _principal?: Principal }, p: Principal) {
        this._principal = p;
      },
    });
    app.addHook('onRequest', async (req) => {
      req.principal = ANONYMOUS;
      const auth = req.headers.authorization;
      // Operator tokens (`ecop_`) are checked by the operator routes themselves.
      if (auth !== undefined && !auth.startsWith('Bearer ecop_')) {
        const m = /^Bearer (ect_[A-Za-z0-9_-]{20,100})$/.exec(auth);
        const p = m ? await deps.access.fromApiToken(m[1] as string) : undefined;
        if (!p)
          throw new HttpError('unauthenticated', 'the API token is unknown, expired or revoked');
        req.principal = p;
        return;
      }
      const session = req.cookies[SESSION_COOKIE];
      if (session) req.principal = (await deps.access.fromSession(session)) ?? ANONYMOUS;
    });
  },
  { name: 'enginechain-principal', dependencies: ['@fastify/cookie'] },
);

export function requireUser(req: FastifyRequest): User {
  if (req.principal.kind !== 'user') throw new HttpError('unauthenticated');
  return req.principal.user;
}

export function requireKind(req: FastifyRequest, kind: User['kind']): User {
  const user = requireUser(req);
  if (user.kind !== kind) throw new HttpError('forbidden', `only ${kind} users may do this`);
  return user;
}
