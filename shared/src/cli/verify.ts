import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { EvidenceError, evidenceCsv, verifyEvidence } from '../evidence/verify-evidence.js';

function atLeastOne(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be an integer ≥ 1');
  return n;
}

/** `--trust` takes key strings or files holding one key per line. */
function trustedKeys(values: readonly string[]): string[] {
  return values.flatMap((v) =>
    existsSync(v)
      ? readFileSync(v, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#'))
      : [v],
  );
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Verify an evidence file offline (no database, no network) and say what it proves')
    .argument('<file>', 'evidence file written by `enginechain evidence`')
    .option(
      '--trust <keys...>',
      'checkpoint verifier keys to trust (key strings or files, one key per line)',
    )
    .option(
      '--min-signatures <k>',
      'distinct trusted keys that must have signed the checkpoint',
      atLeastOne,
      1,
    )
    .option('--csv <out>', 'write the verified trace as CSV')
    .option('--json', 'print one JSON object')
    .action(
      (
        file: string,
        o: { trust?: string[]; minSignatures: number; csv?: string; json?: boolean },
      ) => {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(readFileSync(file));
        } catch (err) {
          process.stderr.write(
            `enginechain verify: cannot read ${file}: ${(err as Error).message}\n`,
          );
          process.exitCode = 2;
          return;
        }
        try {
          const v = verifyEvidence(bytes, {
            ...(o.trust ? { trustedKeys: trustedKeys(o.trust) } : {}),
            minSignatures: o.minSignatures,
          });
          if (o.csv) writeFileSync(o.csv, evidenceCsv(v));
          const summary = {
            verified: true,
            trusted: v.trusted,
            vin: v.vin,
            deviceId: v.deviceId,
            request: v.request,
            from: new Date(v.start).toISOString(),
            to: new Date(v.end).toISOString(),
            batches: v.batches.length,
            samples: v.samples.length,
            signals: [...new Set(v.samples.map((s) => s.name))].sort(),
            events: v.events.map((e) => ({
              type: e.type,
              at: new Date(e.start).toISOString(),
              data: e.data,
            })),
            gaps: v.gaps,
            checkpoint: {
              origin: v.origin,
              treeSize: Number(v.checkpoint.treeSize),
              rootHash: Buffer.from(v.checkpoint.rootHash).toString('base64'),
              signers: v.checkpoint.signers,
            },
            ...(o.csv ? { csv: o.csv } : {}),
          };
          if (o.json) {
            process.stdout.write(JSON.stringify(summary) + '\n');
            return;
          }
          const lines = [
            `VERIFIED  ${file}`,
            `  vehicle      ${v.vin}, device ${v.deviceId} (registration in the log, key matches, VIN commitment opens)`,
            `  covers       ${summary.from} to ${summary.to} (${v.request})`,
            `  batches      ${v.batches.length} signed by the device (ES256K), seqs ${v.batches[0]?.seq}..${v.batches.at(-1)?.seq}, each in the log`,
            `  samples      ${v.samples.length} of ${summary.signals.length} signals`,
            `  events       ${v.events.map((e) => e.type).join(', ') || 'none'}`,
            `  gaps         ${v.gaps.length === 0 ? 'none' : v.gaps.map((g) => `${g.from}-${g.to}${g.declaredDropped ? ' (declared dropped by the device)' : ''}`).join(', ')}`,
            `  checkpoint   ${v.origin} size ${v.checkpoint.treeSize}, signed by ${v.checkpoint.signers.join(', ')}; extends size ${v.earlierTreeSize} (consistency proof)`,
            v.trusted
              ? '  trust        checkpoint key given with --trust'
              : '  trust        key taken from the file itself: compare it with the node’s published key, or pass --trust',
            ...(o.csv ? [`  csv          ${o.csv}`] : []),
          ];
          process.stdout.write(lines.join('\n') + '\n');
        } catch (err) {
          if (!(err instanceof EvidenceError)) throw err;
          if (o.json)
            process.stdout.write(
              JSON.stringify({ verified: false, code: err.code, error: err.message }) + '\n',
            );
          process.stderr.write(`NOT VERIFIED  ${file}: ${err.code}: ${err.message}\n`);
          process.exitCode = 1;
        }
      },
    );
}
