import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { pino } from 'pino';
import { dashboardPlugin, IngestNode } from '@enginechain/ingest';
import { runDemo } from './demo.js';

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function crashAt(value: string): number | 'none' {
  if (value === 'none') return 'none';
  return positive(value);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('The main job: simulated vehicle → agent → ingest node → verified crash evidence')
    .option('--cycle <name>', 'drive cycle: udds, hwfet, us06, nycc or a CSV file', 'udds')
    .option('--speedup <n>', 'play the cycle this many times faster', positive, 10)
    .option(
      '--crash-at <s>',
      "simulated second of a crash, or 'none'",
      crashAt,
      600 as number | 'none',
    )
    .option('--dir <dir>', 'keep everything in this folder (default: a temporary one)')
    .option('--json', 'print one JSON summary and exit')
    .action(
      async (o: {
        cycle: string;
        speedup: number;
        crashAt: number | 'none';
        dir?: string;
        json?: boolean;
      }) => {
        const progress = o.json ? undefined : (line: string) => process.stdout.write(line + '\n');
        const summary = await runDemo({
          cycle: o.cycle,
          speedup: o.speedup,
          ...(o.crashAt === 'none' ? {} : { crashAtS: o.crashAt }),
          ...(o.dir ? { dir: o.dir } : {}),
          ...(progress ? { progress } : {}),
        });
        const failed = o.crashAt !== 'none' && !summary.evidence.verified;
        if (o.json) {
          process.stdout.write(JSON.stringify(summary) + '\n');
          if (failed) process.exitCode = 1;
          return;
        }
        process.stdout.write(
          [
            '',
            `trip          ${summary.trip.distanceKm.toFixed(2)} km in ${summary.simulatedSeconds} simulated s (${summary.cycle}, ${summary.speedup}×)`,
            `batches       ${summary.batches.sent} sent, ${summary.batches.receipted} receipted; log size ${summary.log.size}`,
            `events        ${summary.events.map((e) => e.type).join(', ') || 'none'}`,
            `evidence      ${summary.evidence.file ?? '—'} ${summary.evidence.verified ? 'VERIFIED' : `NOT verified (${summary.evidence.error ?? ''})`}`,
            ...(summary.evidence.file
              ? [
                  `check it      npx enginechain verify ${summary.evidence.file} --trust '${summary.log.checkpointVerifierKey}'`,
                ]
              : []),
            `everything    ${summary.dir}`,
            `logins        owner ${summary.logins.owner.username} / ${summary.logins.owner.password}`,
            `              insurer ${summary.logins.insurer.username} / ${summary.logins.insurer.password}`,
          ].join('\n') + '\n',
        );
        if (failed) process.exitCode = 1;
        if (!process.stdout.isTTY) return;
        // In a terminal the node keeps serving the demo's data until Ctrl-C.
        const serve = (port: number) =>
          IngestNode.start({
            dataDir: join(summary.dir, 'node'),
            mqtt: { host: '127.0.0.1', port: 0 },
            http: { host: '127.0.0.1', port },
            httpPlugins: [{ plugin: dashboardPlugin }],
            logger: pino({ level: 'warn' }),
          });
        const node = await serve(8080).catch(() => serve(0));
        process.stdout.write(
          `dashboard     ${node.httpUrl}/  (log in as the owner or the insurer above; Ctrl-C to stop)\n`,
        );
        await new Promise<void>((done) => {
          const stop = () => void node.stop().then(done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
