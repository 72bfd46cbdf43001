import type pg from 'pg';
import { leafHash } from '@enginechain/shared';
import type {
  AccessRecordRow,
  AccessStore,
  ApiTokenRow,
  GrantRow,
  User,
  UserKind,
} from '../access/access-store.js';
import { query } from './postgres-query.js';
import type { LogAppender } from './postgres-store.js';
import {
  GRANT_SELECT,
  buf,
  toAccessRecord,
  toApiToken,
  toGrant,
  toUser,
  type Row,
} from './rows.js';

/**
 * The access store in the node's PostgreSQL database. Usernames and owners compare without
 * case, as SQLite's COLLATE NOCASE columns do. An access record and its leaf are written in
 * one of the ingest store's log transactions (`logTransaction`).
 */
export class PostgresAccessStore implements AccessStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly logTransaction: <T>(
      work: (c: pg.PoolClient, log: LogAppender) => Promise<T>,
    ) => Promise<T>,
  ) {}

  async createUser(u: {
    username: string;
    kind: UserKind;
    displayName: string;
    passwordHash: string;
    now: number;
  }): Promise<User | 'exists'> {
    const r = await query(
      this.pool,
      `INSERT INTO users (username, kind, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ((lower(username))) DO NOTHING RETURNING *`,
      [u.username, u.kind, u.displayName, u.passwordHash, u.now],
    );
    const row = r.rows[0];
    return row ? toUser(row) : 'exists';
  }

  async userById(id: number): Promise<User | undefined> {
    const r = (
      await query(this.pool, 'SELECT * FROM users WHERE id = $1 AND disabled_at IS NULL', [id])
    ).rows[0];
    return r ? toUser(r) : undefined;
  }

  async userByName(username: string): Promise<(User & { passwordHash: string }) | undefined> {
    const r = (
      await query(this.pool, 'SELECT * FROM users WHERE lower(username) = lower($1) AND disabled_at IS NULL', [username])
    ).rows[0]; // prettier-ignore
    return r ? { ...toUser(r), passwordHash: String(r.password_hash) } : undefined;
  }

  async listUsers(kind?: UserKind): Promise<User[]> {
    const rows = kind
      ? (await query(this.pool, 'SELECT * FROM users WHERE kind = $1 AND disabled_at IS NULL ORDER BY lower(username), id', [kind])).rows
      : (await query(this.pool, 'SELECT * FROM users WHERE disabled_at IS NULL ORDER BY lower(username), id')).rows; // prettier-ignore
    return rows.map(toUser);
  }

  async addSession(
    tokenHash: Uint8Array,
    userId: number,
    now: number,
    expiresAt: number,
  ): Promise<void> {
    await query(
      this.pool,
      `WITH expired AS (DELETE FROM sessions WHERE expires_at <= $3)
       INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
      [buf(tokenHash), userId, now, expiresAt],
    );
  }

  async sessionUser(tokenHash: Uint8Array, now: number): Promise<User | undefined> {
    const r = (
      await query(
        this.pool,
        `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`,
        [buf(tokenHash), now],
      )
    ).rows[0];
    return r ? toUser(r) : undefined;
  }

  async deleteSession(tokenHash: Uint8Array): Promise<void> {
    await query(this.pool, 'DELETE FROM sessions WHERE token_hash = $1', [buf(tokenHash)]);
  }

  async addApiToken(t: {
    tokenHash: Uint8Array;
    userId: number;
    name: string;
    now: number;
    expiresAt: number;
  }): Promise<number> {
    const r = await query(
      this.pool,
      'INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [buf(t.tokenHash), t.userId, t.name, t.now, t.expiresAt],
    );
    return Number((r.rows[0] as Row).id);
  }

  async apiTokenUser(
    tokenHash: Uint8Array,
    now: number,
  ): Promise<{ user: User; tokenId: number } | undefined> {
    // Finds the token and records its use in one statement.
    const r = (
      await query(
        this.pool,
        `WITH used AS (
           UPDATE api_tokens SET last_used_at = $2
           WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2
             AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL)
           RETURNING id AS token_id, user_id)
         SELECT u.*, used.token_id FROM used JOIN users u ON u.id = used.user_id`,
        [buf(tokenHash), now],
      )
    ).rows[0];
    return r ? { user: toUser(r), tokenId: Number(r.token_id) } : undefined;
  }

  async apiTokens(userId: number): Promise<ApiTokenRow[]> {
    const rows = (
      await query(this.pool, 'SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY id', [userId])
    ).rows;
    return rows.map(toApiToken);
  }

  async revokeApiToken(userId: number, id: number, now: number): Promise<boolean> {
    const r = await query(
      this.pool,
      'UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL',
      [now, id, userId],
    );
    return r.rowCount === 1;
  }

  async appendAccessRecord(
    args: Parameters<AccessStore['appendAccessRecord']>[0],
  ): Promise<{ leafIndex: number; grantId: number } | 'already-revoked'> {
    return this.logTransaction(async (c, log) => {
      const e = args.effect;
      let grantId: number;
      if (e.kind === 'grant') {
        const g = e.grant;
        const r = await query(
          c,
          `INSERT INTO grants (owner_id, business_id, vin, kinds, from_time, to_time, expires_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [g.ownerId, g.businessId, g.vin, JSON.stringify(g.kinds), g.from, g.to, g.expiresAt, g.now],
        ); // prettier-ignore
        grantId = Number((r.rows[0] as Row).id);
      } else {
        grantId = e.grantId;
        if (
          e.kind === 'grant-revoked' &&
          (
            await query(c, 'UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [e.now, grantId])
          ).rowCount !== 1
        )
          return 'already-revoked' as const; // prettier-ignore
      }
      const leafIndex = await log.append(args.logEntry, leafHash(args.logEntry));
      await query(
        c,
        `INSERT INTO access_records (kind, vin, user_id, grant_id, at, record, record_hash, leaf_index)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [e.kind, args.vin, args.userId, grantId, args.at, buf(args.record), buf(args.recordHash), leafIndex],
      ); // prettier-ignore
      return { leafIndex, grantId };
    });
  }

  async grantById(id: number): Promise<GrantRow | undefined> {
    const r = (await query(this.pool, `${GRANT_SELECT} WHERE g.id = $1`, [id])).rows[0];
    return r ? toGrant(r) : undefined;
  }

  async grantsOfOwner(ownerId: number): Promise<GrantRow[]> {
    return (
      await query(this.pool, `${GRANT_SELECT} WHERE g.owner_id = $1 ORDER BY g.id`, [ownerId])
    ).rows.map(toGrant);
  }

  async grantsOfBusiness(businessId: number): Promise<GrantRow[]> {
    return (
      await query(this.pool, `${GRANT_SELECT} WHERE g.business_id = $1 ORDER BY g.id`, [businessId])
    ).rows.map(toGrant); // prettier-ignore
  }

  async accessRecords(vin: string): Promise<AccessRecordRow[]> {
    const rows = (
      await query(
        this.pool,
        `SELECT a.*, u.username FROM access_records a JOIN users u ON u.id = a.user_id
         WHERE a.vin = $1 ORDER BY a.id`,
        [vin],
      )
    ).rows;
    return rows.map(toAccessRecord);
  }

  async ownedVins(username: string): Promise<string[]> {
    const rows = (
      await query(this.pool, 'SELECT DISTINCT vin FROM devices WHERE lower(owner) = lower($1) ORDER BY vin', [username])
    ).rows; // prettier-ignore
    return rows.map((r) => String(r.vin));
  }

  async isOwner(username: string, vin: string): Promise<boolean> {
    const r = await query(
      this.pool,
      'SELECT 1 FROM devices WHERE vin = $1 AND lower(owner) = lower($2) LIMIT 1',
      [vin, username],
    );
    return (r.rowCount ?? 0) > 0;
  }
}
