import { InvalidArgumentError, type Command } from 'commander';
import { decodeVin, VinError } from '@enginechain/shared';
import { Elm327Client } from '../elm327/client.js';
import { decodeMode01Pid, mode01Pid, ObdError, pidHex } from '../obd/index.js';
import { AdapterError } from '../source/errors.js';

export interface ObdReport {
  readonly adapter: string;
  readonly protocol: string;
  readonly vin: string | null;
  readonly supportedPids: string[];
  readonly signals: Record<string, { value: number | string | boolean; unit: string }>;
  readonly dtcs: string[];
}

export interface ObdCheckOptions {
  readonly port: string;
  readonly baudRate?: number;
  readonly protocol?: string;
  readonly timeoutMs?: number;
}

/** What to check when nothing answers: the installer's first question. */
export const NO_ADAPTER_ADVICE =
  'check the port (ls /dev/ttyUSB* /dev/serial/by-id; tcp://192.168.0.10:35000 for Wi-Fi adapters), ' +
  'that the adapter is powered (plugged into the OBD-II socket, its LED on), ' +
  'the baud rate (--baud 38400, 9600 or 115200) and that the ignition is on';

/**
 * Connects, identifies adapter, protocol and car, and reads every supported service 01 PID
 * once (six per request on CAN), the stored DTCs and the battery voltage. What
 * `enginechain obd` prints; exported so tests and the installer can run it in-process.
 */
export async function runObdCheck(options: ObdCheckOptions): Promise<ObdReport> {
  const client = await Elm327Client.connect({
    port: options.port,
    ...(options.baudRate === undefined ? {} : { baudRate: options.baudRate }),
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  try {
    const { adapter, protocol } = client.identity;
    const pids = client.supportedUnion();
    const vin = await client.readVin().catch(() => null);
    const signals: ObdReport['signals'] = {};
    const fixed = pids.filter((p) => mode01Pid(p)?.bytes !== undefined);
    const alone = pids.filter((p) => !fixed.includes(p));
    const perRequest = client.isCan ? 6 : 1;
    const batches: number[][] = [];
    for (let i = 0; i < fixed.length; i += perRequest) batches.push(fixed.slice(i, i + perRequest));
    for (const p of alone) batches.push([p]);
    for (const batch of batches) {
      const answers = await client.readPids(batch).catch((err: unknown) => {
        if (err instanceof AdapterError && err.code !== 'disconnected') return [];
        throw err;
      });
      for (const { pids: data } of answers) {
        for (const { pid, data: bytes } of data) {
          try {
            for (const v of decodeMode01Pid(pid, bytes)) {
              // The first (highest-priority) ECU's value wins when several answer.
              signals[v.name] ??= { value: v.value, unit: v.unit };
            }
          } catch {
            // A PID that does not decode is left out of the report, not fatal.
          }
        }
      }
    }
    const volts = await client.readBatteryVoltage().catch(() => undefined);
    if (volts !== undefined) {
      signals['Vehicle.LowVoltageBattery.CurrentVoltage'] = { value: volts, unit: 'V' };
    }
    const dtcs = await client.readDtcs(0x03);
    return { adapter, protocol, vin, supportedPids: pids.map(pidHex), signals, dtcs };
  } finally {
    await client.close();
  }
}

function formatReport(r: ObdReport, port: string): string {
  let vinNote = '';
  if (r.vin) {
    try {
      const v = decodeVin(r.vin);
      vinNote = v.manufacturer ? `  (${v.manufacturer})` : '';
    } catch (err) {
      if (err instanceof VinError) vinNote = `  (${err.code}: not a valid VIN)`;
      else throw err;
    }
  }
  const width = Math.max(...Object.keys(r.signals).map((n) => n.length), 10);
  const value = (v: number | string | boolean) =>
    typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v);
  return [
    `adapter    ${r.adapter} on ${port}`,
    `protocol   ${r.protocol}`,
    `VIN        ${r.vin ?? 'not reported'}${vinNote}`,
    `PIDs       ${r.supportedPids.join(' ')}`,
    `DTCs       ${r.dtcs.length ? r.dtcs.join(' ') : 'none'}`,
    'signals',
    ...Object.entries(r.signals).map(
      ([name, s]) => `  ${name.padEnd(width)}  ${value(s.value)}${s.unit ? ' ' + s.unit : ''}`,
    ),
  ].join('\n');
}

function positiveInt(field: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!(Number.isInteger(n) && n > 0))
      throw new InvalidArgumentError(`${field} must be a positive integer`);
    return n;
  };
}

export function registerObdCommand(program: Command): void {
  program
    .command('obd')
    .description(
      'Check an ELM327 OBD-II adapter: adapter, protocol, VIN, supported PIDs, current values, DTCs',
    )
    .requiredOption(
      '--port <port>',
      'serial device (/dev/ttyUSB0) or tcp://host:port (Wi-Fi adapters)',
    )
    .option('--baud <n>', 'serial baud rate (default 38400)', positiveInt('--baud'))
    .option('--protocol <p>', 'ATSP protocol: auto or 1..C', 'auto')
    .option('--timeout <ms>', 'reply timeout per request, ms', positiveInt('--timeout'))
    .option('--json', 'print one JSON object')
    .action(
      async (options: {
        port: string;
        baud?: number;
        protocol: string;
        timeout?: number;
        json?: boolean;
      }) => {
        try {
          const report = await runObdCheck({
            port: options.port,
            protocol: options.protocol,
            ...(options.baud === undefined ? {} : { baudRate: options.baud }),
            ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
          });
          process.stdout.write(
            (options.json ? JSON.stringify(report) : formatReport(report, options.port)) + '\n',
          );
        } catch (err) {
          if (!(err instanceof AdapterError || err instanceof ObdError)) throw err;
          const advice =
            err.code === 'no-adapter' || err.code === 'bus-error' ? `: ${NO_ADAPTER_ADVICE}` : '';
          const message = `no working OBD-II link on ${options.port} (${err.message})${advice}`;
          if (options.json) {
            process.stdout.write(JSON.stringify({ error: message, code: err.code }) + '\n');
          }
          process.stderr.write(`enginechain obd: ${message}\n`);
          process.exitCode = 1;
        }
      },
    );
}
