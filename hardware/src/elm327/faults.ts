import { EventEmitter } from 'node:events';

/** Status replies an adapter gives instead of data, injectable one request at a time. */
export const ELM_STATUS_FAULTS = [
  'NO DATA',
  'CAN ERROR',
  'BUFFER FULL',
  'STOPPED',
  'BUS INIT: ...ERROR',
  'UNABLE TO CONNECT',
  '?',
] as const;

export type ElmStatusFault = (typeof ELM_STATUS_FAULTS)[number];

/**
 * Fault injection for the ELM327 emulator, changeable at any time while it runs (tests, the
 * simulator CLI). Shared by every connection of one server, like the car is.
 */
export class Elm327Faults extends EventEmitter<{ drop: []; unplug: [number] }> {
  /** Extra delay before every reply, ms (a slow clone, a congested Wi-Fi link). */
  delayMs = 0;
  /** Service 01 PIDs answered `NO DATA` even though the ECU lists them as supported. */
  readonly noDataPids = new Set<number>();
  /** Print `SEARCHING...` before the first OBD reply after a reset with ATSP0 (real ELMs do). */
  searching = true;
  /** Stop answering altogether (reads nothing back): what a hung adapter does. */
  silent = false;
  /**
   * Send each reply in pieces of this many bytes, one event-loop turn apart, so the client
   * reads lines split anywhere (what a UART or a Wi-Fi module does). 0: one write.
   */
  fragmentBytes = 0;
  /** Bytes of line noise to send before the next reply (never `>` or CR). */
  private garbage = 0;
  /** … and before the next replies to particular commands: [command, bytes] in order. */
  private garbageFor: [command: string, bytes: number][] = [];
  private readonly statusQueue: ElmStatusFault[] = [];
  private dtcOverride: string[] | undefined;
  private pending: string[] = [];
  /** Codes ever stored: service 0A keeps them through a service 04 clear, as cars do. */
  private readonly permanent = new Set<string>();

  /** The next `count` OBD requests get `status` instead of data. */
  failNext(status: ElmStatusFault, count = 1): this {
    if (!ELM_STATUS_FAULTS.includes(status)) throw new RangeError(`unknown status ${status}`);
    for (let i = 0; i < count; i++) this.statusQueue.push(status);
    return this;
  }

  /** Sends `bytes` random non-prompt bytes before the next reply. */
  injectGarbage(bytes = 16): this {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new RangeError('bytes must be > 0');
    this.garbage += bytes;
    return this;
  }

  /**
   * Sends `bytes` random non-prompt bytes before each of the next `count` replies to
   * `command` (as sent, e.g. `0100`): noise at a chosen step of an exchange, such as the
   * client's start-up.
   */
  injectGarbageBefore(command: string, bytes = 16, count = 1): this {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new RangeError('bytes must be > 0');
    if (!(Number.isInteger(count) && count > 0)) throw new RangeError('count must be > 0');
    for (let i = 0; i < count; i++) this.garbageFor.push([command.toUpperCase(), bytes]);
    return this;
  }

  /** Closes every current connection (TCP) or the pty's device end, like a pulled adapter. */
  drop(): void {
    this.emit('drop');
  }

  /**
   * The adapter is gone for `forMs`, then back: the pty disappears and comes back at the same
   * path; TCP connections are reset and new ones are closed at once until then.
   */
  unplug(forMs: number): void {
    if (!(forMs >= 0)) throw new RangeError('forMs must be >= 0');
    this.emit('unplug', forMs);
  }

  /** Replace the vehicle's stored DTCs (service 03) until `useVehicleDtcs()`. */
  setDtcs(codes: readonly string[], pending: readonly string[] = []): this {
    this.dtcOverride = [...codes];
    this.pending = [...pending];
    for (const code of codes) this.permanent.add(code);
    return this;
  }

  /**
   * As a scan tool's service 04 does: no stored or pending codes until set again. Permanent
   * codes (service 0A) stay: only the car's own monitors may erase them (J1979, CARB).
   */
  clearDtcs(): this {
    this.dtcOverride = [];
    this.pending = [];
    return this;
  }

  useVehicleDtcs(): this {
    this.dtcOverride = undefined;
    this.pending = [];
    return this;
  }

  /** @internal The stored DTCs the car reports now. */
  storedDtcs(vehicle: readonly string[]): readonly string[] {
    return this.dtcOverride ?? vehicle;
  }

  /** @internal */
  pendingDtcs(): readonly string[] {
    return this.pending;
  }

  /** @internal The permanent DTCs (service 0A): the car's own and every code ever stored. */
  permanentDtcs(vehicle: readonly string[]): readonly string[] {
    return [...new Set([...vehicle, ...this.permanent])];
  }

  /** @internal Takes the next injected status reply, if any. */
  takeStatus(): ElmStatusFault | undefined {
    return this.statusQueue.shift();
  }

  /** @internal Takes the garbage byte count pending before the reply to `command`. */
  takeGarbage(command: string): number {
    let n = this.garbage;
    this.garbage = 0;
    const i = this.garbageFor.findIndex(([c]) => c === command.toUpperCase());
    if (i >= 0) n += this.garbageFor.splice(i, 1)[0]![1];
    return n;
  }
}
