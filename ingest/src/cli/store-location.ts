import { resolve } from 'node:path';
import type { StoreLocation } from '../storage/open-store.js';

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
