import type pg from 'pg';

/** A connection inside a transaction, or the pool for a single statement. */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Statement names, one per SQL text: node-postgres prepares a named statement once per
 * connection and reuses it, as the SQLite store keeps its prepared statements.
 */
const statementNames = new Map<string, string>();
function named(text: string, values: readonly unknown[]): pg.QueryConfig<unknown[]> {
  let name = statementNames.get(text);
  if (!name) {
    name = `ec${statementNames.size}`;
    statementNames.set(text, name);
  }
  return { name, text, values: values as unknown[] };
}

/** Runs one prepared statement and gives its rows. */
export async function query(db: Queryable, text: string, values: readonly unknown[] = []) {
  return (await db.query(named(text, values))) as pg.QueryResult<Record<string, unknown>>;
}

/** `url` with any password replaced, for messages and logs. */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
