/**
 * Users, sessions, API tokens, grants and access records, in the node's database beside the
 * log (`IngestStore.access`; schema 2 of ../storage/migrations.ts). A record whose hash goes
 * on the log is written in the same transaction as its leaf (`appendAccessRecord`), so
 * neither exists without the other. Only hashes of session and API tokens are stored.
 */
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

export interface NewGrant {
  readonly ownerId: number;
  readonly businessId: number;
  readonly vin: string;
  readonly kinds: readonly DataKind[];
  readonly from: number;
  readonly to: number;
  readonly expiresAt: number;
  readonly now: number;
}

/** What an access record does besides being kept: the grant it creates, revokes or rests on. */
export type AccessRecordEffect =
  | { readonly kind: 'grant'; readonly grant: NewGrant }
  | { readonly kind: 'grant-revoked'; readonly grantId: number; readonly now: number }
  | { readonly kind: 'access'; readonly grantId: number };

export interface AccessStore {
  // Users
  createUser(u: {
    username: string;
    kind: UserKind;
    displayName: string;
    passwordHash: string;
    now: number;
  }): Promise<User | 'exists'>;
  userById(id: number): Promise<User | undefined>;
  /** Usernames compare without case. */
  userByName(username: string): Promise<(User & { passwordHash: string }) | undefined>;
  listUsers(kind?: UserKind): Promise<User[]>;

  // Sessions
  /** Adds a session and drops the expired ones. */
  addSession(tokenHash: Uint8Array, userId: number, now: number, expiresAt: number): Promise<void>;
  sessionUser(tokenHash: Uint8Array, now: number): Promise<User | undefined>;
  deleteSession(tokenHash: Uint8Array): Promise<void>;

  // API tokens
  addApiToken(t: {
    tokenHash: Uint8Array;
    userId: number;
    name: string;
    now: number;
    expiresAt: number;
  }): Promise<number>;
  /** The token's user when it is active; records the use. */
  apiTokenUser(
    tokenHash: Uint8Array,
    now: number,
  ): Promise<{ user: User; tokenId: number } | undefined>;
  apiTokens(userId: number): Promise<ApiTokenRow[]>;
  revokeApiToken(userId: number, id: number, now: number): Promise<boolean>;

  // Grants and access records
  /**
   * Appends the access entry `logEntry` and keeps its record with its effect, in one
   * transaction. `already-revoked`: a grant-revoked record for a grant revoked since it was
   * read; nothing is written then.
   */
  appendAccessRecord(args: {
    effect: AccessRecordEffect;
    vin: string;
    userId: number;
    at: number;
    record: Uint8Array;
    recordHash: Uint8Array;
    logEntry: Uint8Array;
  }): Promise<{ leafIndex: number; grantId: number } | 'already-revoked'>;
  grantById(id: number): Promise<GrantRow | undefined>;
  grantsOfOwner(ownerId: number): Promise<GrantRow[]>;
  grantsOfBusiness(businessId: number): Promise<GrantRow[]>;
  /** Records about `vin`, oldest first. */
  accessRecords(vin: string): Promise<AccessRecordRow[]>;
  /** VINs a registered user owns: those whose devices were enrolled with the user as owner. */
  ownedVins(username: string): Promise<string[]>;
  isOwner(username: string, vin: string): Promise<boolean>;
}
