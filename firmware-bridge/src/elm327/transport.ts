import { connect as tcpConnect, type Socket } from 'node:net';
import { openSerialPort } from '../source/serial-port.js';
import { AdapterError } from '../source/errors.js';

/**
 * The byte pipe to an adapter: a serial port (USB ELM327, a pty) or a TCP socket (Wi-Fi ELM327,
 * port 35000 by convention). Text only: ELM327 speaks ASCII.
 */
export interface ElmTransport {
  /** `tcp://192.168.0.10:35000` or `/dev/ttyUSB0`, as given. */
  readonly address: string;
  write(text: string): void;
  /** Called with each chunk as it arrives; chunks split lines anywhere. */
  onData(listener: (chunk: string) => void): void;
  /** Called once when the link goes away under us (unplug, TCP reset), not after `close()`. */
  onLost(listener: (reason: string, cause?: unknown) => void): void;
  /** Idempotent, never throws. */
  close(): Promise<void>;
}

export const ELM_TCP_DEFAULT_PORT = 35000;

/**
 * Parses `tcp://host[:port]` (port 35000 when left out); undefined for anything else (a serial
 * path). `listen` also allows port 0, "any free port", for a server that reports its port.
 */
export function parseTcpAddress(
  address: string,
  options: { listen?: boolean } = {},
): { host: string; port: number } | undefined {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/i.exec(address);
  if (!m) return undefined;
  const port = m[2] === undefined ? ELM_TCP_DEFAULT_PORT : Number(m[2]);
  const lowest = options.listen ? 0 : 1;
  if (!(port >= lowest && port < 65536)) {
    throw new AdapterError('bad-input', `port in ${address} must be ${lowest}..65535`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export interface OpenTransportOptions {
  /** Serial only; ELM327 clones ship at 38400 (genuine v1.x) or 9600/115200. */
  readonly baudRate?: number;
  /** TCP connect timeout. */
  readonly connectTimeoutMs?: number;
}

/** Opens a serial port or a TCP connection; rejects with `AdapterError('no-adapter')`. */
export async function openElmTransport(
  address: string,
  options: OpenTransportOptions = {},
): Promise<ElmTransport> {
  if (typeof address !== 'string' || address === '') {
    throw new AdapterError('bad-input', 'port must be a serial path or tcp://host:port');
  }
  const tcp = parseTcpAddress(address);
  return tcp
    ? openTcp(address, tcp.host, tcp.port, options.connectTimeoutMs ?? 3000)
    : openSerial(address, options.baudRate ?? 38400);
}

function lifecycle() {
  let lostListener: ((reason: string, cause?: unknown) => void) | undefined;
  let done = false;
  return {
    set(listener: (reason: string, cause?: unknown) => void) {
      lostListener = listener;
    },
    lost(reason: string, cause?: unknown) {
      if (done) return;
      done = true;
      lostListener?.(reason, cause);
    },
    closing() {
      done = true;
    },
  };
}

async function openTcp(
  address: string,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<ElmTransport> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new AdapterError('no-adapter', `${address}: no TCP connection within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new AdapterError('no-adapter', `${address}: ${err.message}`, { cause: err }));
    });
  });
  // One request at a time: Nagle would hold each small command back for an ACK.
  socket.setNoDelay(true);
  socket.setEncoding('latin1');
  const life = lifecycle();
  socket.on('error', (err) => life.lost(err.message, err));
  socket.on('close', () => life.lost('connection closed by the adapter'));
  return {
    address,
    write: (text) => void socket.write(text, 'latin1'),
    onData: (listener) => void socket.on('data', listener),
    onLost: (listener) => life.set(listener),
    close: () => {
      life.closing();
      if (socket.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    },
  };
}

async function openSerial(path: string, baudRate: number): Promise<ElmTransport> {
  if (!(Number.isInteger(baudRate) && baudRate > 0)) {
    throw new AdapterError('bad-input', 'baudRate must be a positive integer');
  }
  const port = await openSerialPort(path, baudRate, path);
  // Drop what the adapter sent while nobody had the port open (a late reply, a reset banner).
  await new Promise<void>((resolve) => port.flush(() => resolve()));
  port.setEncoding('latin1');
  const life = lifecycle();
  port.on('error', (err: Error) => life.lost(err.message, err));
  port.on('close', (err: unknown) => life.lost('serial port closed (unplugged?)', err));
  return {
    address: path,
    write: (text) => void port.write(text, 'latin1'),
    onData: (listener) => void port.on('data', listener),
    onLost: (listener) => life.set(listener),
    close: () => {
      life.closing();
      if (!port.isOpen) return Promise.resolve();
      return new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}
