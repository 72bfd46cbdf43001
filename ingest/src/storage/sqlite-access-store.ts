import type Database from 'better-sqlite3';
import { leafHash } from '@enginechain/shared';
import type {
  AccessRecordRow,
  AccessStore,
  ApiTokenRow,
  GrantRow,
  User,
  UserKind,
} from '../access/access-store.js';
import { GRANT_SELECT, toAccessRecord, toApiToken, toGrant, toUser, type Row } from './rows.js';

/**
 * The access store in the node's SQLite file, sharing its connection so an access record and
 * its log leaf commit in one transaction (`appendLeaf` writes the leaf through the same
 * connection, inside the caller's transaction).
 */
export class SqliteAccessStore implements AccessStore {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly appendLeaf: (entry: Uint8Array, leafHash: Uint8Array) => number,
  ) {}

  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  async createUser(u: {
    username: string;
    kind: UserKind;
    displayName: string;
    passwordHash: string;
    now: number;
  }): Promise<User | 'exists'> {
    const existing = this.st('SELECT id FROM users WHERE username = ?').get(u.username);
    if (existing) return 'exists';
    const r = this.st(
      'INSERT INTO users (username, kind, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(u.username, u.kind, u.displayName, u.passwordHash, u.now);
    return this.user(Number(r.lastInsertRowid)) as User;
  }

  async userById(id: number): Promise<User | undefined> {
    return this.user(id);
  }

  private user(id: number): User | undefined {
    const r = this.st('SELECT * FROM users WHERE id = ? AND disabled_at IS NULL').get(id) as
      Row | undefined;
    return r ? toUser(r) : undefined;
  }

  async userByName(username: string): Promise<(User & { passwordHash: string }) | undefined> {
    const r = this.st('SELECT * FROM users WHERE username = ? AND disabled_at IS NULL').get(
      username,
    ) as Row | undefined;
    return r ? { ...toUser(r), passwordHash: String(r.password_hash) } : undefined;
  }

  async listUsers(kind?: UserKind): Promise<User[]> {
    const rows = (
      kind
        ? this.st(
            'SELECT * FROM users WHERE kind = ? AND disabled_at IS NULL ORDER BY username',
          ).all(kind)
        : this.st('SELECT * FROM users WHERE disabled_at IS NULL ORDER BY username').all()
    ) as Row[];
    return rows.map(toUser);
  }

  async addSession(
    tokenHash: Uint8Array,
    userId: number,
    now: number,
    expiresAt: number,
  ): Promise<void> {
    this.db.transaction(() => {
      this.st('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.st(
        'INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
      ).run(tokenHash, userId, now, expiresAt);
    })();
  }

  async sessionUser(tokenHash: Uint8Array, now: number): Promise<User | undefined> {
    const r = this.st('SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?').get(
      tokenHash,
      now,
    ) as Row | undefined;
    return r ? this.user(Number(r.user_id)) : undefined;
  }

  async deleteSession(tokenHash: Uint8Array): Promise<void> {
    this.st('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  async addApiToken(t: {
    tokenHash: Uint8Array;
    userId: number;
    name: string;
    now: number;
    expiresAt: number;
  }): Promise<number> {
    const r = this.st(
      'INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).run(t.tokenHash, t.userId, t.name, t.now, t.expiresAt);
    return Number(r.lastInsertRowid);
  }

  async apiTokenUser(
    tokenHash: Uint8Array,
    now: number,
  ): Promise<{ user: User; tokenId: number } | undefined> {
    const r = this.st(
      'SELECT id, user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?',
    ).get(tokenHash, now) as Row | undefined;
    if (!r) return undefined;
    const user = this.user(Number(r.user_id));
    if (!user) return undefined;
    this.st('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, r.id);
    return { user, tokenId: Number(r.id) };
  }

  async apiTokens(userId: number): Promise<ApiTokenRow[]> {
    return (
      this.st('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id').all(userId) as Row[]
    ).map(toApiToken);
  }

  async revokeApiToken(userId: number, id: number, now: number): Promise<boolean> {
    return (
      this.st(
        'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
      ).run(now, id, userId).changes === 1
    );
  }

  async appendAccessRecord(
    args: Parameters<AccessStore['appendAccessRecord']>[0],
  ): Promise<{ leafIndex: number; grantId: number } | 'already-revoked'> {
    return this.db.transaction(() => {
      const e = args.effect;
      let grantId: number;
      if (e.kind === 'grant') {
        const g = e.grant;
        grantId = Number(
          this.st(
            `INSERT INTO grants (owner_id, business_id, vin, kinds, from_time, to_time, expires_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(g.ownerId, g.businessId, g.vin, JSON.stringify(g.kinds), g.from, g.to, g.expiresAt, g.now)
            .lastInsertRowid,
        ); // prettier-ignore
      } else {
        grantId = e.grantId;
        if (
          e.kind === 'grant-revoked' &&
          this.st('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(
            e.now,
            grantId,
          ).changes !== 1
        )
          return 'already-revoked' as const;
      }
      const leafIndex = this.appendLeaf(args.logEntry, leafHash(args.logEntry));
      this.st(
        `INSERT INTO access_records (kind, vin, user_id, grant_id, at, record, record_hash, leaf_index)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(e.kind, args.vin, args.userId, grantId, args.at, args.record, args.recordHash, leafIndex); // prettier-ignore
      return { leafIndex, grantId };
    })();
  }

  async grantById(id: number): Promise<GrantRow | undefined> {
    const r = this.st(`${GRANT_SELECT} WHERE g.id = ?`).get(id) as Row | undefined;
    return r ? toGrant(r) : undefined;
  }

  async grantsOfOwner(ownerId: number): Promise<GrantRow[]> {
    return (
      this.st(`${GRANT_SELECT} WHERE g.owner_id = ? ORDER BY g.id`).all(ownerId) as Row[]
    ).map(toGrant);
  }

  async grantsOfBusiness(businessId: number): Promise<GrantRow[]> {
    return (
      this.st(`${GRANT_SELECT} WHERE g.business_id = ? ORDER BY g.id`).all(businessId) as Row[]
    ).map(toGrant);
  }

  async accessRecords(vin: string): Promise<AccessRecordRow[]> {
    return (
      this.st(
        `SELECT a.*, u.username FROM access_records a JOIN users u ON u.id = a.user_id
         WHERE a.vin = ? ORDER BY a.id`,
      ).all(vin) as Row[]
    ).map(toAccessRecord);
  }

  async ownedVins(username: string): Promise<string[]> {
    return (
      this.st('SELECT DISTINCT vin FROM devices WHERE owner = ? COLLATE NOCASE ORDER BY vin').all(
        username,
      ) as Row[]
    ).map((r) => String(r.vin));
  }

  async isOwner(username: string, vin: string): Promise<boolean> {
    return (
      this.st('SELECT 1 FROM devices WHERE vin = ? AND owner = ? COLLATE NOCASE LIMIT 1').get(
        vin,
        username,
      ) !== undefined
    );
  }
}
