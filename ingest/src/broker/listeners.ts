import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createNetServer,
  isIP,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { BrokerError } from './errors.js';
import { MAX_MQTT_PACKET_BYTES } from './packet-size-limit.js';

/**
 * How devices reach the embedded broker: MQTT over TCP or TLS, or MQTT over WebSocket (plain
 * or TLS, for networks that pass only HTTPS). Every listener feeds the same aedes instance,
 * so authentication and the topic ACL are the same whichever way a device comes in.
 */
export type BrokerListenerKind = 'mqtt' | 'mqtts' | 'ws' | 'wss';

export interface BrokerListenerSpec {
  readonly kind: BrokerListenerKind;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * Server certificate and key, required for mqtts and wss. With `ca` plus `requestCert` and
   * `rejectUnauthorized` the listener also demands a client certificate signed by that CA
   * (see `brokerTlsOptions`).
   */
  readonly tls?: TlsOptions;
}

export interface BrokerListener {
  readonly kind: BrokerListenerKind;
  /** URL a client on this machine can use; WebSocket URLs carry the conventional /mqtt path. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Where a new connection goes: aedes' `handle`. */
export type ConnectionHandler = (stream: Duplex, request?: IncomingMessage) => void;

const KINDS: readonly BrokerListenerKind[] = ['mqtt', 'mqtts', 'ws', 'wss'];

/** 127.0.0.0/8, ::1 and localhost: an address whose traffic never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h);
  return false;
}

export function isTlsListener(kind: BrokerListenerKind): boolean {
  return kind === 'mqtts' || kind === 'wss';
}

/**
 * Checks a listener before binding anything. Plaintext off loopback is refused unless
 * `allowPlaintext`: the MQTT password is a device-signed token and the payload is driving data,
 * both readable by anyone on the path (the agent refuses such URLs for the same reason).
 */
export function checkListenerSpec(spec: BrokerListenerSpec, allowPlaintext = false): void {
  if (typeof spec !== 'object' || spec === null)
    throw new BrokerError('bad-listener', 'listener: expected an object');
  if (!KINDS.includes(spec.kind))
    throw new BrokerError('bad-listener', `listener.kind: expected one of ${KINDS.join(', ')}`);
  if (typeof spec.host !== 'string' || spec.host === '')
    throw new BrokerError('bad-listener', `${spec.kind} listener.host: expected a host`);
  if (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65_535)
    throw new BrokerError('bad-listener', `${spec.kind} listener.port: expected 0..65535`);
  if (isTlsListener(spec.kind)) {
    if (!spec.tls?.cert || !spec.tls.key)
      throw new BrokerError('bad-listener', `${spec.kind} listener.tls: cert and key are required`);
  } else if (!allowPlaintext && !isLoopbackHost(spec.host)) {
    throw new BrokerError(
      'plaintext-refused',
      `${spec.kind} listener on ${spec.host}: plaintext off loopback; use ${spec.kind}s or allow plaintext explicitly`,
    );
  }
}

/** Binds one listener and hands every connection (TCP, TLS or WebSocket) to `handle`. */
export async function startListener(
  handle: ConnectionHandler,
  spec: BrokerListenerSpec,
  hooks: { onTlsError?: (err: Error) => void } = {},
): Promise<BrokerListener> {
  let server: Server;
  let wss: WebSocketServer | undefined;
  if (spec.kind === 'mqtt') server = createNetServer((s) => handle(s));
  else if (spec.kind === 'mqtts') server = createTlsServer(spec.tls ?? {}, (s) => handle(s));
  else {
    const http = spec.kind === 'wss' ? createHttpsServer(spec.tls ?? {}) : createHttpServer();
    // Anything but an upgrade gets told what this port speaks instead of hanging.
    http.on('request', (_req, res) => {
      res.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain' });
      res.end('MQTT over WebSocket only\n');
    });
    wss = new WebSocketServer({
      server: http,
      // A WebSocket message carries whole MQTT packets, each at most MAX_MQTT_PACKET_BYTES.
      maxPayload: MAX_MQTT_PACKET_BYTES,
      // The MQTT spec names the subprotocol "mqtt" (3.1.1, 5) or "mqttv3.1".
      handleProtocols: (offered) =>
        offered.has('mqtt') ? 'mqtt' : offered.has('mqttv3.1') ? 'mqttv3.1' : false,
    });
    // ws re-emits the HTTP server's errors; the server's own listener below reports them.
    wss.on('error', () => {});
    wss.on('connection', (socket, request) => {
      const stream = createWebSocketStream(socket);
      // aedes listens for errors once it owns the stream; one before that must not crash us.
      stream.on('error', () => socket.terminate());
      handle(stream, request);
    });
    server = http;
  }
  if (isTlsListener(spec.kind)) {
    server.on('tlsClientError', (err: Error) => hooks.onTlsError?.(err));
  }
  // Raw sockets (TLS and HTTP servers emit this too), tracked so close() does not wait on a
  // device that never finishes its handshake.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new BrokerError('listen-failed', `${spec.kind} ${spec.host}:${spec.port}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    server.listen(spec.port, spec.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const path = spec.kind === 'ws' || spec.kind === 'wss' ? '/mqtt' : '';
  return {
    kind: spec.kind,
    url: `${spec.kind}://${host}:${port}${path}`,
    host: spec.host,
    port,
    close: async () => {
      if (wss) {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      }
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
