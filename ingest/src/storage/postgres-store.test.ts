import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ingestStoreConformance } from './ingest-store.conformance.js';
import { StoreError } from './ingest-store.js';
import { openIngestStore } from './open-store.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { PostgresIngestStore } from './postgres-store.js';
import { describeWithPostgres } from './postgres-test-server.js';

describeWithPostgres('PostgreSQL backend', (server) => {
  ingestStoreConformance('PostgreSQL', async () =>
    PostgresIngestStore.open(server.url(await server.createDatabase())),
  );

  /** What only the PostgreSQL database has: its schema table and its URL. */
  describe('PostgresIngestStore', () => {
    it('migrates a new database to the latest schema, reopens it unchanged, and is what open-store picks for a postgres:// URL', async () => {
      const url = server.url(await server.createDatabase());
      const first = await PostgresIngestStore.open(url);
      expect(await first.schemaVersion()).toBe(POSTGRES_MIGRATIONS.length);
      await first.appendLogEntry(new Uint8Array([1]), new Uint8Array(32));
      await first.close();
      const again = await openIngestStore({ dataDir: '/nonexistent', database: url });
      expect(again).toBeInstanceOf(PostgresIngestStore);
      expect(await again.logSize()).toBe(1);
      await again.close();
    });

    it('lets two nodes starting at once migrate a database once', async () => {
      const url = server.url(await server.createDatabase());
      const stores = await Promise.all([
        PostgresIngestStore.open(url),
        PostgresIngestStore.open(url),
      ]);
      for (const s of stores) expect(await s.schemaVersion()).toBe(POSTGRES_MIGRATIONS.length);
      for (const s of stores) await s.close();
    });

    it('refuses a database from a newer node', async () => {
      const url = server.url(await server.createDatabase());
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('CREATE TABLE enginechain_schema (version INTEGER NOT NULL)');
      await c.query('INSERT INTO enginechain_schema VALUES ($1)', [POSTGRES_MIGRATIONS.length + 1]);
      await c.end();
      await expect(PostgresIngestStore.open(url)).rejects.toBeInstanceOf(StoreError);
    });

    it('says which URL it cannot use, and which database it cannot reach, without its password', async () => {
      await expect(openIngestStore({ dataDir: '/tmp', database: 'mysql://u:secret@x/db' })).rejects.toMatchObject({
        name: 'StoreError', code: 'bad-input', message: expect.stringMatching(/postgres:\/\/ or postgresql:\/\/.*mysql:\/\/u:\*\*\*@x\/db/),
      });
      // Nothing listens on the server's port + 1 in its socket folder.
      const unreachable = server.url('nothing').replace(`port=${server.port}`, `port=${server.port + 1}`).replace('enginechain@', 'enginechain:secret@');
      const refused = await PostgresIngestStore.open(unreachable).catch((err: unknown) => err);
      expect(refused).toMatchObject({ name: 'StoreError', code: 'unavailable', message: expect.stringContaining('cannot open the PostgreSQL database postgres://enginechain:***@') });
      expect((refused as Error).message).not.toContain('secret');
    }); // prettier-ignore
  });
});
