/**
 * Test support (not exported from the package): a real PostgreSQL from Debian's `postgresql`
 * package, in a temporary folder, on a free port, its unix socket in that folder. initdb
 * refuses root, so as root it runs as the `postgres` user (runuser).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

const run = promisify(execFile);
const SUPERUSER = 'enginechain';

/** Debian keeps each major version's binaries in /usr/lib/postgresql/<major>/bin. */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/**
 * Why the PostgreSQL tests cannot run here, or undefined when they can. CI installs the
 * binaries (.ci/run), so there a missing one is a failure, not a reason to skip.
 */
export function postgresMissing(): string | undefined {
  return postgresBin()
    ? undefined
    : 'PostgreSQL binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  readonly port: number;
  /** The connection URL of `database`, over the unix socket. */
  url(database: string): string;
  /** The same over TCP on 127.0.0.1 (what an operator gives `--database`). */
  tcpUrl(database: string): string;
  /** A new, empty database; its name. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a throwaway server; stop() removes it and its folder. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error(postgresMissing());
  const dir = mkdtempSync(join(tmpdir(), 'enginechain-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgRun = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : run(join(bin, tool), args);
  const port = await freePort();
  try {
    await pgRun('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']); // prettier-ignore
    await pgRun('pg_ctl', [
      '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      'start',
    ]); // prettier-ignore
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let made = 0;
  const url = (database: string) =>
    `postgres://${SUPERUSER}@/${database}?host=${encodeURIComponent(dir)}&port=${port}`;
  return {
    port,
    url,
    tcpUrl: (database) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`,
    async createDatabase() {
      const name = `enginechain_test_${process.pid}_${++made}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return name;
    },
    async stop() {
      try {
        await pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Declares the PostgreSQL tests of a file: `body` gets a server started before them and
 * stopped after. Where Debian's PostgreSQL is not installed they cannot run; under CI=true
 * (which installs it) that is a broken setup and fails, elsewhere they are skipped with the
 * reason in their title, so a developer without PostgreSQL still runs the rest of the suite.
 */
export function describeWithPostgres(title: string, body: (server: TestPostgres) => void): void {
  const missing = postgresMissing();
  if (missing !== undefined && process.env.CI === 'true') {
    it(`${title}: has a PostgreSQL server to run against`, () => {
      throw new Error(missing);
    });
    return;
  }
  if (missing !== undefined) {
    // Skipped, not failed: outside CI a missing PostgreSQL is the machine's, not the code's.
    describe.skip(`${title}: skipped, ${missing}`, () => {
      it('needs PostgreSQL', () => {});
    });
    return;
  }
  let started: TestPostgres | undefined;
  const live = (): TestPostgres => {
    if (!started) throw new Error('the test PostgreSQL is not started (use it inside a test)');
    return started;
  };
  // The tests hold this handle from declaration time; the server behind it starts in beforeAll.
  const server: TestPostgres = {
    get port() {
      return live().port;
    },
    url: (database) => live().url(database),
    tcpUrl: (database) => live().tcpUrl(database),
    createDatabase: () => live().createDatabase(),
    stop: () => live().stop(),
  };
  describe(title, () => {
    beforeAll(async () => {
      started = await startTestPostgres();
    }, 120_000);
    afterAll(async () => {
      await started?.stop();
    });
    body(server);
  });
}
