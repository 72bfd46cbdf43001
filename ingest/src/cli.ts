import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import { VinError } from '@enginechain/shared';
import { buildEvidence, EvidenceRequestError } from './evidence/evidence-builder.js';
import { EnrolmentService } from './http/enrolment-service.js';
import { DEFAULT_ORIGIN, IngestNode } from './node/ingest-node.js';
import { SqliteIngestStore } from './storage/sqlite-store.js';

function dataDir(o: { data?: string }): string {
  return resolve(o.data ?? process.env.ENGINECHAIN_DATA ?? './enginechain-data');
}

function hostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`${what} must be host:port, got ${JSON.stringify(value)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

const nodeConfigSchema = z.strictObject({
  origin: z.string().min(1).optional(),
  mqtt: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  http: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  broker: z.strictObject({ url: z.string().regex(/^(mqtts?|wss?):\/\//), username: z.string().optional(), password: z.string().optional() }).optional(),
  checkpointIntervalMs: z.number().int().min(10).optional(),
  checkpointEveryEntries: z.number().int().min(1).optional(),
  verifierThreads: z.number().int().min(1).max(64).optional(),
}); // prettier-ignore

function fail(message: string, code = 1): void {
  process.stderr.write(`enginechain: ${message}\n`);
  process.exitCode = code;
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('Run an ingestion node: broker, verification, storage, sidechain, receipts, API')
    .option(
      '--data <dir>',
      'data folder (database and node keys)',
      process.env.ENGINECHAIN_DATA ?? './enginechain-data',
    )
    .option(
      '--config <file>',
      'JSON config file (keys: origin, mqtt, http, broker, checkpointIntervalMs, …)',
    )
    .option('--mqtt <host:port>', 'embedded broker address', '127.0.0.1:1883')
    .option('--http <host:port>', 'HTTP API address', '127.0.0.1:8080')
    .option('--broker <url>', 'consume from an external MQTT broker instead of the embedded one')
    .option('--origin <name>', 'log origin line of the checkpoints', DEFAULT_ORIGIN)
    .action(
      async (o: {
        data: string;
        config?: string;
        mqtt: string;
        http: string;
        broker?: string;
        origin: string;
      }) => {
        let config: z.infer<typeof nodeConfigSchema> = {};
        if (o.config) {
          const parsed = nodeConfigSchema.safeParse(JSON.parse(readFileSync(o.config, 'utf8')));
          if (!parsed.success) {
            return fail(
              `config ${o.config} is invalid:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
            );
          }
          config = parsed.data;
        }
        const node = await IngestNode.start({
          dataDir: dataDir(o),
          origin: config.origin ?? o.origin,
          mqtt: config.mqtt ?? hostPort(o.mqtt, '--mqtt'),
          http: config.http ?? hostPort(o.http, '--http'),
          ...(config.broker || o.broker
            ? { externalBroker: config.broker ?? { url: o.broker as string } }
            : {}),
          ...(config.checkpointIntervalMs
            ? { checkpointIntervalMs: config.checkpointIntervalMs }
            : {}),
          ...(config.checkpointEveryEntries
            ? { checkpointEveryEntries: config.checkpointEveryEntries }
            : {}),
          ...(config.verifierThreads ? { verifierThreads: config.verifierThreads } : {}),
          // Logs go to stderr: stdout carries the one JSON line that says where the node listens.
          logger: pino({ name: 'enginechain-ingest' }, pino.destination(2)),
        });
        process.stdout.write(
          JSON.stringify({
            brokerUrl: node.brokerUrl,
            httpUrl: node.httpUrl,
            logOrigin: node.sidechain.origin,
            checkpointVerifierKey: node.keys.checkpointVerifierKey,
            receiptPublicKey: node.keys.receiptPublicKey,
          }) + '\n',
        );
        await new Promise<void>((done) => {
          const stop = () => void node.stop().then(done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );

  const device = program.command('device').description('Manage devices of an ingestion node');
  device
    .command('enroll')
    .description('Issue a single-use enrolment token for a VIN (valid 24 h)')
    .requiredOption('--vin <vin>', 'the vehicle the device will speak for')
    .option('--owner <name>', 'owner or fleet the vehicle belongs to')
    .option(
      '--data <dir>',
      'the node data folder',
      process.env.ENGINECHAIN_DATA ?? './enginechain-data',
    )
    .option('--json', 'print one JSON object')
    .action(async (o: { vin: string; owner?: string; data: string; json?: boolean }) => {
      const store = new SqliteIngestStore(join(dataDir(o), 'node.db'));
      try {
        const { token, expiresAt } = await new EnrolmentService(store).issueToken(o.vin, o.owner);
        process.stdout.write(
          o.json
            ? JSON.stringify({
                token,
                vin: o.vin.toUpperCase(),
                expiresAt: new Date(expiresAt).toISOString(),
              }) + '\n'
            : `enrolment token for ${o.vin.toUpperCase()} (single use, expires ${new Date(expiresAt).toISOString()}):\n${token}\n`,
        );
      } catch (err) {
        if (err instanceof VinError) return fail(err.message);
        throw err;
      } finally {
        await store.close();
      }
    });

  program
    .command('evidence')
    .description('Write the evidence file for a VIN and an event or a time range')
    .requiredOption('--vin <vin>', 'vehicle')
    .option('--event <id>', 'event id (e.g. a crash)')
    .option('--from <time>', 'ISO 8601 start')
    .option('--to <time>', 'ISO 8601 end')
    .requiredOption('--out <file>', 'where to write the evidence')
    .option(
      '--data <dir>',
      'the node data folder',
      process.env.ENGINECHAIN_DATA ?? './enginechain-data',
    )
    .action(
      async (o: {
        vin: string;
        event?: string;
        from?: string;
        to?: string;
        out: string;
        data: string;
      }) => {
        if ((o.event === undefined) === (o.from === undefined || o.to === undefined)) {
          return fail('give either --event ID or both --from and --to', 2);
        }
        const from = o.from === undefined ? Number.NaN : Date.parse(o.from);
        const to = o.to === undefined ? Number.NaN : Date.parse(o.to);
        if (o.event === undefined && (Number.isNaN(from) || Number.isNaN(to)))
          return fail('--from and --to must be ISO 8601 times', 2);
        const { store, keys, sidechain } = await IngestNode.openData(dataDir(o));
        try {
          const file = await buildEvidence({
            store,
            sidechain,
            signer: keys.checkpointSigner,
            request:
              o.event !== undefined
                ? { vin: o.vin.toUpperCase(), eventId: Number(o.event) }
                : { vin: o.vin.toUpperCase(), from, to },
          });
          writeFileSync(o.out, file);
          process.stdout.write(
            `wrote ${o.out} (${file.length} bytes); check it with: enginechain verify ${o.out} --trust '${keys.checkpointVerifierKey}'\n`,
          );
        } catch (err) {
          if (err instanceof EvidenceRequestError) return fail(err.message);
          throw err;
        } finally {
          await store.close();
        }
      },
    );
}
