import { createHash, randomBytes } from 'node:crypto';
import { decodeVin, encodeLogEntry } from '@enginechain/shared';
import { HttpError } from '../http/errors.js';
import { DATA_KINDS, sealAccessRecord, type AccessRecord, type DataKind } from './access-record.js';
import { hashPassword, verifyPassword } from './password.js';
import type {
  AccessRecordEffect,
  AccessRecordRow,
  AccessStore,
  ApiTokenRow,
  GrantRow,
  User,
  UserKind,
} from './access-store.js';

/** Who is asking: nobody in particular, or a user by browser session or API token. */
export type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly user: User; readonly via: 'session' | 'token' };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export type GrantStatus = 'active' | 'expired' | 'revoked';

/** What one principal may see of one vehicle for one kind of data. */
export interface VehicleScope {
  readonly relation: 'owner' | 'grantee';
  /** Time ranges (ms, inclusive) the data must fall in; owners see everything. */
  readonly ranges: readonly (readonly [number, number])[];
  /** The grants this access rests on (grantees only). */
  readonly grants: readonly GrantRow[];
}

export const SESSION_TTL_MS = 12 * 3_600_000;
const MAX_TOKEN_DAYS = 366;

const tokenHash = (token: string) =>
  new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
const newToken = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/**
 * The white paper's three kinds of user (docs/api.md): anonymous sees public chain data;
 * registered users (owners, drivers) see their own vehicles and grant business users access
 * per VIN, data kind and time range; business users see only what an active grant covers.
 * Every grant, revocation and business access becomes a hash entry on the log.
 */
export class AccessService {
  /** Spent on unknown usernames too, so timing does not tell which accounts exist. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly store: AccessStore,
    private readonly now: () => number = Date.now,
  ) {}

  async createUser(u: {
    username: string;
    kind: UserKind;
    displayName?: string;
    password: string;
  }): Promise<User> {
    const username = u.username.trim();
    if (!/^[A-Za-z0-9._@+-]{3,64}$/.test(username))
      throw new TypeError('username: 3–64 letters, digits or . _ @ + -');
    if (u.kind !== 'registered' && u.kind !== 'business')
      throw new TypeError('kind: registered or business');
    const passwordHash = await hashPassword(u.password);
    const created = await this.store.createUser({
      username,
      kind: u.kind,
      displayName: u.displayName?.trim() || username,
      passwordHash,
      now: this.now(),
    });
    if (created === 'exists') throw new HttpError('conflict', `user ${username} already exists`);
    return created;
  }

  async login(
    username: string,
    password: string,
  ): Promise<{ user: User; session: string; expiresAt: number }> {
    const found = await this.store.userByName(username);
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const ok = await verifyPassword(password, found?.passwordHash ?? (await this.dummyHash));
    if (!found || !ok) throw new HttpError('bad-credentials');
    const session = newToken('ecs_');
    const now = this.now();
    const expiresAt = now + SESSION_TTL_MS;
    await this.store.addSession(tokenHash(session), found.id, now, expiresAt);
    const { passwordHash: _, ...user } = found;
    return { user, session, expiresAt };
  }

  async logout(session: string): Promise<void> {
    await this.store.deleteSession(tokenHash(session));
  }

  async fromSession(session: string): Promise<Principal | undefined> {
    const user = await this.store.sessionUser(tokenHash(session), this.now());
    return user ? { kind: 'user', user, via: 'session' } : undefined;
  }

  async fromApiToken(token: string): Promise<Principal | undefined> {
    const found = await this.store.apiTokenUser(tokenHash(token), this.now());
    return found ? { kind: 'user', user: found.user, via: 'token' } : undefined;
  }

  async createApiToken(
    user: User,
    name: string,
    days: number,
  ): Promise<{ id: number; token: string; expiresAt: number }> {
    if (!(Number.isInteger(days) && days >= 1 && days <= MAX_TOKEN_DAYS))
      throw new HttpError('bad-request', `expiresInDays: 1 to ${MAX_TOKEN_DAYS}`);
    const token = newToken('ect_');
    const now = this.now();
    const expiresAt = now + days * 86_400_000;
    const id = await this.store.addApiToken({
      tokenHash: tokenHash(token),
      userId: user.id,
      name,
      now,
      expiresAt,
    });
    return { id, token, expiresAt };
  }

  apiTokens(user: User): Promise<ApiTokenRow[]> {
    return this.store.apiTokens(user.id);
  }

  async revokeApiToken(user: User, id: number): Promise<void> {
    if (!(await this.store.revokeApiToken(user.id, id, this.now())))
      throw new HttpError('not-found', `no active API token ${id}`);
  }

  users(kind?: UserKind): Promise<User[]> {
    return this.store.listUsers(kind);
  }

  // Vehicles and grants

  /** VINs this principal can see at all, with how. */
  async visibleVehicles(
    p: Principal,
  ): Promise<{ vin: string; relation: 'owner' | 'grantee'; kinds: DataKind[] }[]> {
    if (p.kind !== 'user') return [];
    if (p.user.kind === 'registered')
      return (await this.store.ownedVins(p.user.username)).map((vin) => ({
        vin,
        relation: 'owner' as const,
        kinds: [...DATA_KINDS],
      }));
    const byVin = new Map<string, Set<DataKind>>();
    for (const g of await this.store.grantsOfBusiness(p.user.id)) {
      if (this.grantStatus(g) !== 'active') continue;
      const kinds = byVin.get(g.vin) ?? new Set<DataKind>();
      for (const k of g.kinds) kinds.add(k);
      byVin.set(g.vin, kinds);
    }
    return [...byVin].map(([vin, kinds]) => ({
      vin,
      relation: 'grantee' as const,
      kinds: DATA_KINDS.filter((k) => kinds.has(k)),
    }));
  }

  async relationTo(p: Principal, vin: string): Promise<'owner' | 'grantee' | undefined> {
    return (await this.visibleVehicles(p)).find((v) => v.vin === vin)?.relation;
  }

  /** What `p` may see of `vin`'s `kind` data now; undefined when nothing. */
  async scope(p: Principal, vin: string, kind: DataKind): Promise<VehicleScope | undefined> {
    if (p.kind !== 'user') return undefined;
    if (p.user.kind === 'registered') {
      return (await this.store.isOwner(p.user.username, vin))
        ? { relation: 'owner', ranges: [[0, Number.MAX_SAFE_INTEGER]], grants: [] }
        : undefined;
    }
    const grants = (await this.store.grantsOfBusiness(p.user.id)).filter(
      (g) => g.vin === vin && g.kinds.includes(kind) && this.grantStatus(g) === 'active',
    );
    if (grants.length === 0) return undefined;
    return { relation: 'grantee', ranges: grants.map((g) => [g.from, g.to] as const), grants };
  }

  grantStatus(g: GrantRow): GrantStatus {
    if (g.revokedAt !== null) return 'revoked';
    return g.expiresAt <= this.now() ? 'expired' : 'active';
  }

  grantsOf(user: User): Promise<GrantRow[]> {
    return user.kind === 'registered'
      ? this.store.grantsOfOwner(user.id)
      : this.store.grantsOfBusiness(user.id);
  }

  async grant(
    owner: User,
    req: {
      vin: string;
      business: string;
      kinds: readonly DataKind[];
      from: number;
      to: number;
      expiresAt: number;
    },
  ): Promise<GrantRow> {
    const vin = await this.checkOwner(owner, req.vin);
    const business = await this.store.userByName(req.business);
    if (!business || business.kind !== 'business')
      throw new HttpError('not-found', `no business user ${req.business}`);
    const kinds = [...new Set(req.kinds)].sort() as DataKind[];
    if (kinds.length === 0 || kinds.some((k) => !DATA_KINDS.includes(k)))
      throw new HttpError('bad-request', `kinds: one or more of ${DATA_KINDS.join(', ')}`);
    const now = this.now();
    if (!(req.from <= req.to)) throw new HttpError('bad-request', 'from must not be after to');
    if (!(req.expiresAt > now))
      throw new HttpError('bad-request', 'expiresAt must be in the future');
    const record: AccessRecord = {
      kind: 'grant',
      vin,
      owner: owner.username,
      business: business.username,
      kinds,
      from: req.from,
      to: req.to,
      expiresAt: req.expiresAt,
      at: now,
    };
    const written = await this.appendRecord(record, owner.id, {
      kind: 'grant',
      grant: {
        ownerId: owner.id,
        businessId: business.id,
        vin,
        kinds,
        from: req.from,
        to: req.to,
        expiresAt: req.expiresAt,
        now,
      },
    });
    return (await this.store.grantById(written.grantId)) as GrantRow;
  }

  async revokeGrant(owner: User, id: number): Promise<GrantRow> {
    const g = await this.store.grantById(id);
    if (!g || g.ownerId !== owner.id) throw new HttpError('not-found', `no grant ${id} of yours`);
    if (g.revokedAt !== null) throw new HttpError('conflict', `grant ${id} is already revoked`);
    const now = this.now();
    await this.appendRecord(
      {
        kind: 'grant-revoked',
        vin: g.vin,
        owner: g.owner,
        business: g.business,
        grant: g.recordHash,
        at: now,
      },
      owner.id,
      { kind: 'grant-revoked', grantId: id, now },
    );
    return (await this.store.grantById(id)) as GrantRow;
  }

  /**
   * Logs a business user's access before the data goes out: if the log cannot record it, the
   * data does not leave. Owners reading their own data are not logged.
   */
  async recordAccess(
    p: Principal,
    scope: VehicleScope,
    a: { vin: string; dataKind: DataKind; request: string; from: number; to: number },
  ): Promise<void> {
    if (p.kind !== 'user' || scope.relation !== 'grantee') return;
    const grant = scope.grants[0] as GrantRow;
    await this.appendRecord(
      {
        kind: 'access',
        vin: a.vin,
        business: p.user.username,
        grant: grant.recordHash,
        dataKind: a.dataKind,
        request: a.request,
        from: Math.max(0, Math.min(a.from, Number.MAX_SAFE_INTEGER)),
        to: Math.max(0, Math.min(a.to, Number.MAX_SAFE_INTEGER)),
        at: this.now(),
      },
      p.user.id,
      { kind: 'access', grantId: grant.id },
    );
  }

  async accessLog(owner: User, vin: string): Promise<AccessRecordRow[]> {
    await this.checkOwner(owner, vin);
    return this.store.accessRecords(vin);
  }

  private async checkOwner(owner: User, vin: string): Promise<string> {
    let canonical: string;
    try {
      canonical = decodeVin(vin).vin;
    } catch (err) {
      throw new HttpError('bad-request', (err as Error).message);
    }
    if (owner.kind !== 'registered' || !(await this.store.isOwner(owner.username, canonical)))
      throw new HttpError('forbidden', `you are not the owner of ${canonical}`);
    return canonical;
  }

  private async appendRecord(
    record: AccessRecord,
    userId: number,
    effect: AccessRecordEffect,
  ): Promise<{ leafIndex: number; grantId: number }> {
    const sealed = sealAccessRecord(record);
    const entry = encodeLogEntry({ type: 'access', recordHash: sealed.hash, at: record.at });
    const written = await this.store.appendAccessRecord({
      effect,
      vin: record.vin,
      userId,
      at: record.at,
      record: sealed.bytes,
      recordHash: sealed.hash,
      logEntry: entry,
    });
    // Another request revoked the grant between the check and the transaction.
    if (written === 'already-revoked')
      throw new HttpError('conflict', 'the grant is already revoked');
    return written;
  }
}
