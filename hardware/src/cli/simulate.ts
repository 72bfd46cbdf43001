import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseTcpAddress } from '@enginechain/firmware-bridge';
import { startImuEmulator } from '../imu/emulator.js';
import type { LineEmitter } from '../nmea/line-emitter.js';
import { startNmeaEmulator } from '../nmea/emulator.js';
import { VehicleClock } from '../vehicle/clock.js';
import { loadDriveCycle } from '../vehicle/drive-cycle.js';
import { SimulatorError } from '../vehicle/errors.js';
import { startSlcanDevice } from '../slcan/slcan-device.js';
import { startElm327Server } from '../elm327/server.js';
import { VehicleSimulator, type DtcInjection } from '../vehicle/simulator.js';

export interface SimulationOptions {
  /** `udds`, `hwfet`, `us06`, `nycc` or a CSV path. */
  readonly cycle: string;
  readonly speedup?: number;
  /** Wall seconds the vehicle idles at t = 0 before the cycle starts. */
  readonly holdS?: number;
  readonly crashAtS?: number;
  readonly seed?: number;
  readonly noise?: boolean;
  readonly dtcs?: readonly DtcInjection[];
  /** Serve NMEA, IMU, SLCAN and an ELM327 on ptys. */
  readonly pty?: boolean;
  /** Serve the ELM327 on TCP too, e.g. { host: '127.0.0.1', port: 35000 } (port 0: any). */
  readonly elm327Tcp?: { readonly host: string; readonly port: number };
  /** Faults of the emulated ELM327, for installers and tests to see the agent cope. */
  readonly elm327Faults?: {
    /** Extra delay before every reply, ms. */
    readonly delayMs?: number;
    /** Service 01 PIDs answered NO DATA. */
    readonly noDataPids?: readonly number[];
    /** Every this many wall seconds, 16 bytes of line noise before a reply. */
    readonly garbageEveryS?: number;
    /** Every this many wall seconds, the adapter drops off for 1 s (TCP reset, pty unplugged). */
    readonly dropEveryS?: number;
  };
  readonly nmeaRateHz?: number;
  readonly imuRateHz?: number;
  /** Fault injection passed to the NMEA and IMU emulators. */
  readonly badChecksumRate?: number;
}

/** Where each emulated interface can be reached. */
export interface SimulationInterfaces {
  nmea?: string;
  imu?: string;
  /** SLCAN adapter pty streaming the car's frames (hardware/data/sim-vehicle.dbc). */
  slcan?: string;
  /** ELM327 adapter: `tcp://host:port` (Wi-Fi style) … */
  elm327?: string;
  /** … and a pty (USB style). */
  elm327Pty?: string;
}

export interface RunningSimulation {
  readonly simulator: VehicleSimulator;
  readonly clock: VehicleClock;
  readonly interfaces: SimulationInterfaces;
  /** Resolves when the cycle has played to its end (interfaces then closed). */
  readonly finished: Promise<void>;
  /** Closes every interface; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the vehicle and every requested interface, all answering from one `VehicleClock`.
 * What `enginechain simulate` runs; exported so tests and the demo can run it in-process.
 */
export async function startSimulation(options: SimulationOptions): Promise<RunningSimulation> {
  const simulator = new VehicleSimulator({
    cycle: loadDriveCycle(options.cycle),
    seed: options.seed,
    noise: options.noise,
    crashAtS: options.crashAtS,
    dtcs: options.dtcs,
    startTimeMs: Date.now(),
  });
  const clock = new VehicleClock(simulator, {
    speedup: options.speedup ?? 1,
    holdMs: (options.holdS ?? 0) * 1000,
  });
  const interfaces: SimulationInterfaces = {};
  const closers: (() => Promise<void>)[] = [];
  let endTimer: NodeJS.Timeout | undefined;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      clearTimeout(endTimer);
      for (const close of closers.reverse()) await close().catch(() => {});
      resolveFinished();
    })());
  try {
    if (options.pty) {
      const nmea: LineEmitter = await startNmeaEmulator({
        provider: clock.provider,
        rateHz: options.nmeaRateHz ?? 1,
        badChecksumRate: options.badChecksumRate,
        seed: options.seed,
      });
      closers.push(() => nmea.close());
      interfaces.nmea = nmea.path;
      const imu = await startImuEmulator({
        provider: clock.provider,
        rateHz: options.imuRateHz ?? 100,
        badChecksumRate: options.badChecksumRate,
        seed: options.seed,
      });
      closers.push(() => imu.close());
      interfaces.imu = imu.path;
      const slcan = await startSlcanDevice({ vehicle: clock.provider });
      closers.push(() => slcan.close());
      interfaces.slcan = slcan.ptyPath;
    }
    if (options.pty || options.elm327Tcp) {
      const elm = await startElm327Server({
        vehicle: clock.provider,
        ...(options.elm327Tcp ? { tcp: options.elm327Tcp } : {}),
        pty: options.pty ?? false,
      });
      closers.push(() => elm.close());
      const f = options.elm327Faults;
      if (f?.delayMs) elm.faults.delayMs = f.delayMs;
      for (const pid of f?.noDataPids ?? []) elm.faults.noDataPids.add(pid);
      const every = (seconds: number | undefined, act: () => void) => {
        if (!seconds) return;
        const timer = setInterval(act, seconds * 1000);
        closers.push(async () => clearInterval(timer));
      };
      every(f?.garbageEveryS, () => elm.faults.injectGarbage(16));
      every(f?.dropEveryS, () => elm.faults.unplug(1_000));
      if (elm.url) interfaces.elm327 = elm.url;
      if (elm.ptyPath) interfaces.elm327Pty = elm.ptyPath;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  // Wake at the cycle's end (at least once a second, so a changed clock is noticed).
  const check = () => {
    if (stopped) return;
    if (clock.finished) void stop();
    else endTimer = setTimeout(check, Math.min(1000, Math.max(10, clock.remainingMs())));
  };
  check();
  return { simulator, clock, interfaces, finished, stop };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

/** `tcp://host[:port]`, port 35000 when left out (as `enginechain obd` reads it), 0 for any. */
function tcpUrl(value: string): { host: string; port: number } {
  let address: { host: string; port: number } | undefined;
  try {
    address = parseTcpAddress(value, { listen: true });
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  if (!address) throw new InvalidArgumentError('expected tcp://host[:port]');
  return address;
}

function pidList(value: string): number[] {
  const pids = value.split(',').map((p) => p.trim());
  if (!pids.every((p) => /^[0-9A-Fa-f]{2}$/.test(p)))
    throw new InvalidArgumentError('expected hex PIDs like 0C,0D');
  return pids.map((p) => parseInt(p, 16));
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function dtcAt(value: string, previous: DtcInjection[] = []): DtcInjection[] {
  const m = /^([PCBU][0-3][0-9A-F]{3})@(\d+(?:\.\d+)?)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected CODE@SECONDS, e.g. P0301@120');
  return [...previous, { code: m[1] ?? '', atS: Number(m[2]) }];
}

interface SimulateFlags {
  cycle: string;
  speedup: number;
  hold: number;
  elm327?: { host: string; port: number };
  elm327Delay?: number;
  elm327NoData?: number[];
  elm327GarbageEvery?: number;
  elm327DropEvery?: number;
  crashAt?: number;
  seed: number;
  noise: boolean;
  pty?: boolean;
  json?: boolean;
  nmeaRate: number;
  imuRate: number;
  badChecksumRate: number;
  dtc?: DtcInjection[];
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'Play an EPA drive cycle as one vehicle and serve it as an ELM327 (pty, and TCP with --elm327), an SLCAN adapter, a GNSS receiver (NMEA) and an IMU until the cycle ends',
    )
    .requiredOption('--cycle <name|file>', 'udds, hwfet, us06, nycc, or a t_s,speed_kmh CSV file')
    .option('--speedup <n>', 'simulated seconds per wall second', positiveNumber, 1)
    .option('--crash-at <s>', 'inject a frontal crash at this simulated second', nonNegativeNumber)
    .option(
      '--hold <s>',
      'idle at t = 0 for this many wall seconds before the cycle starts',
      nonNegativeNumber,
      0,
    )
    .option('--seed <n>', 'seed for the road layout, sensor noise and faults', integer, 1)
    .option('--noise', 'Gaussian noise on accelerations and yaw rate (default)')
    .option('--no-noise', 'exact dv/dt, no sensor noise')
    .option('--pty', 'serve NMEA, IMU, SLCAN and ELM327 on pseudo-terminals (default)')
    .option(
      '--elm327 <url>',
      'also serve the ELM327 on TCP (Wi-Fi adapter style), e.g. tcp://127.0.0.1:35000; port 35000 if left out',
      tcpUrl,
    )
    .option(
      '--elm327-delay <ms>',
      'ELM327 fault: extra delay before every reply',
      nonNegativeNumber,
    )
    .option(
      '--elm327-no-data <pids>',
      'ELM327 fault: service 01 PIDs answered NO DATA, e.g. 0C,0D',
      pidList,
    )
    .option(
      '--elm327-garbage-every <s>',
      'ELM327 fault: line noise before a reply every S seconds',
      positiveNumber,
    )
    .option(
      '--elm327-drop-every <s>',
      'ELM327 fault: the adapter drops off for 1 s every S seconds',
      positiveNumber,
    )
    .addOption(
      new Option('--nmea-rate <hz>', 'GNSS epochs per second (1-10)')
        .argParser(positiveNumber)
        .default(1),
    )
    .addOption(
      new Option('--imu-rate <hz>', 'IMU samples per second (≤ 100)')
        .argParser(positiveNumber)
        .default(100),
    )
    .option(
      '--bad-checksum-rate <p>',
      'fault injection: fraction of NMEA/IMU lines with a bad checksum',
      nonNegativeNumber,
      0,
    )
    .option(
      '--dtc <code@s>',
      'store a DTC from a simulated second on (repeatable), e.g. P0301@120',
      dtcAt,
    )
    .option('--json', 'print the interfaces as one JSON line')
    .action(async (flags: SimulateFlags, command: Command) => {
      let running: RunningSimulation;
      try {
        running = await startSimulation({
          cycle: flags.cycle,
          speedup: flags.speedup,
          holdS: flags.hold,
          crashAtS: flags.crashAt,
          seed: flags.seed,
          noise: flags.noise,
          dtcs: flags.dtc,
          pty: flags.pty ?? true,
          ...(flags.elm327 ? { elm327Tcp: flags.elm327 } : {}),
          elm327Faults: {
            ...(flags.elm327Delay ? { delayMs: flags.elm327Delay } : {}),
            ...(flags.elm327NoData ? { noDataPids: flags.elm327NoData } : {}),
            ...(flags.elm327GarbageEvery ? { garbageEveryS: flags.elm327GarbageEvery } : {}),
            ...(flags.elm327DropEvery ? { dropEveryS: flags.elm327DropEvery } : {}),
          },
          nmeaRateHz: flags.nmeaRate,
          imuRateHz: flags.imuRate,
          badChecksumRate: flags.badChecksumRate,
        });
      } catch (err) {
        if (err instanceof SimulatorError || err instanceof RangeError) {
          command.error(`enginechain simulate: ${err.message}`, { exitCode: 1, code: 'simulate' });
        }
        throw err;
      }
      const { simulator, interfaces } = running;
      const summary = {
        cycle: flags.cycle,
        durationS: simulator.durationS,
        speedup: flags.speedup,
        seed: flags.seed,
        vin: simulator.vin,
        ...(simulator.crash ? { crash: simulator.crash } : {}),
        interfaces,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        const lines = [
          `simulating ${flags.cycle}: ${simulator.durationS} s of driving at ×${flags.speedup} (VIN ${simulator.vin})`,
          ...Object.entries(interfaces).map(([name, where]) => `  ${name.padEnd(8)} ${where}`),
          ...(simulator.crash
            ? [
                `  crash    at ${simulator.crash.atS} s, ΔV ${simulator.crash.deltaVKmh.toFixed(1)} km/h`,
              ]
            : []),
          'Ctrl-C to stop',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      const onSignal = () => void running.stop();
      const onRelease = () => running.clock.release();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      process.on('SIGUSR1', onRelease);
      try {
        await running.finished;
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        process.removeListener('SIGUSR1', onRelease);
      }
      if (!flags.json) process.stdout.write('simulation ended\n');
    });
}
