/**
 * Users, sessions, API tokens, grants and access records, in the node's database file (schema 2,
 * ../storage/migrations.ts). Records whose hash goes on the log are written inside the log's
 * own transaction (`IngestStore.appendLogEntry`'s `alongside`), so neither exists without the
 * other. Only hashes of session and API tokens are stored.
 */
import type Database from 'better-sqlite3';
import type { DataKind } from './access-record.js';

export type UserKind = 'registered' | 'business';

export interface User {
  readonly id: number;
  readonly username: string;
  readonly kind: UserKind;
  readonly displayName: string;
  readonly createdAt: number;
}

export interface GrantRow {
  readonly id: number;
  readonly ownerId: number;
  readonly owner: string;
  readonly businessId: number;
  readonly business: string;
  readonly vin: string;
  readonly kinds: readonly DataKind[];
  readonly from: number;
  readonly to: number;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** Leaf of the grant's access record. */
  readonly leafIndex: number;
  readonly recordHash: Uint8Array;
}

export interface AccessRecordRow {
  readonly id: number;
  readonly kind: 'grant' | 'grant-revoked' | 'access';
  readonly vin: string;
  readonly userId: number;
  readonly username: string;
  readonly grantId: number | null;
  readonly at: number;
  readonly record: Uint8Array;
  readonly recordHash: Uint8Array;
  readonly leafIndex: number;
}

export interface ApiTokenRow {
  readonly id: number;
  readonly name: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

type Row = Record<string, unknown>;
const u8 = (b: unknown): Uint8Array => new Uint8Array(b as Buffer);
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const userOf = (r: Row): User => ({
  id: Number(r.id),
  username: String(r.username),
  kind: r.kind as UserKind,
  displayName: String(r.display_name),
  createdAt: Number(r.created_at),
});

const GRANT_SELECT = `
  SELECT g.*, o.username AS owner, b.username AS business, a.leaf_index, a.record_hash
  FROM grants g
  JOIN users o ON o.id = g.owner_id
  JOIN users b ON b.id = g.business_id
  JOIN access_records a ON a.grant_id = g.id AND a.kind = 'grant'`;

const grantOf = (r: Row): GrantRow => ({
  id: Number(r.id),
  ownerId: Number(r.owner_id),
  owner: String(r.owner),
  businessId: Number(r.business_id),
  business: String(r.business),
  vin: String(r.vin),
  kinds: JSON.parse(String(r.kinds)) as DataKind[],
  from: Number(r.from_time),
  to: Number(r.to_time),
  expiresAt: Number(r.expires_at),
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  leafIndex: Number(r.leaf_index),
  recordHash: u8(r.record_hash),
});

export class SqliteAccessStore {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  // Users

  createUser(u: {
    username: string;
    kind: UserKind;
    displayName: string;
    passwordHash: string;
    now: number;
  }): User | 'exists' {
    const existing = this.st('SELECT id FROM users WHERE username = ?').get(u.username);
    if (existing) return 'exists';
    const r = this.st(
      'INSERT INTO users (username, kind, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(u.username, u.kind, u.displayName, u.passwordHash, u.now);
    return this.userById(Number(r.lastInsertRowid)) as User;
  }

  setPassword(userId: number, passwordHash: string): void {
    this.st('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, userId);
  }

  userById(id: number): User | undefined {
    const r = this.st('SELECT * FROM users WHERE id = ? AND disabled_at IS NULL').get(id) as
      Row | undefined;
    return r ? userOf(r) : undefined;
  }

  userByName(username: string): (User & { passwordHash: string }) | undefined {
    const r = this.st('SELECT * FROM users WHERE username = ? AND disabled_at IS NULL').get(
      username,
    ) as Row | undefined;
    return r ? { ...userOf(r), passwordHash: String(r.password_hash) } : undefined;
  }

  listUsers(kind?: UserKind): User[] {
    const rows = (
      kind
        ? this.st(
            'SELECT * FROM users WHERE kind = ? AND disabled_at IS NULL ORDER BY username',
          ).all(kind)
        : this.st('SELECT * FROM users WHERE disabled_at IS NULL ORDER BY username').all()
    ) as Row[];
    return rows.map(userOf);
  }

  // Sessions

  addSession(tokenHash: Uint8Array, userId: number, now: number, expiresAt: number): void {
    this.st('DELETE FROM sessions WHERE expires_at <= ?').run(now);
    this.st(
      'INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ).run(buf(tokenHash), userId, now, expiresAt);
  }

  sessionUser(tokenHash: Uint8Array, now: number): User | undefined {
    const r = this.st('SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?').get(
      buf(tokenHash),
      now,
    ) as Row | undefined;
    return r ? this.userById(Number(r.user_id)) : undefined;
  }

  deleteSession(tokenHash: Uint8Array): void {
    this.st('DELETE FROM sessions WHERE token_hash = ?').run(buf(tokenHash));
  }

  // API tokens

  addApiToken(t: {
    tokenHash: Uint8Array;
    userId: number;
    name: string;
    now: number;
    expiresAt: number;
  }): number {
    const r = this.st(
      'INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).run(buf(t.tokenHash), t.userId, t.name, t.now, t.expiresAt);
    return Number(r.lastInsertRowid);
  }

  apiTokenUser(tokenHash: Uint8Array, now: number): { user: User; tokenId: number } | undefined {
    const r = this.st(
      'SELECT id, user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?',
    ).get(buf(tokenHash), now) as Row | undefined;
    if (!r) return undefined;
    const user = this.userById(Number(r.user_id));
    if (!user) return undefined;
    this.st('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, r.id);
    return { user, tokenId: Number(r.id) };
  }

  apiTokens(userId: number): ApiTokenRow[] {
    return (
      this.st('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id').all(userId) as Row[]
    ).map((r) => ({
      id: Number(r.id),
      name: String(r.name),
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    }));
  }

  revokeApiToken(userId: number, id: number, now: number): boolean {
    return (
      this.st(
        'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
      ).run(now, id, userId).changes === 1
    );
  }

  // Grants and access records (call inside the log append's transaction)

  insertGrant(g: {
    ownerId: number;
    businessId: number;
    vin: string;
    kinds: readonly DataKind[];
    from: number;
    to: number;
    expiresAt: number;
    now: number;
  }): number {
    const r = this.st(
      `INSERT INTO grants (owner_id, business_id, vin, kinds, from_time, to_time, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      g.ownerId,
      g.businessId,
      g.vin,
      JSON.stringify(g.kinds),
      g.from,
      g.to,
      g.expiresAt,
      g.now,
    );
    return Number(r.lastInsertRowid);
  }

  markGrantRevoked(id: number, now: number): boolean {
    return (
      this.st('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id)
        .changes === 1
    );
  }

  insertAccessRecord(r: {
    kind: AccessRecordRow['kind'];
    vin: string;
    userId: number;
    grantId: number | null;
    at: number;
    record: Uint8Array;
    recordHash: Uint8Array;
    leafIndex: number;
  }): void {
    this.st(
      `INSERT INTO access_records (kind, vin, user_id, grant_id, at, record, record_hash, leaf_index)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.kind, r.vin, r.userId, r.grantId, r.at, buf(r.record), buf(r.recordHash), r.leafIndex);
  }

  grantById(id: number): GrantRow | undefined {
    const r = this.st(`${GRANT_SELECT} WHERE g.id = ?`).get(id) as Row | undefined;
    return r ? grantOf(r) : undefined;
  }

  grantsOfOwner(ownerId: number): GrantRow[] {
    return (
      this.st(`${GRANT_SELECT} WHERE g.owner_id = ? ORDER BY g.id`).all(ownerId) as Row[]
    ).map(grantOf);
  }

  grantsOfBusiness(businessId: number): GrantRow[] {
    return (
      this.st(`${GRANT_SELECT} WHERE g.business_id = ? ORDER BY g.id`).all(businessId) as Row[]
    ).map(grantOf);
  }

  grantsForVin(vin: string): GrantRow[] {
    return (this.st(`${GRANT_SELECT} WHERE g.vin = ? ORDER BY g.id`).all(vin) as Row[]).map(
      grantOf,
    );
  }

  accessRecords(vin: string): AccessRecordRow[] {
    return (
      this.st(
        `SELECT a.*, u.username FROM access_records a JOIN users u ON u.id = a.user_id
         WHERE a.vin = ? ORDER BY a.id`,
      ).all(vin) as Row[]
    ).map((r) => ({
      id: Number(r.id),
      kind: r.kind as AccessRecordRow['kind'],
      vin: String(r.vin),
      userId: Number(r.user_id),
      username: String(r.username),
      grantId: r.grant_id === null ? null : Number(r.grant_id),
      at: Number(r.at),
      record: u8(r.record),
      recordHash: u8(r.record_hash),
      leafIndex: Number(r.leaf_index),
    }));
  }

  /** VINs a registered user owns: those whose devices were enrolled with the user as owner. */
  ownedVins(username: string): string[] {
    return (
      this.st('SELECT DISTINCT vin FROM devices WHERE owner = ? COLLATE NOCASE ORDER BY vin').all(
        username,
      ) as Row[]
    ).map((r) => String(r.vin));
  }

  isOwner(username: string, vin: string): boolean {
    return (
      this.st('SELECT 1 FROM devices WHERE vin = ? AND owner = ? COLLATE NOCASE LIMIT 1').get(
        vin,
        username,
      ) !== undefined
    );
  }
}
