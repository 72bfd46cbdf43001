import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { VinError } from '@enginechain/shared';
import { BrokerError } from './broker/errors.js';
import { checkListenerSpec } from './broker/listeners.js';
import { brokerListenerSpecs } from './cli/broker-listeners.js';
import { nodeConfigSchema, type NodeConfig } from './cli/node-config.js';
import { registerDeviceAdmin } from './cli/device-admin.js';
import { registerUsers } from './cli/users.js';
import { dashboardPlugin } from './dashboard/plugin.js';
import { buildEvidence, EvidenceRequestError } from './evidence/evidence-builder.js';
import { EnrolmentService } from './http/enrolment-service.js';
import { DEFAULT_ORIGIN, IngestNode } from './node/ingest-node.js';
import { StoreError } from './storage/ingest-store.js';
import { DATABASE_OPTION, openStore, storeLocation } from './cli/store-location.js';

function hostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`${what} must be host:port, got ${JSON.stringify(value)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function fail(message: string, code = 1): void {
  process.stderr.write(`enginechain: ${message}\n`);
  process.exitCode = code;
}

export function register(program: Command): void {
  registerUsers(program);
  program
    .command('ingest')
    .description('Run an ingestion node: broker, verification, storage, sidechain, receipts, API')
    .option(
      '--data <dir>',
      'data folder (database and node keys)',
      process.env.ENGINECHAIN_DATA ?? './enginechain-data',
    )
    .option(...DATABASE_OPTION)
    .option(
      '--config <file>',
      'JSON config file (keys: origin, mqtt, http, broker, checkpointIntervalMs, …)',
    )
    .option('--mqtt <host:port>', 'embedded broker address', '127.0.0.1:1883')
    .option('--http <host:port>', 'HTTP API address', '127.0.0.1:8080')
    .option('--broker <url>', 'consume from an external MQTT broker instead of the embedded one')
    .option('--origin <name>', 'log origin line of the checkpoints', DEFAULT_ORIGIN)
    .option('--mqtts <host:port>', 'MQTT over TLS listener (needs --tls-cert and --tls-key)')
    .option('--mqtt-ws <host:port>', 'MQTT over WebSocket listener (plaintext)')
    .option(
      '--mqtt-wss <host:port>',
      'MQTT over secure WebSocket listener (needs --tls-cert, --tls-key)',
    )
    .option('--tls-cert <file>', 'PEM server certificate (chain) for --mqtts and --mqtt-wss')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--tls-client-ca <file>', 'also require device client certificates signed by this CA')
    .option('--allow-plaintext', 'allow --mqtt and --mqtt-ws on addresses other than loopback')
    .option(
      '--advertise-broker <url>',
      'broker URL given to devices at enrolment, e.g. mqtts://node.example:8883',
    )
    .action(
      async (o: {
        data: string;
        database?: string;
        config?: string;
        mqtt: string;
        http: string;
        broker?: string;
        origin: string;
        mqtts?: string;
        mqttWs?: string;
        mqttWss?: string;
        tlsCert?: string;
        tlsKey?: string;
        tlsClientCa?: string;
        allowPlaintext?: boolean;
        advertiseBroker?: string;
      }) => {
        let config: NodeConfig = {};
        if (o.config) {
          const parsed = nodeConfigSchema.safeParse(JSON.parse(readFileSync(o.config, 'utf8')));
          if (!parsed.success) {
            return fail(
              `config ${o.config} is invalid:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
            );
          }
          config = parsed.data;
        }
        let brokerListeners;
        try {
          brokerListeners = await brokerListenerSpecs({
            ...((config.mqtts ?? o.mqtts) ? { mqtts: config.mqtts ?? hostPort(o.mqtts!, '--mqtts') } : {}),
            ...((config.mqttWs ?? o.mqttWs) ? { mqttWs: config.mqttWs ?? hostPort(o.mqttWs!, '--mqtt-ws') } : {}),
            ...((config.mqttWss ?? o.mqttWss) ? { mqttWss: config.mqttWss ?? hostPort(o.mqttWss!, '--mqtt-wss') } : {}),
            tls: { cert: config.tls?.cert ?? o.tlsCert, key: config.tls?.key ?? o.tlsKey, clientCa: config.tls?.clientCa ?? o.tlsClientCa },
          }); // prettier-ignore
        } catch (err) {
          if (err instanceof BrokerError) return fail(err.message, 2);
          throw err;
        }
        const advertised = config.advertiseBroker ?? o.advertiseBroker;
        const allowPlaintext = config.allowPlaintext ?? o.allowPlaintext ?? false;
        const mainMqtt = config.mqtt ?? hostPort(o.mqtt, '--mqtt');
        try {
          if (!(config.broker || o.broker))
            for (const spec of [{ kind: 'mqtt' as const, ...mainMqtt }, ...brokerListeners])
              checkListenerSpec(spec, allowPlaintext);
        } catch (err) {
          if (err instanceof BrokerError) return fail(`${err.message} (--allow-plaintext)`, 2);
          throw err;
        }
        const node = await IngestNode.start({
          ...storeLocation({ ...o, ...(config.database ? { database: config.database } : {}) }),
          httpPlugins: [{ plugin: dashboardPlugin }],
          brokerListeners,
          allowPlaintextBroker: allowPlaintext,
          ...(advertised ? { advertisedBrokerUrl: advertised } : {}),
          origin: config.origin ?? o.origin,
          mqtt: mainMqtt,
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
          ...(config.maxBatchesInPipeline
            ? { maxBatchesInPipeline: config.maxBatchesInPipeline }
            : {}),
          ...(config.maxBytesInPipeline ? { maxBytesInPipeline: config.maxBytesInPipeline } : {}),
          ...(config.maxEvidenceBytes ? { maxEvidenceBytes: config.maxEvidenceBytes } : {}),
          // Logs go to stderr: stdout carries the one JSON line that says where the node listens.
          logger: pino({ name: 'enginechain-ingest' }, pino.destination(2)),
        }).catch((err: unknown) => {
          if (!(err instanceof BrokerError || err instanceof StoreError)) throw err;
          fail(err.message, 2);
          // The half-started node (verifier threads, database) must not keep the process up.
          process.exit();
        });
        if (!node) return;
        process.stdout.write(
          JSON.stringify({
            brokerUrl: node.brokerUrl,
            brokerUrls: node.broker?.listeners.map((l) => l.url) ?? [node.brokerUrl],
            operatorTokenFile: node.operatorTokenFile,
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
    .option(...DATABASE_OPTION)
    .option('--json', 'print one JSON object')
    .action(
      async (o: {
        vin: string;
        owner?: string;
        data: string;
        database?: string;
        json?: boolean;
      }) => {
        const store = await openStore(o);
        if (!store) return;
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
      },
    );

  registerDeviceAdmin(device);

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
    .option(...DATABASE_OPTION)
    .action(
      async (o: {
        vin: string;
        event?: string;
        from?: string;
        to?: string;
        out: string;
        data: string;
        database?: string;
      }) => {
        if ((o.event === undefined) === (o.from === undefined || o.to === undefined)) {
          return fail('give either --event ID or both --from and --to', 2);
        }
        const from = o.from === undefined ? Number.NaN : Date.parse(o.from);
        const to = o.to === undefined ? Number.NaN : Date.parse(o.to);
        if (o.event === undefined && (Number.isNaN(from) || Number.isNaN(to)))
          return fail('--from and --to must be ISO 8601 times', 2);
        const where = storeLocation(o);
        const opened = await IngestNode.openData(where.dataDir, where).catch((err: unknown) => {
          if (!(err instanceof StoreError)) throw err;
          fail(err.message, 2);
        });
        if (!opened) return;
        const { store, keys, sidechain } = opened;
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
