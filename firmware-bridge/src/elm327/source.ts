import { signalInfo } from '@enginechain/shared';
import { decodeMode01Pid, mode01Pid, ObdError } from '../obd/index.js';
import { AdapterError, DisconnectedError, NoDataError } from '../source/errors.js';
import { ReadingQueue } from '../source/reading-queue.js';
import type { Reading, SignalSource } from '../source/types.js';
import { Elm327Client, type Elm327ClientOptions, type Elm327Identity } from './client.js';

/** Signals polled when none are configured: what an insurer's evidence needs first. */
export const DEFAULT_ELM327_SIGNALS: readonly string[] = [
  'Vehicle.Speed',
  'Vehicle.Powertrain.CombustionEngine.Speed',
  'Vehicle.OBD.ThrottlePosition',
  'Vehicle.OBD.EngineLoad',
  'Vehicle.Powertrain.CombustionEngine.ECT',
  'Vehicle.OBD.MAF',
];

export interface Elm327SourceOptions extends Elm327ClientOptions {
  /**
   * VSS names to poll, as a list (each as often as the adapter allows) or with a rate in Hz
   * each. Service 01 signals, plus `Vehicle.LowVoltageBattery.CurrentVoltage` (ATRV),
   * `Vehicle.OBD.DTCList` (service 03) and `Vehicle.VehicleIdentification.VIN` (read once at
   * open). Default `DEFAULT_ELM327_SIGNALS`.
   */
  readonly signals?: readonly string[] | Readonly<Record<string, number>>;
  /** PIDs per service 01 request on CAN, 1-6. Default 6. */
  readonly maxPidsPerRequest?: number;
  /** Consecutive timeouts after which the adapter counts as gone. Default 3. */
  readonly maxConsecutiveTimeouts?: number;
  /** Host clock for `Reading.time`; injectable for tests. */
  readonly now?: () => number;
}

/** Counters of the current (or last) open, for logs and metrics. */
export interface Elm327SourceStats {
  requests: number;
  readings: number;
  /** Errors by `AdapterError`/`ObdError` code (`no-data`, `bus-error`, `truncated` ...). */
  errors: Record<string, number>;
  /** Configured signals the car does not support (left out of polling). */
  unsupported: string[];
}

interface Task {
  /** A service 01 PID, or a special request. */
  readonly kind: 'pid' | 'battery' | 'dtcs';
  readonly pid: number;
  readonly periodMs: number;
  /** The signals of this task the caller asked for (a PID may carry several). */
  readonly wanted: ReadonlySet<string> | undefined;
  due: number;
}

const BATTERY = 'Vehicle.LowVoltageBattery.CurrentVoltage';
const DTCS = 'Vehicle.OBD.DTCList';
const VIN = 'Vehicle.VehicleIdentification.VIN';

/**
 * A `SignalSource` polling an ELM327 (USB or Wi-Fi) for configured VSS signals.
 *
 * - `open()` connects and initialises the adapter, reads the supported PIDs and the VIN, and
 *   starts polling; it rejects with `AdapterError('no-adapter')` when nothing answers, and
 *   with `AdapterError('unsupported')` when the car supports none of the signals.
 * - Polling sends one request at a time, back to back (or at the configured rates), grouping
 *   up to six PIDs per request on CAN with the response-count suffix. Each answering ECU's
 *   values become readings timed at the host clock when the reply arrived.
 * - Per-request trouble (`NO DATA`, `CAN ERROR`, `BUFFER FULL`, garbage, a single timeout) is
 *   counted in `stats.errors` and polling goes on. The link lost (port closed, TCP reset) or
 *   `maxConsecutiveTimeouts` timeouts in a row fail the readers with `DisconnectedError`;
 *   wrap in `ReconnectingSource` to reopen with backoff.
 * - `close()` ends pending reads with `done`, is idempotent and never throws.
 */
export class Elm327Source implements SignalSource {
  readonly id: string;
  private client: Elm327Client | undefined;
  private queue: ReadingQueue | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private stats_: Elm327SourceStats = { requests: 0, readings: 0, errors: {}, unsupported: [] };
  private readonly rates: ReadonlyMap<string, number>;

  constructor(private readonly options: Elm327SourceOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new AdapterError('bad-input', 'options must be an object');
    }
    if (typeof options.port !== 'string' || options.port === '') {
      throw new AdapterError('bad-input', 'port must be a serial path or tcp://host:port');
    }
    const max = options.maxPidsPerRequest ?? 6;
    if (!(Number.isInteger(max) && max >= 1 && max <= 6)) {
      throw new AdapterError('bad-input', 'maxPidsPerRequest must be an integer 1..6');
    }
    const signals = options.signals ?? DEFAULT_ELM327_SIGNALS;
    const entries: [string, number][] = Array.isArray(signals)
      ? (signals as readonly string[]).map((s) => [s, 0])
      : Object.entries(signals as Record<string, number>);
    for (const [name, hz] of entries) {
      if (typeof name !== 'string' || !signalInfo(name)) {
        throw new AdapterError(
          'bad-input',
          `signals: ${String(name)} is not in the signal catalogue`,
        );
      }
      if (!(typeof hz === 'number' && hz >= 0 && Number.isFinite(hz))) {
        throw new AdapterError('bad-input', `signals.${name} must be a rate in Hz >= 0`);
      }
      const info = signalInfo(name)!;
      if (
        !info.obd?.some((k) => k.startsWith('01:') || k === 'ATRV' || k === '03' || k === '09:02')
      ) {
        throw new AdapterError('bad-input', `signals: ${name} is not read from an ELM327`);
      }
    }
    this.rates = new Map(entries);
    this.id = `elm327:${options.port}`;
  }

  get isOpen(): boolean {
    return this.queue !== undefined && !this.queue.isEnded && this.client !== undefined;
  }

  get stats(): Elm327SourceStats {
    return this.stats_;
  }

  /** Adapter and protocol of the current connection. */
  get identity(): Elm327Identity | undefined {
    return this.client?.identity;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    this.stopping = false;
    this.stats_ = { requests: 0, readings: 0, errors: {}, unsupported: [] };
    const client = await Elm327Client.connect(this.options);
    try {
      const tasks = this.plan(client);
      const queue = new ReadingQueue();
      this.client = client;
      this.queue = queue;
      if (this.rates.has(VIN)) {
        const vin = await client.readVin().catch((err: unknown) => this.count(err));
        if (typeof vin === 'string') this.push(queue, VIN, vin, '');
      }
      this.loop = this.run(client, queue, tasks);
    } catch (err) {
      this.client = undefined;
      await client.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const queue = this.queue;
    if (queue && !queue.isEnded) queue.end({ discard: true });
    const client = this.client;
    this.client = undefined;
    if (client) await client.close().catch(() => {});
    await this.loop?.catch(() => {});
    this.loop = undefined;
  }

  readings(): AsyncIterable<Reading> {
    if (!this.queue) throw new AdapterError('bad-input', `${this.id}: readings() before open()`);
    return this.queue;
  }

  /** Turns the configured signals into poll tasks, dropping what the car does not support. */
  private plan(client: Elm327Client): Task[] {
    const supported = new Set(client.supportedUnion());
    const byPid = new Map<number, { wanted: Set<string>; periodMs: number }>();
    const tasks: Task[] = [];
    const unsupported: string[] = [];
    for (const [name, hz] of this.rates) {
      const periodMs = hz > 0 ? 1000 / hz : 0;
      if (name === BATTERY) {
        tasks.push({ kind: 'battery', pid: -1, periodMs, wanted: undefined, due: 0 });
        continue;
      }
      if (name === DTCS) {
        tasks.push({ kind: 'dtcs', pid: 0x03, periodMs, wanted: undefined, due: 0 });
        continue;
      }
      if (name === VIN) continue;
      const pids = signalInfo(name)!
        .obd!.filter((k) => k.startsWith('01:'))
        .map((k) => parseInt(k.slice(3, 5), 16))
        .filter((p) => supported.has(p));
      const pid = pids[0];
      if (pid === undefined) {
        unsupported.push(name);
        continue;
      }
      const entry = byPid.get(pid) ?? { wanted: new Set<string>(), periodMs };
      entry.wanted.add(name);
      entry.periodMs = Math.min(entry.periodMs, periodMs);
      byPid.set(pid, entry);
    }
    for (const [pid, { wanted, periodMs }] of byPid) {
      tasks.push({ kind: 'pid', pid, periodMs, wanted, due: 0 });
    }
    this.stats_.unsupported = unsupported;
    if (tasks.length === 0) {
      throw new AdapterError(
        'unsupported',
        `${this.id}: the vehicle supports none of ${[...this.rates.keys()].join(', ')}`,
      );
    }
    return tasks;
  }

  private async run(client: Elm327Client, queue: ReadingQueue, tasks: Task[]): Promise<void> {
    const now = this.options.now ?? Date.now;
    const max = client.isCan ? (this.options.maxPidsPerRequest ?? 6) : 1;
    const maxTimeouts = this.options.maxConsecutiveTimeouts ?? 3;
    let timeouts = 0;
    while (!this.stopping) {
      const t = now();
      const due = tasks.filter((task) => task.due <= t);
      if (due.length === 0) {
        const next = Math.min(...tasks.map((task) => task.due));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, next - t));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      // Fixed-length PIDs share requests; variable-length ones and specials go alone.
      const groupable = due.filter(
        (x) => x.kind === 'pid' && mode01Pid(x.pid)?.bytes !== undefined,
      );
      const batches: Task[][] = [];
      for (let i = 0; i < groupable.length; i += max) batches.push(groupable.slice(i, i + max));
      for (const x of due) if (!groupable.includes(x)) batches.push([x]);
      for (const batch of batches) {
        if (this.stopping) break;
        try {
          await this.execute(client, queue, batch, now);
          timeouts = 0;
        } catch (err) {
          if (this.stopping) break;
          if (err instanceof DisconnectedError || client.isLost) {
            this.fail(queue, err);
            return;
          }
          this.count(err);
          if (err instanceof AdapterError && err.code === 'timeout' && ++timeouts >= maxTimeouts) {
            this.fail(
              queue,
              new DisconnectedError(`${this.id}: ${timeouts} requests in a row got no reply`, {
                cause: err,
              }),
            );
            return;
          }
          if (!(err instanceof AdapterError || err instanceof ObdError)) {
            queue.fail(err);
            return;
          }
        }
        const after = now();
        for (const x of batch) x.due = x.periodMs > 0 ? Math.max(x.due + x.periodMs, after) : 0;
      }
    }
  }

  private async execute(
    client: Elm327Client,
    queue: ReadingQueue,
    batch: readonly Task[],
    now: () => number,
  ): Promise<void> {
    this.stats_.requests++;
    const first = batch[0]!;
    if (first.kind === 'battery') {
      const volts = await client.readBatteryVoltage();
      this.push(queue, BATTERY, volts, 'V', now());
      return;
    }
    if (first.kind === 'dtcs') {
      const codes = await client.readDtcs(0x03);
      this.push(queue, DTCS, codes.join(','), '', now());
      return;
    }
    const answers = await client.readPids(batch.map((x) => x.pid));
    const time = now();
    const wanted = new Map(batch.map((x) => [x.pid, x.wanted]));
    // Several ECUs may answer the same PID (engine and transmission both give speed): keep
    // the first, which on CAN is the highest-priority (lowest id) ECU, so one request gives
    // one reading per signal.
    const done = new Set<number>();
    for (const { pids } of answers) {
      for (const { pid, data } of pids) {
        const names = wanted.get(pid);
        // A PID we did not ask for is a reply to something else (a late or garbled reply).
        if (!names || done.has(pid)) continue;
        done.add(pid);
        try {
          for (const v of decodeMode01Pid(pid, data)) {
            if (names.has(v.name)) this.push(queue, v.name, v.value, v.unit, time);
          }
        } catch (err) {
          this.count(err);
        }
      }
    }
    if (done.size === 0) throw new NoDataError('no ECU answered the requested PIDs');
  }

  private push(
    queue: ReadingQueue,
    name: string,
    value: number | string | boolean,
    unit: string,
    time = (this.options.now ?? Date.now)(),
  ): void {
    this.stats_.readings++;
    queue.push({ name, value, unit, time, source: this.id });
  }

  private count(err: unknown): undefined {
    const code = err instanceof AdapterError || err instanceof ObdError ? err.code : 'unexpected';
    this.stats_.errors[code] = (this.stats_.errors[code] ?? 0) + 1;
    return undefined;
  }

  private fail(queue: ReadingQueue, err: unknown): void {
    const client = this.client;
    this.client = undefined;
    void client?.close().catch(() => {});
    queue.fail(
      err instanceof DisconnectedError
        ? err
        : new DisconnectedError(`${this.id}: link lost`, { cause: err }),
    );
  }
}
