import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AccessService } from '../access/access-service.js';
import type { UserKind } from '../access/access-store.js';
import { HttpError } from '../http/errors.js';
import { DATABASE_OPTION, openStore } from './store-location.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A password people can type: 4 groups of 5 base32 letters, 100 bits. */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b % 32]).join('');
  return chars.match(/.{5}/g)!.join('-');
}

async function openAccess(o: { data?: string; database?: string }) {
  const store = await openStore(o);
  return store && { store, access: new AccessService(store.access) };
}

function fail(message: string): void {
  process.stderr.write(`enginechain: ${message}\n`);
  process.exitCode = 2;
}

/**
 * `enginechain user add|list`: the node operator creates accounts for vehicle owners
 * (registered) and insurers, fleets and repairers (business). Users live in the node's
 * database; adding one beside a running node is safe (no log entry is written).
 */
export function registerUsers(program: Command): void {
  const user = program.command('user').description('Manage the people who use a node');
  user
    .command('add')
    .description('Create a registered (owner) or business (insurer, fleet, repairer) user')
    .requiredOption('--username <name>', 'login name, e.g. an e-mail address')
    .requiredOption('--kind <kind>', 'registered or business')
    .option('--display-name <name>', 'shown in the dashboard')
    .option('--password-stdin', 'read the password from standard input')
    .option('--password-file <file>', 'read the password from a file (first line)')
    .option('--generate-password', 'make up a password and print it once')
    .option('--data <dir>', 'node data folder (default $ENGINECHAIN_DATA or ./enginechain-data)')
    .option(...DATABASE_OPTION)
    .option('--json', 'print one JSON object')
    .action(
      async (o: {
        username: string;
        kind: string;
        displayName?: string;
        passwordStdin?: boolean;
        passwordFile?: string;
        generatePassword?: boolean;
        data?: string;
        database?: string;
        json?: boolean;
      }) => {
        const sources = [o.passwordStdin, o.passwordFile, o.generatePassword].filter(Boolean);
        if (sources.length !== 1)
          return fail('give exactly one of --password-stdin, --password-file, --generate-password');
        if (o.kind !== 'registered' && o.kind !== 'business')
          return fail(`--kind must be registered or business, not ${JSON.stringify(o.kind)}`);
        let password: string;
        if (o.generatePassword) password = generatePassword();
        else if (o.passwordFile)
          password = readFileSync(o.passwordFile, 'utf8').split(/\r?\n/)[0] ?? '';
        else password = (await readStdin()).split(/\r?\n/)[0] ?? '';
        const opened = await openAccess(o);
        if (!opened) return;
        const { store, access } = opened;
        try {
          const created = await access.createUser({
            username: o.username,
            kind: o.kind as UserKind,
            ...(o.displayName ? { displayName: o.displayName } : {}),
            password,
          });
          const out = {
            ...created,
            ...(o.generatePassword ? { password } : {}),
          };
          if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
          else
            process.stdout.write(
              `created ${created.kind} user ${created.username}` +
                (o.generatePassword ? `\npassword: ${password}\n` : '\n'),
            );
        } catch (err) {
          if (err instanceof TypeError || err instanceof HttpError) return fail(err.message);
          throw err;
        } finally {
          await store.close();
        }
      },
    );
  user
    .command('list')
    .description('List users')
    .option('--kind <kind>', 'registered or business')
    .option('--data <dir>', 'node data folder')
    .option(...DATABASE_OPTION)
    .option('--json', 'print one JSON object')
    .action(async (o: { kind?: string; data?: string; database?: string; json?: boolean }) => {
      const opened = await openAccess(o);
      if (!opened) return;
      const { store, access } = opened;
      try {
        const users = await access.users(o.kind as UserKind | undefined);
        if (o.json) process.stdout.write(`${JSON.stringify({ users })}\n`);
        else for (const u of users) process.stdout.write(`${u.kind.padEnd(10)} ${u.username}\n`);
      } finally {
        await store.close();
      }
    });
}
