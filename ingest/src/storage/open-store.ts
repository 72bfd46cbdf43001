import { join } from 'node:path';
import { StoreError, type IngestStore } from './ingest-store.js';
import { withoutPassword } from './postgres-query.js';
import { SqliteIngestStore } from './sqlite-store.js';

/** Where a node keeps its data: the data folder, and the database when it is not SQLite. */
export interface StoreLocation {
  /** The node's data folder; SQLite keeps node.db here. */
  readonly dataDir: string;
  /**
   * A PostgreSQL connection URL (postgres://user:pass@host:port/db or a unix socket folder as
   * `?host=/run/postgresql`); absent: SQLite in `<dataDir>/node.db`.
   */
  readonly database?: string | undefined;
}

/** Opens (and migrates) the store `location` names. */
export async function openIngestStore(location: StoreLocation): Promise<IngestStore> {
  if (location.database === undefined || location.database === '')
    return new SqliteIngestStore(join(location.dataDir, 'node.db'));
  if (/^postgres(ql)?:\/\//.test(location.database)) {
    // Loaded only here: a node on SQLite (and every CLI command) starts without node-postgres.
    const { PostgresIngestStore } = await import('./postgres-store.js');
    return PostgresIngestStore.open(location.database);
  }
  throw new StoreError(
    'bad-input',
    `database: expected a postgres:// or postgresql:// URL, got ${JSON.stringify(withoutPassword(location.database))}`,
  );
}
