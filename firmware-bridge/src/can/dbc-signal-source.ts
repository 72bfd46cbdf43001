import { DbcDecoder } from '../dbc/decode.js';
import type { DbcDatabase } from '../dbc/types.js';
import { AdapterError } from '../source/errors.js';
import { ReadingQueue } from '../source/reading-queue.js';
import type { Reading, SignalSource } from '../source/types.js';
import type { CanFrameSource } from './frame-source.js';

/** How one VSS signal is read from one DBC message. */
export interface VssSignalMapping {
  /** DBC message name, e.g. `WHEEL_SPEEDS`. */
  readonly message: string;
  /** One DBC signal, or several whose physical values add up (Toyota STEER_ANGLE + STEER_FRACTION). */
  readonly signals: string | readonly string[];
  /** COVESA VSS path, e.g. `Vehicle.Speed`. */
  readonly name: string;
  /** VSS unit of the result, e.g. `km/h`. */
  readonly unit: string;
  /** Multiplies the (summed) DBC value to reach the VSS unit; default 1. */
  readonly scale?: number;
  /** Maps a DBC value to a VSS value (e.g. a gear code to VSS SelectedGear); unmapped values are dropped. */
  readonly values?: ReadonlyMap<number, number | string | boolean>;
}

/**
 * Toyota (opendbc toyota_new_mc_pt / _toyota_2017) signals with a VSS meaning, as checked on
 * the RAV4 capture in firmware-bridge/vectors/can. Not mapped: KINEMATICS.ACCEL_X, whose sign
 * the capture contradicts (see that README).
 */
export const TOYOTA_VSS_MAPPING: readonly VssSignalMapping[] = [
  { message: 'SPEED', signals: 'SPEED', name: 'Vehicle.Speed', unit: 'km/h' },
  {
    message: 'ENGINE_RPM',
    signals: 'RPM',
    name: 'Vehicle.Powertrain.CombustionEngine.Speed',
    unit: 'rpm',
  },
  {
    message: 'STEER_ANGLE_SENSOR',
    signals: ['STEER_ANGLE', 'STEER_FRACTION'],
    name: 'Vehicle.Chassis.SteeringWheel.Angle',
    unit: 'degrees',
  },
  {
    message: 'WHEEL_SPEEDS',
    signals: 'WHEEL_SPEED_FL',
    name: 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed',
    unit: 'km/h',
  },
  {
    message: 'WHEEL_SPEEDS',
    signals: 'WHEEL_SPEED_FR',
    name: 'Vehicle.Chassis.Axle.Row1.Wheel.Right.Speed',
    unit: 'km/h',
  },
  {
    message: 'WHEEL_SPEEDS',
    signals: 'WHEEL_SPEED_RL',
    name: 'Vehicle.Chassis.Axle.Row2.Wheel.Left.Speed',
    unit: 'km/h',
  },
  {
    message: 'WHEEL_SPEEDS',
    signals: 'WHEEL_SPEED_RR',
    name: 'Vehicle.Chassis.Axle.Row2.Wheel.Right.Speed',
    unit: 'km/h',
  },
  {
    message: 'GAS_PEDAL',
    signals: 'GAS_PEDAL',
    name: 'Vehicle.Chassis.Accelerator.PedalPosition',
    unit: 'percent',
  },
  {
    message: 'PCM_CRUISE_2',
    signals: 'SET_SPEED',
    name: 'Vehicle.ADAS.CruiseControl.SpeedSet',
    unit: 'km/h',
  },
  {
    message: 'GEAR_PACKET',
    signals: 'GEAR',
    name: 'Vehicle.Powertrain.Transmission.SelectedGear',
    unit: '',
    // VSS SelectedGear: 0 neutral, -1 reverse, 126 park, 127 drive. Toyota: D 0, S 1, N 8, R 16, P 32.
    values: new Map([
      [0, 127],
      [1, 127],
      [8, 0],
      [16, -1],
      [32, 126],
    ]),
  },
];

export interface DbcSignalSourceOptions {
  /** Where frames come from: SLCAN, SocketCAN or a candump replay. */
  readonly frames: CanFrameSource;
  readonly database: DbcDatabase;
  readonly mapping: readonly VssSignalMapping[];
}

export interface DbcSignalSourceStats {
  frames: number;
  /** Frames decoded through a mapped message. */
  mapped: number;
  /** Ids not in the DBC (or in it but not mapped): counted, not errors. */
  unmapped: number;
  /** Frames shorter than their message, zero-length ones included. */
  short: number;
  readings: number;
}

interface CompiledMapping {
  readonly name: string;
  readonly unit: string;
  readonly indices: readonly number[];
  readonly scale: number;
  readonly values: ReadonlyMap<number, number | string | boolean> | undefined;
}

/**
 * A `SignalSource` over any CAN frame source: each frame is decoded through the DBC and the
 * mapped signals become VSS readings dated by the frame. Open, close, disconnect and pending
 * reads follow the frame source (a `DisconnectedError` from it reaches the reader, so
 * `ReconnectingSource` can reopen both).
 */
export class DbcSignalSource implements SignalSource {
  readonly id: string;
  private readonly decoder: DbcDecoder;
  private readonly byMessage = new Map<string, CompiledMapping[]>();
  private queue: ReadingQueue | undefined;
  private pump: Promise<void> | undefined;
  stats: DbcSignalSourceStats = { frames: 0, mapped: 0, unmapped: 0, short: 0, readings: 0 };

  constructor(private readonly options: DbcSignalSourceOptions) {
    if (!options?.frames || typeof options.frames.frames !== 'function') {
      throw new AdapterError('bad-input', 'frames must be a CanFrameSource');
    }
    if (!Array.isArray(options.mapping) || options.mapping.length === 0) {
      throw new AdapterError('bad-input', 'mapping must list at least one signal');
    }
    this.decoder = new DbcDecoder(options.database);
    this.id = options.frames.id;
    for (const m of options.mapping) {
      const message = this.decoder.messageByName(m.message);
      if (!message)
        throw new AdapterError('bad-input', `mapping: no message ${m.message} in the DBC`);
      const names: readonly string[] = typeof m.signals === 'string' ? [m.signals] : m.signals;
      const indices = names.map((n) => {
        const i = message.signals.findIndex((s) => s.name === n);
        if (i < 0) throw new AdapterError('bad-input', `mapping: ${m.message} has no signal ${n}`);
        return i;
      });
      const list = this.byMessage.get(message.name) ?? [];
      list.push({ name: m.name, unit: m.unit, indices, scale: m.scale ?? 1, values: m.values });
      this.byMessage.set(message.name, list);
    }
  }

  get isOpen(): boolean {
    return this.options.frames.isOpen && this.queue !== undefined && !this.queue.isEnded;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    await this.options.frames.open();
    const queue = new ReadingQueue();
    this.queue = queue;
    this.stats = { frames: 0, mapped: 0, unmapped: 0, short: 0, readings: 0 };
    this.pump = this.run(queue, this.stats);
  }

  async close(): Promise<void> {
    const queue = this.queue;
    if (queue && !queue.isEnded) {
      queue.end();
      while (!(await queue.next().catch(() => ({ done: true }))).done);
    }
    await this.options.frames.close();
    await this.pump;
    this.pump = undefined;
  }

  readings(): AsyncIterable<Reading> {
    if (!this.queue) throw new AdapterError('bad-input', `${this.id}: readings() before open()`);
    return this.queue;
  }

  private async run(queue: ReadingQueue, stats: DbcSignalSourceStats): Promise<void> {
    const out = new Float64Array(512);
    try {
      for await (const frame of this.options.frames.frames()) {
        if (queue.isEnded) break;
        stats.frames++;
        const message = frame.rtr
          ? undefined
          : this.decoder.decodeInto(frame.id, frame.extended, frame.data, out);
        const mappings = message && this.byMessage.get(message.name);
        if (!message || !mappings) {
          stats.unmapped++;
          continue;
        }
        if (frame.data.length < message.length) stats.short++;
        stats.mapped++;
        for (const m of mappings) {
          let sum = 0;
          for (const i of m.indices) sum += out[i] as number;
          if (Number.isNaN(sum)) continue;
          let value: number | string | boolean = sum * m.scale;
          if (m.values) {
            const mapped = m.values.get(sum);
            if (mapped === undefined) continue;
            value = mapped;
          }
          stats.readings++;
          queue.push({ name: m.name, value, unit: m.unit, time: frame.time, source: this.id });
        }
      }
      queue.end();
    } catch (err) {
      if (queue.isEnded) return;
      queue.fail(err);
    }
  }
}
