import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { newCandumpStats, readCandump, type CandumpStats } from '../can/candump.js';
import { formatCanId } from '../can/frame.js';
import { DbcDecoder, valueName } from '../dbc/decode.js';
import { DbcError } from '../dbc/errors.js';
import { parseDbc } from '../dbc/parse.js';

export interface CanDecodeSummary {
  readonly decoded: number;
  /** Frames whose id the DBC does not define (zero-length ones included). */
  readonly unknown: number;
  /** Frames shorter than their message. */
  readonly short: number;
  readonly log: CandumpStats;
}

/** A problem the user must fix (missing or invalid file): message for stderr, exit 1. */
export class CanCommandError extends Error {
  override readonly name = 'CanCommandError';
}

/**
 * The logic behind `enginechain can decode`: decodes every frame of a candump log through a
 * DBC and hands each decoded frame to `emit` as one output line.
 */
export async function runCanDecode(
  dbcPath: string,
  logPath: string,
  options: {
    json?: boolean;
    emit: (line: string) => void;
    /** Stops decoding early (the reader went away): the summary covers what was decoded. */
    signal?: AbortSignal;
  },
): Promise<CanDecodeSummary> {
  let text: string;
  try {
    text = await readFile(dbcPath, 'utf8');
  } catch (err) {
    throw new CanCommandError(
      `cannot read DBC ${dbcPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let decoder: DbcDecoder;
  try {
    decoder = new DbcDecoder(parseDbc(text));
  } catch (err) {
    if (err instanceof DbcError)
      throw new CanCommandError(`invalid DBC ${dbcPath}: ${err.message} [${err.code}]`);
    throw err;
  }
  const log = newCandumpStats();
  let decoded = 0;
  let unknown = 0;
  let short = 0;
  try {
    for await (const { frame } of readCandump(logPath, { stats: log })) {
      if (options.signal?.aborted) break;
      const r = decoder.decode(frame);
      if (r.kind === 'unknown-id' || r.kind === 'remote') {
        unknown++;
        continue;
      }
      if (r.kind === 'short') short++;
      decoded++;
      const t = Number((frame.time / 1000).toFixed(6));
      if (options.json) {
        options.emit(
          JSON.stringify({ t, id: frame.id, message: r.message.name, signals: r.values }),
        );
        continue;
      }
      const parts = r.message.signals
        .filter((s) => s.name in r.values)
        .map((s) => {
          const v = r.values[s.name] as number;
          const label = valueName(s, v);
          const shown = Number(v.toPrecision(12));
          return `${s.name}=${shown}${s.unit ? ` ${s.unit}` : ''}${label !== undefined ? ` (${label})` : ''}`;
        });
      options.emit(
        `${t.toFixed(6)} ${formatCanId(frame.id, frame.extended)} ${r.message.name}${r.kind === 'short' ? ' [short]' : ''}: ${parts.join(', ')}`,
      );
    }
  } catch (err) {
    throw new CanCommandError(
      `cannot read log ${logPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (log.lines > 0 && log.frames === 0) {
    throw new CanCommandError(
      `${logPath} is not a candump log: none of its ${log.lines} lines is a frame`,
    );
  }
  return { decoded, unknown, short, log };
}

export function registerCanCommands(program: Command): void {
  const can = program
    .command('can')
    .description('CAN bus tools: decode candump logs through a DBC');
  can
    .command('decode')
    .description('Decode a candump -l log through a DBC: one line per decoded frame')
    .requiredOption('--dbc <file>', 'DBC file describing the messages (e.g. an opendbc file)')
    .argument('<logfile>', 'candump -l log: (seconds) can0 ID#DATA')
    .option('--json', 'one JSON object per line: { t, id, message, signals }')
    .action(async (logfile: string, options: { dbc: string; json?: boolean }) => {
      // `enginechain can decode … | head`: the reader leaving is the end of the output, not an
      // error (Node ignores SIGPIPE and would otherwise throw EPIPE with a stack trace). The
      // listener stays for the command's life: a last write may fail after the action returned.
      const readerGone = new AbortController();
      const onStdoutError = (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
        readerGone.abort();
      };
      process.stdout.on('error', onStdoutError);
      const lines: string[] = [];
      const flush = () => {
        if (lines.length && !readerGone.signal.aborted) {
          process.stdout.write(lines.join('\n') + '\n');
        }
        lines.length = 0;
      };
      try {
        const summary = await runCanDecode(options.dbc, logfile, {
          signal: readerGone.signal,
          json: options.json === true,
          emit: (line) => {
            lines.push(line);
            if (lines.length >= 1000) flush();
          },
        });
        flush();
        const bad = summary.log.bad
          ? `, ${summary.log.bad} bad lines (first at line ${summary.log.firstBad[0]?.line}: ${summary.log.firstBad[0]?.message})`
          : '';
        process.stderr.write(
          `enginechain can decode: ${summary.decoded} frames decoded, ${summary.unknown} not in the DBC, ${summary.short} short${bad}\n`,
        );
      } catch (err) {
        flush();
        if (!(err instanceof CanCommandError)) throw err;
        process.stderr.write(`enginechain can decode: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
