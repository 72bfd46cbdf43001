import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.js';
import { mulberry32 } from '../vehicle/random.js';
import type { VehicleStateProvider } from '../vehicle/state.js';
import { Elm327Faults } from './faults.js';
import { Elm327Session } from './session.js';
import { vehicleEcus } from './vehicle-ecus.js';

export interface Elm327ServerOptions {
  /** The car the adapter is plugged into. */
  readonly vehicle: VehicleStateProvider;
  /** Listen on TCP like a Wi-Fi adapter. Port 35000 by default; 0 picks a free port. */
  readonly tcp?: { readonly host?: string; readonly port?: number };
  /** Serve on a pty pair like a USB adapter; the client opens `ptyPath`. */
  readonly pty?: boolean;
  /** Start with these faults; the same object stays live on the returned server. */
  readonly faults?: Elm327Faults;
  /** What ATI and ATZ report. Default `ELM327 v1.5`. */
  readonly version?: string;
  /** Seeds the garbage bytes of fault injection. */
  readonly seed?: number;
}

export interface Elm327Server {
  /** `tcp://host:port` when serving TCP. */
  readonly url?: string;
  /** The pty a client opens as if it were /dev/ttyUSB0, when serving a pty. */
  readonly ptyPath?: string;
  /** Live fault injection. */
  readonly faults: Elm327Faults;
  /** Commands handled, all connections together. */
  readonly stats: { commands: number; connections: number };
  /** Stops listening, closes connections and the pty. Idempotent. */
  close(): Promise<void>;
}

/** Reads CR-terminated commands from a byte stream and answers each with the session. */
class CommandPump {
  private buffer = '';
  private chain: Promise<void> = Promise.resolve();
  private readonly session: Elm327Session;
  closed = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly faults: Elm327Faults,
    private readonly random: () => number,
    private readonly stats: { commands: number },
    options: { vehicle: VehicleStateProvider; version: string },
  ) {
    this.session = new Elm327Session({
      vehicle: options.vehicle,
      ecus: vehicleEcus(),
      faults,
      version: options.version,
    });
  }

  push(chunk: string): void {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.search(/[\r]/)) >= 0) {
      const line = this.buffer.slice(0, at).replace(/\n/g, '');
      this.buffer = this.buffer.slice(at + 1);
      // Replies go out in order even when one waits for an injected delay.
      this.chain = this.chain.then(() => this.answer(line));
    }
    if (this.buffer.length > 4096) this.buffer = '';
  }

  private async answer(line: string): Promise<void> {
    if (this.closed) return;
    const trimmed = line.trim();
    // An empty line repeats the last command on a real ELM327; nothing to repeat here.
    if (trimmed === '') {
      this.write('\r>');
      return;
    }
    this.stats.commands++;
    if (this.faults.silent) return;
    const reply = this.session.handle(trimmed);
    const delay = this.faults.delayMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.closed) return;
    const garbage = this.faults.takeGarbage(trimmed);
    let noise = '';
    for (let i = 0; i < garbage; i++) {
      let b = Math.floor(this.random() * 256);
      if (b === 0x3e || b === 0x0d) b = 0x07; // never a prompt or a line end
      noise += String.fromCharCode(b);
    }
    const text = noise + reply.text;
    const piece = this.faults.fragmentBytes;
    if (piece <= 0) {
      this.write(text);
      return;
    }
    for (let i = 0; i < text.length; i += piece) {
      if (this.closed) return;
      this.write(text.slice(i, i + piece));
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/**
 * A software ELM327 v1.5 in front of the simulated car, over TCP (a Wi-Fi adapter) and/or a
 * pty (a USB adapter). Each TCP connection and each pty open gets a freshly reset adapter
 * state; faults are shared and can be changed while clients are connected.
 *
 * @example
 * const elm = await startElm327Server({ vehicle: clock.provider, tcp: { port: 0 }, pty: true });
 * // enginechain obd --port ${elm.url}   or   --port ${elm.ptyPath}
 * elm.faults.failNext('CAN ERROR');
 * await elm.close();
 */
export async function startElm327Server(options: Elm327ServerOptions): Promise<Elm327Server> {
  if (typeof options?.vehicle !== 'function') throw new TypeError('vehicle must be a function');
  if (!options.tcp && !options.pty) throw new TypeError('give tcp, pty or both');
  const faults = options.faults ?? new Elm327Faults();
  const version = options.version ?? 'ELM327 v1.5';
  const random = mulberry32(options.seed ?? 1);
  const stats = { commands: 0, connections: 0 };
  const pumpOptions = { vehicle: options.vehicle, version };
  const closers: (() => Promise<void>)[] = [];
  let url: string | undefined;
  let ptyPath: string | undefined;

  try {
    if (options.tcp) {
      const sockets = new Set<Socket>();
      /** Until when the adapter is unplugged: connections made meanwhile are closed at once. */
      let offUntil = 0;
      const server: Server = createServer((socket) => {
        if (Date.now() < offUntil) {
          socket.destroy();
          return;
        }
        stats.connections++;
        sockets.add(socket);
        socket.setNoDelay(true);
        socket.setEncoding('latin1');
        const pump = new CommandPump(
          (text) => void (socket.destroyed || socket.write(text, 'latin1')),
          faults,
          random,
          stats,
          pumpOptions,
        );
        socket.on('data', (chunk: string) => pump.push(chunk));
        socket.on('error', () => {});
        socket.on('close', () => {
          pump.closed = true;
          sockets.delete(socket);
        });
      });
      const host = options.tcp.host ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.tcp!.port ?? 35000, host, () => resolve());
      });
      const drop = () => {
        for (const s of sockets) s.destroy();
      };
      // A Wi-Fi adapter that loses power: connections reset, none taken until it is back.
      const unplug = (forMs: number) => {
        offUntil = Date.now() + forMs;
        drop();
      };
      faults.on('drop', drop);
      faults.on('unplug', unplug);
      const { port } = server.address() as AddressInfo;
      url = `tcp://${host}:${port}`;
      closers.push(async () => {
        faults.off('drop', drop);
        faults.off('unplug', unplug);
        drop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
    }
    if (options.pty) {
      const pty = await servePty(faults, random, stats, pumpOptions);
      ptyPath = pty.path;
      closers.push(() => pty.close());
    }
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => {});
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    ...(url === undefined ? {} : { url }),
    ...(ptyPath === undefined ? {} : { ptyPath }),
    faults,
    stats,
    close: () =>
      (closing ??= (async () => {
        for (const close of closers.reverse()) await close().catch(() => {});
      })()),
  };
}

/**
 * The pty side: the device end opened with serialport as firmware on a USB-serial chip would
 * be. `unplug` kills the pty pair (the client's port gets a hang-up, as when a USB adapter is
 * pulled) and recreates it at the same path after the delay.
 */
async function servePty(
  faults: Elm327Faults,
  random: () => number,
  stats: { commands: number; connections: number },
  pumpOptions: { vehicle: VehicleStateProvider; version: string },
): Promise<{ path: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'enginechain-elm327-'));
  let pair: PtyPair | undefined;
  let port: SerialPort | undefined;
  let pump: CommandPump | undefined;
  let closed = false;
  let replugTimer: NodeJS.Timeout | undefined;

  const plug = async () => {
    pair = await openPtyPair({ dir });
    const p = new SerialPort({ path: pair.devicePath, baudRate: 38400, autoOpen: false });
    await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
    p.setEncoding('latin1');
    stats.connections++;
    const current = new CommandPump(
      (text) => void (p.isOpen && p.write(text, 'latin1')),
      faults,
      random,
      stats,
      pumpOptions,
    );
    p.on('data', (chunk: string) => current.push(chunk));
    p.on('error', () => {});
    port = p;
    pump = current;
  };
  const unplug = async () => {
    if (pump) pump.closed = true;
    const p = port;
    port = undefined;
    if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
    await pair?.close();
    pair = undefined;
  };
  const onUnplug = (forMs: number) => {
    clearTimeout(replugTimer);
    void unplug().then(() => {
      if (closed) return;
      replugTimer = setTimeout(() => {
        if (!closed) void plug().catch(() => {});
      }, forMs);
    });
  };
  // A dropped pty link is an unplug that comes straight back.
  const onDrop = () => onUnplug(0);
  faults.on('unplug', onUnplug);
  faults.on('drop', onDrop);
  await plug();
  return {
    path: join(dir, 'host'),
    async close() {
      closed = true;
      clearTimeout(replugTimer);
      faults.off('unplug', onUnplug);
      faults.off('drop', onDrop);
      await unplug();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
