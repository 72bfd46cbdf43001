import type { Command } from 'commander';
import { ConfigError, loadAgentConfig } from './config/agent-config.js';
import { loadBoardProfile } from './provision/board-profile.js';
import { chooseSources, ProvisionError, provisionDevice } from './provision/provision.js';
import { RotateKeyError, rotateDeviceKey } from './rotate/rotate-key.js';
import { AgentRuntime } from './runtime/agent-runtime.js';

function fail(message: string, code = 1): void {
  process.stderr.write(`enginechain: ${message}\n`);
  process.exitCode = code;
}

export function register(program: Command): void {
  program
    .command('provision')
    .description(
      'Create the device key, register it with an ingestion node, write the agent config',
    )
    .requiredOption('--ingest <url>', 'HTTP URL of the ingestion node, e.g. http://127.0.0.1:8080')
    .requiredOption(
      '--token <token>',
      'single-use enrolment token from `enginechain device enroll`',
    )
    .requiredOption('--vin <vin>', 'the vehicle this gateway is installed in')
    .requiredOption(
      '--out <dir>',
      'folder for device.key (0600), device.pub, agent.json and the outbox',
    )
    .option(
      '--profile <file>',
      'board profile (hardware/kit/profiles/*.json): its sources and per-signal rates',
    )
    .option('--dbc <file>', "the vehicle's DBC, for a profile that reads the CAN bus")
    .option('--mapping <toyota|file>', 'DBC signals to VSS names, for a CAN profile')
    .option('--elm327 <port>', 'ELM327 adapter: serial device or tcp://host:port')
    .option('--nmea <port>', 'GNSS receiver serial device')
    .option('--imu <port>', 'IMU serial device')
    .option('--broker <url>', 'override the broker URL the node announces')
    .option('--force', 'overwrite an existing key and config (a new device identity)')
    .option('--json', 'print one JSON object')
    .action(
      async (o: {
        ingest: string;
        token: string;
        vin: string;
        out: string;
        profile?: string;
        dbc?: string;
        mapping?: string;
        elm327?: string;
        nmea?: string;
        imu?: string;
        broker?: string;
        force?: boolean;
        json?: boolean;
      }) => {
        try {
          const sources = chooseSources({
            ...(o.profile ? { profile: loadBoardProfile(o.profile) } : {}),
            can: { ...(o.dbc ? { dbc: o.dbc } : {}), ...(o.mapping ? { mapping: o.mapping } : {}) },
            ...(o.elm327 ? { elm327: o.elm327 } : {}),
            ...(o.nmea ? { nmea: o.nmea } : {}),
            ...(o.imu ? { imu: o.imu } : {}),
          });
          const r = await provisionDevice({
            ingest: o.ingest, token: o.token, vin: o.vin, out: o.out, sources,
            ...(o.broker ? { brokerUrl: o.broker } : {}), ...(o.force ? { force: true } : {}),
          }); // prettier-ignore
          process.stdout.write(
            o.json
              ? JSON.stringify({ deviceId: r.deviceId, config: r.configPath, reusedKey: r.reusedKey }) + '\n'
              : `provisioned device ${r.deviceId}${r.reusedKey ? ' (key of an earlier attempt)' : ''}\nconfig: ${r.configPath}\nrun: enginechain agent --config ${r.configPath}\n`,
          ); // prettier-ignore
        } catch (err) {
          if (err instanceof ProvisionError && err.code === 'no-sources')
            return fail(err.message, 2);
          if (err instanceof ProvisionError || err instanceof ConfigError) return fail(err.message);
          if (err instanceof Error && (err.name === 'VinError' || err.name === 'KeyFileError'))
            return fail(err.message);
          throw err;
        }
      },
    );

  program
    .command('rotate-key')
    .description(
      'Replace the device key: the node logs the rotation, the device id stays (stop the agent first)',
    )
    .requiredOption('--config <file>', 'agent config (JSON), as written by `enginechain provision`')
    .requiredOption('--ingest <url>', 'HTTP URL of the ingestion node, e.g. http://127.0.0.1:8080')
    .option('--json', 'print one JSON object')
    .action(async (o: { config: string; ingest: string; json?: boolean }) => {
      try {
        const r = await rotateDeviceKey({ configPath: o.config, ingest: o.ingest });
        const publicKey = Buffer.from(r.publicKey).toString('base64');
        process.stdout.write(
          o.json
            ? JSON.stringify({ deviceId: r.deviceId, fromSeq: r.fromSeq, leafIndex: r.leafIndex, publicKey }) + '\n'
            : `device ${r.deviceId}: new key from seq ${r.fromSeq} (log entry ${r.leafIndex}); start the agent again\n`,
        ); // prettier-ignore
      } catch (err) {
        if (err instanceof ConfigError) return fail(err.message, 2);
        if (err instanceof RotateKeyError) return fail(`${err.code}: ${err.message}`);
        if (err instanceof Error && (err.name === 'KeyFileError' || err.name === 'OutboxError'))
          return fail(err.message);
        throw err;
      }
    });

  program
    .command('agent')
    .description('Run the in-vehicle agent: sample, detect, sign, store and deliver')
    .requiredOption('--config <file>', 'agent config (JSON), as written by `enginechain provision`')
    .option('--drain <ms>', 'on SIGTERM, keep sending for up to this long before exiting', '5000')
    .action(async (o: { config: string; drain: string }) => {
      let runtime: AgentRuntime;
      try {
        runtime = await AgentRuntime.start({ config: loadAgentConfig(o.config) });
      } catch (err) {
        if (err instanceof ConfigError) return fail(err.message, 2);
        // A missing key, an unreadable adapter, a damaged outbox: say which, exit non-zero.
        if (err instanceof Error) return fail(`${err.name}: ${err.message}`, 1);
        throw err;
      }
      await new Promise<void>((done) => {
        const stop = () => void runtime.stop({ drainMs: Number(o.drain) || 0 }).then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
