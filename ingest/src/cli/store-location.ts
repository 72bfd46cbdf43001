import { resolve } from 'node:path';
import { StoreError, type IngestStore } from '../storage/ingest-store.js';
import { openIngestStore, type StoreLocation } from '../storage/open-store.js';

/** `--database`, on every command that opens the node's store. */
export const DATABASE_OPTION = [
  '--database <url>',
  'keep the data in PostgreSQL (postgres://…) instead of SQLite in the data folder (default $ENGINECHAIN_DATABASE)',
] as const;

/** The data folder and database a command names, falling back on the environment. */
export function storeLocation(o: { data?: string; database?: string }): StoreLocation {
  const database = o.database ?? process.env.ENGINECHAIN_DATABASE;
  return {
    dataDir: resolve(o.data ?? process.env.ENGINECHAIN_DATA ?? './enginechain-data'),
    ...(database ? { database } : {}),
  };
}

/**
 * Opens the store a command names; a store that cannot be opened (an unreachable or newer
 * database, a URL that is not one) is reported on stderr with exit status 2, and undefined.
 */
export async function openStore(o: {
  data?: string;
  database?: string;
}): Promise<IngestStore | undefined> {
  try {
    return await openIngestStore(storeLocation(o));
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    process.stderr.write(`enginechain: ${err.message}\n`);
    process.exitCode = 2;
    return undefined;
  }
}
