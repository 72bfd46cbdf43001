import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import {
  SLCAN_BITRATES,
  SLCAN_TIMESTAMP_WRAP_MS,
  SlcanTokenizer,
  encodeMessage,
  encodeSlcanFrame,
  parseSlcanFrame,
  readCandump,
  replayCandump,
  type CanFrame,
  type DbcDatabase,
  type DbcMessage,
} from '@enginechain/firmware-bridge';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.js';
import type { VehicleStateProvider } from '../vehicle/state.js';
import { loadSimVehicleDbc, simVehicleSignals } from './sim-vehicle.js';

export interface SlcanDeviceOptions {
  /**
   * Stream the simulated car: each message of `dbc` is sent at its `GenMsgCycleTime` (100 ms
   * when it has none), encoded from `simVehicleSignals(vehicle())`.
   */
  readonly vehicle?: VehicleStateProvider;
  /** Or replay a candump log (`speed` as in `replayCandump`; `loop` starts over at the end). */
  readonly replay?: { readonly path: string; readonly speed?: number; readonly loop?: boolean };
  /** DBC used with `vehicle`; default hardware/data/sim-vehicle.dbc. */
  readonly dbc?: DbcDatabase;
  /** Reply to `V`; default `V1013` (a CANUSB answer). */
  readonly version?: string;
  /** Reply to `N`; default `NSIM1`. */
  readonly serialNumber?: string;
  readonly timestampWrapMs?: number;
}

export interface SlcanDeviceState {
  /** Channel open (`O` or `L`): frames flow only then, as on a real adapter. */
  open: boolean;
  listenOnly: boolean;
  /** Bit/s chosen by `S<n>`; undefined until set. */
  bitrate: number | undefined;
  timestamps: boolean;
}

export interface SlcanDevice {
  /** The pty the client opens (the host end), stable across `unplug()`/`replug()`. */
  readonly ptyPath: string;
  readonly state: SlcanDeviceState;
  /** Frames the host transmitted (`t`/`T`/`r`/`R` answered `z`/`Z`). */
  readonly received: CanFrame[];
  readonly counters: {
    framesSent: number;
    framesDropped: number;
    commands: number;
    errorReplies: number;
  };
  /** Writes raw bytes to the host, as line noise would. */
  injectGarbage(bytes: Uint8Array | string): void;
  /** Answers the next `n` commands with BEL whatever they are. */
  failNextCommands(n: number): void;
  /** Answers every command starting with `prefix` (e.g. `S8`, `Z1`, `t`) with BEL; undefined stops. */
  refuseCommands(prefix: string | undefined): void;
  /** Pulls the USB plug: the pty disappears, the client sees a disconnect. */
  unplug(): Promise<void>;
  /** Plugs it back in at the same path, freshly reset (channel closed, no bitrate). */
  replug(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Received frames waiting for the host, as in an adapter's RX FIFO: when nobody reads, the FIFO
 * fills and newer frames are lost (status flag bit 0), exactly what a CANable or CANUSB does.
 */
const RX_FIFO_FRAMES = 256;
const TICK_MS = 5;

/**
 * An SLCAN (Lawicel) USB-CAN adapter on a pseudo-terminal: answers V, N, S0–S8, s, O, L, C,
 * Z0/Z1, F, M/m and t/T/r/R, with BEL for what the state does not allow, and streams frames
 * from the simulated car or a candump replay while the channel is open. The simulator CLI
 * starts it; tests use it against `SlcanSource`.
 */
export async function startSlcanDevice(options: SlcanDeviceOptions = {}): Promise<SlcanDevice> {
  if (options.vehicle && options.replay) throw new TypeError('give vehicle or replay, not both');
  if (options.vehicle !== undefined && typeof options.vehicle !== 'function') {
    throw new TypeError('vehicle must be a VehicleStateProvider function');
  }
  const dbc = options.vehicle ? (options.dbc ?? loadSimVehicleDbc()) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'enginechain-slcan-'));
  const version = options.version ?? 'V1013';
  const serialNumber = options.serialNumber ?? 'NSIM1';
  const wrapMs = options.timestampWrapMs ?? SLCAN_TIMESTAMP_WRAP_MS;
  const state: SlcanDeviceState = {
    open: false,
    listenOnly: false,
    bitrate: undefined,
    timestamps: false,
  };
  const received: CanFrame[] = [];
  const counters = { framesSent: 0, framesDropped: 0, commands: 0, errorReplies: 0 };
  let failNext = 0;
  let refused: string | undefined;
  let pty: PtyPair | undefined;
  let port: SerialPort | undefined;
  let closed = false;
  const started = performance.now();

  // Output goes through a write descriptor of our own, non-blocking, drained on a timer. Not
  // through SerialPort.write: once a pty is full (a client was SIGKILLed mid-read while the pty
  // pair's holder keeps the link up, so the kernel buffers fill), its write waits for a poll
  // "writable" wake-up that a pty does not always deliver after the next client flushes the
  // line, and every later reply then waits behind it forever: the adapter "stops answering".
  // Retrying on a tick cannot miss a wake-up. Replies and injected bytes are never dropped and go
  // out before frames; frames wait in a bounded FIFO like a real adapter's.
  let writeFd: number | undefined;
  const urgent: Buffer[] = [];
  const fifo: string[] = [];
  let partial: Buffer | undefined;
  const pump = () => {
    if (writeFd === undefined) return;
    for (;;) {
      if (!partial) {
        if (urgent.length > 0) partial = urgent.shift();
        else if (fifo.length > 0)
          partial = Buffer.from(fifo.splice(0, fifo.length).join(''), 'latin1');
        else return;
      }
      const chunk: Buffer = partial!;
      let written: number;
      try {
        written = writeSync(writeFd, chunk);
      } catch (err) {
        // EAGAIN: the line is full, try again on the next tick. Anything else: the pty is gone.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          partial = undefined;
          urgent.length = 0;
          fifo.length = 0;
        }
        return;
      }
      partial = written < chunk.length ? chunk.subarray(written) : undefined;
      if (partial) return;
    }
  };
  const write = (text: string | Buffer): boolean => {
    if (writeFd === undefined) return false;
    urgent.push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
    pump();
    return true;
  };
  const sendFrame = (frame: CanFrame) => {
    if (!state.open || frame.fd) return;
    if (writeFd === undefined || fifo.length >= RX_FIFO_FRAMES) {
      counters.framesDropped++;
      return;
    }
    const deviceTime = state.timestamps ? (performance.now() - started) % wrapMs : undefined;
    fifo.push(`${encodeSlcanFrame(frame, deviceTime)}\r`);
    counters.framesSent++;
  };
  const pumpTimer = setInterval(pump, TICK_MS);

  const answer = (line: string): string => {
    const BEL = '\x07';
    if (failNext > 0) {
      failNext--;
      return BEL;
    }
    if (refused !== undefined && line.startsWith(refused)) return BEL;
    const c = line[0];
    switch (c) {
      case 'V':
        return line === 'V' ? `${version}\r` : BEL;
      case 'v':
        return 'v0100\r';
      case 'N':
        return line === 'N' ? `${serialNumber}\r` : BEL;
      case 'S': {
        const code = Number(line.slice(1));
        if (state.open || line.length !== 2 || !(code >= 0 && code < SLCAN_BITRATES.length))
          return BEL;
        state.bitrate = SLCAN_BITRATES[code];
        return '\r';
      }
      case 's':
        if (state.open || !/^s[0-9A-Fa-f]{4}$/.test(line)) return BEL;
        state.bitrate = 0; // custom BTR0/BTR1 timing
        return '\r';
      case 'O':
      case 'L':
        if (state.open || state.bitrate === undefined || line.length !== 1) return BEL;
        state.open = true;
        state.listenOnly = c === 'L';
        return '\r';
      case 'C':
        if (!state.open || line.length !== 1) return BEL;
        state.open = false;
        return '\r';
      case 'Z':
        if (state.open || (line !== 'Z0' && line !== 'Z1')) return BEL;
        state.timestamps = line === 'Z1';
        return '\r';
      case 'F':
        // Bit 0: RX FIFO full, frames are being lost.
        if (!state.open || line !== 'F') return BEL;
        return fifo.length >= RX_FIFO_FRAMES ? 'F01\r' : 'F00\r';
      case 'M':
      case 'm':
        return !state.open && /^[Mm][0-9A-Fa-f]{8}$/.test(line) ? '\r' : BEL;
      case 't':
      case 'T':
      case 'r':
      case 'R': {
        const f = state.open && !state.listenOnly ? parseSlcanFrame(line) : undefined;
        if (!f || f.deviceTimeMs !== undefined) return BEL;
        received.push(
          f.rtr
            ? {
                id: f.id,
                extended: f.extended,
                rtr: true,
                fd: false,
                data: f.data,
                time: Date.now(),
                dlc: f.dlc,
              }
            : {
                id: f.id,
                extended: f.extended,
                rtr: false,
                fd: false,
                data: f.data,
                time: Date.now(),
              },
        );
        return c === 't' || c === 'r' ? 'z\r' : 'Z\r';
      }
      default:
        return BEL;
    }
  };

  const plugIn = async () => {
    pty = await openPtyPair({ dir });
    const p = new SerialPort({ path: pty.devicePath, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
    p.on('error', () => {}); // EIO once the host end goes away; unplug()/close() handle it
    writeFd = openSync(
      pty.devicePath,
      constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK,
    );
    const tokenizer = new SlcanTokenizer();
    p.on('data', (chunk: Buffer) => {
      for (const token of tokenizer.push(chunk)) {
        if (token.kind !== 'line' || token.text === '') continue; // bare CRs flush, as on CANUSB
        counters.commands++;
        const reply = answer(token.text);
        if (reply === '\x07') counters.errorReplies++;
        write(reply);
      }
    });
    port = p;
    Object.assign(state, { open: false, listenOnly: false, bitrate: undefined, timestamps: false });
  };

  const unplugNow = async () => {
    const p = port;
    port = undefined;
    state.open = false;
    if (writeFd !== undefined) closeSync(writeFd);
    writeFd = undefined;
    partial = undefined;
    urgent.length = 0;
    fifo.length = 0;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
    await pty?.close();
    pty = undefined;
  };

  await plugIn();
  const ptyPath = join(dir, 'host');

  // Streaming: the vehicle on a fixed tick, or a replay pump.
  let timer: NodeJS.Timeout | undefined;
  let replayDone: Promise<void> | undefined;
  if (options.vehicle && dbc) {
    const vehicle = options.vehicle;
    const due = new Map<DbcMessage, number>();
    timer = setInterval(() => {
      if (!state.open) return;
      const now = performance.now();
      let snapshot: ReturnType<VehicleStateProvider> | undefined;
      for (const message of dbc.messages) {
        if ((due.get(message) ?? 0) > now) continue;
        due.set(message, now + (message.cycleTimeMs ?? 100));
        snapshot ??= vehicle();
        const values = simVehicleSignals(snapshot)[message.name];
        if (!values) continue;
        const data = encodeMessage(message, values, { clamp: true });
        sendFrame({
          id: message.id,
          extended: message.extended,
          rtr: false,
          fd: false,
          data,
          time: Date.now(),
        });
      }
    }, TICK_MS);
  } else if (options.replay) {
    const replay = options.replay;
    replayDone = (async () => {
      do {
        for await (const { frame } of replayCandump(readCandump(replay.path), {
          speed: replay.speed ?? 1,
        })) {
          if (closed) return;
          // A replay faster than the link can carry would only fill the FIFO: yield a little.
          if (fifo.length > RX_FIFO_FRAMES / 2) await new Promise((r) => setTimeout(r, 1));
          sendFrame(frame);
        }
      } while (replay.loop && !closed);
    })().catch(() => {});
  }

  return {
    ptyPath,
    state,
    received,
    counters,
    injectGarbage(bytes) {
      write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));
    },
    failNextCommands(n) {
      failNext = n;
    },
    refuseCommands(prefix) {
      refused = prefix;
    },
    unplug: unplugNow,
    async replug() {
      if (closed) throw new Error('device closed');
      if (!pty) await plugIn();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearInterval(pumpTimer);
      await unplugNow();
      await replayDone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
