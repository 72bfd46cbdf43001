import { EventEmitter } from 'node:events';
import { backoffDelay, type BackoffOptions } from '@enginechain/shared';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { OutboxBatch, OutboxBatchKind } from '../outbox/outbox-store.js';
import { parseBrokerUrl, type BrokerEndpoint } from './broker-url.js';
import { TransportError } from './errors.js';
import { deviceTopics, type DeviceTopics } from './topics.js';

/** What the transport needs from the outbox (OutboxStore fits). */
export interface OutboxSendQueue {
  nextToSend(limit: number): OutboxBatch[];
  releaseInFlight(seqs?: readonly number[]): void;
}

/** MQTT protocol level on the wire: 5, or 4 (= MQTT 3.1.1). */
export type MqttProtocolVersion = 4 | 5;

/** A node message as it arrived, before any verification. */
export type NodeMessageHandler = (message: Uint8Array) => void | Promise<void>;

export interface MqttBatchTransportOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the ingestion node's broker. */
  readonly url: string;
  /** Lower-case hex device id: MQTT client id and username. */
  readonly deviceId: string;
  /**
   * Called before every CONNECT, so each connection carries a fresh signed token. A throw or
   * rejection counts as a failed attempt and is retried with backoff.
   */
  readonly password: () => Uint8Array | string | Promise<Uint8Array | string>;
  readonly outbox: OutboxSendQueue;
  /**
   * Every message on the receipt topic (receipts, resend requests), unverified. The callback
   * verifies and calls markReceipted(); the transport never deletes anything. The message is
   * acknowledged to the broker only after the returned promise settles, so a crash before
   * the receipt is stored gets it redelivered on the persistent session.
   */
  readonly onReceiptMessage: NodeMessageHandler;
  /** Every message on the control topic, unverified (see topics.ts). */
  readonly onControlMessage?: NodeMessageHandler;
  /** Subscribe to the control topic too (a refusal is tolerated). Default true. */
  readonly subscribeControl?: boolean;
  /** TLS material for mqtts:// and wss:// (PEM); cert and key for mutual TLS. */
  readonly tls?: {
    readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
    readonly cert?: string | Uint8Array;
    readonly key?: string | Uint8Array;
    /** SNI and certificate name, when it differs from the URL host. */
    readonly servername?: string;
  };
  /** Allow mqtt:// and ws:// to a host that is not loopback. Default false. */
  readonly allowPlaintext?: boolean;
  /** Publishes awaiting PUBACK at once. Default 16. */
  readonly maxInFlight?: number;
  /** Reconnect backoff (full jitter). Default base 1 s, cap 60 s. */
  readonly backoff?: BackoffOptions;
  /** MQTT 5 session expiry; the broker keeps receipts for an offline device this long. Default 7 days. */
  readonly sessionExpirySeconds?: number;
  /** Default 30. */
  readonly keepaliveSeconds?: number;
  /** CONNECT to CONNACK limit. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** How often a connected transport looks for batches whose resend timeout passed. Default 1 s. */
  readonly pollIntervalMs?: number;
  /** Unix ms clock. */
  readonly now?: () => number;
}

/** Counters for the agent's metrics (read them at scrape time). */
export interface TransportCounters {
  /** Successful CONNACKs. */
  connects: number;
  /** Connection attempts after a failed attempt or a lost connection. */
  reconnects: number;
  /** Batches the broker PUBACKed (not receipted: only markReceipted completes a batch). */
  published: number;
  /** Publishes lost with their connection or refused by the broker; they are sent again. */
  publishFailures: number;
  /** Messages on the receipt topic, before verification. */
  receiptMessages: number;
  controlMessages: number;
  /** Unix ms of the last receipt-topic message, undefined before the first. */
  lastReceiptMessageAt: number | undefined;
}

export interface MqttBatchTransportEvents {
  connected: [{ protocolVersion: MqttProtocolVersion; sessionPresent: boolean }];
  disconnected: [{ reason: string }];
  /** The next connection attempt is `delayMs` away (full-jitter backoff). */
  'reconnect-scheduled': [{ attempt: number; delayMs: number }];
  /** The broker PUBACKed a batch. */
  published: [{ seq: number; kind: OutboxBatchKind }];
  /** Something went wrong that the transport recovers from by itself (logged by the agent). */
  problem: [TransportError];
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 60_000 };
const DEVICE_ID = /^[0-9a-f]{32}$/;
// CONNACK codes meaning "I do not speak MQTT 5": 0x01 when the broker answers in 3.1.1
// (aedes 1.2), 0x84 Unsupported Protocol Version when it answers in 5.
const PROTOCOL_REFUSED = new Set([1, 0x84]);

/**
 * Publishes the outbox's batches over MQTT (QoS 1, persistent session) and hands what the node
 * sends back to callbacks. Owns its reconnect loop (exponential backoff, full jitter) rather
 * than mqtt.js's fixed period, and a fresh mqtt.js client per connection so each CONNECT
 * carries a fresh password and nothing waits in mqtt.js's memory-only queues: a batch is
 * published only while connected, and one that was in flight when a connection dropped is
 * handed back to the outbox.
 *
 * MQTT 5 first; when the broker refuses protocol 5 the transport falls back to 3.1.1 for the
 * rest of its life.
 */
export class MqttBatchTransport extends EventEmitter<MqttBatchTransportEvents> {
  readonly counters: TransportCounters = {
    connects: 0,
    reconnects: 0,
    published: 0,
    publishFailures: 0,
    receiptMessages: 0,
    controlMessages: 0,
    lastReceiptMessageAt: undefined,
  };
  readonly endpoint: BrokerEndpoint;
  readonly topics: DeviceTopics;

  private readonly o: MqttBatchTransportOptions;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private protocolVersion: MqttProtocolVersion = 5;
  private client: MqttClient | undefined;
  /** Changes with every connection, so callbacks of an old client cannot touch the new one. */
  private generation = 0;
  /** seq → generation of the publishes awaiting PUBACK. */
  private readonly awaitingPuback = new Map<number, number>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pumping = false;

  constructor(options: MqttBatchTransportOptions) {
    super();
    checkOptions(options);
    this.o = options;
    this.endpoint = parseBrokerUrl(options.url, options.allowPlaintext ?? false);
    this.topics = deviceTopics(options.deviceId);
    this.maxInFlight = options.maxInFlight ?? 16;
    this.now = options.now ?? Date.now;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Publishes sent on the current connection and not yet PUBACKed (≤ maxInFlight). */
  get awaitingPubackCount(): number {
    return this.awaitingPuback.size;
  }

  /** The protocol the next (or current) connection uses. */
  get mqttVersion(): MqttProtocolVersion {
    return this.protocolVersion;
  }

  /** Starts connecting; returns at once. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.connectLoop();
  }

  /** Disconnects and stops reconnecting. Idempotent; start() may be called again afterwards. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeLoop?.();
    this.dropClient();
    await this.loop;
  }

  /** Tells the transport the outbox has something new (after appendBatch, a resend request). */
  wake(): void {
    if (this.connected) setImmediate(() => this.pump());
  }

  private async connectLoop(): Promise<void> {
    let attempt = 0;
    let first = true;
    while (this.running) {
      if (!first) this.counters.reconnects++;
      first = false;
      let closed: Promise<string> | undefined;
      try {
        ({ closed } = await this.connectOnce());
        attempt = 0;
      } catch (err) {
        const problem = asTransportError(err);
        if (this.protocolVersion === 5 && isProtocolRefusal(err)) {
          // Not a failure of the link: retry at once in 3.1.1.
          this.protocolVersion = 4;
          this.emit('problem', problem);
          continue;
        }
        if (this.running) this.emit('problem', problem);
      }
      if (closed) {
        const reason = await closed;
        this.emit('disconnected', { reason });
      }
      if (!this.running) break;
      const delayMs = backoffDelay(attempt, this.o.backoff ?? DEFAULT_BACKOFF);
      this.emit('reconnect-scheduled', { attempt, delayMs });
      attempt++;
      await this.sleep(delayMs);
    }
  }

  /** Resolves once connected with a promise of the connection's end; rejects if no session opened. */
  private async connectOnce(): Promise<{ closed: Promise<string> }> {
    let password: Uint8Array | string;
    try {
      password = await this.o.password();
    } catch (err) {
      throw new TransportError('password-failed', undefined, { cause: err });
    }
    if (!this.running) throw new TransportError('connect-failed', 'stopped');
    const generation = ++this.generation;
    const version = this.protocolVersion;
    const client = mqtt.connect(this.o.url, this.clientOptions(version, password));
    this.client = client;
    // PUBACK only after the handler settled: see onReceiptMessage.
    client.handleMessage = (packet, done) => {
      const payload =
        typeof packet.payload === 'string'
          ? new TextEncoder().encode(packet.payload)
          : new Uint8Array(packet.payload);
      this.deliver(packet.topic, payload).then(
        () => done(),
        () => done(),
      );
    };

    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      const fail = (err: Error) => {
        client.removeListener('connect', ok);
        client.removeListener('close', closedEarly);
        client.removeListener('error', fail);
        client.on('error', () => {}); // late errors of a dropped client
        client.end(true);
        reject(err);
      };
      const closedEarly = () =>
        fail(new TransportError('connect-failed', 'connection closed before CONNACK'));
      const ok = (packet: IConnackPacket) => {
        client.removeListener('close', closedEarly);
        client.removeListener('error', fail);
        resolve(packet);
      };
      client.once('connect', ok);
      client.once('close', closedEarly);
      client.on('error', fail);
    });

    const closed = new Promise<string>((resolve) => {
      let reason = 'connection closed';
      client.on('error', (err) => {
        reason = err.message;
        this.emit('problem', new TransportError('connect-failed', err.message, { cause: err }));
      });
      client.once('close', () => {
        this.onConnectionLost(generation);
        // mqtt.js keeps a clean:false client's queue for a reconnect we never make: end it.
        client.end(true);
        resolve(reason);
      });
      // A stop() between CONNACK and here must not leave a client behind.
      if (!this.running || this.client !== client) client.end(true);
    });

    this.counters.connects++;
    // The broker kept no session (first contact, or it restarted without persistence): what
    // it PUBACKed before may never reach the node, so every in-flight batch goes again.
    if (!connack.sessionPresent) this.o.outbox.releaseInFlight();
    // mqtt.js never calls back a clean:false client's SUBSCRIBE whose connection dropped, so
    // each subscription races the connection's end.
    const subscribe = (topic: string) =>
      Promise.race([
        client.subscribeAsync(topic, { qos: 1 }).then(
          () => 'granted' as const,
          (err: unknown) => (client.connected ? err : ('closed' as const)),
        ),
        closed.then(() => 'closed' as const),
      ]);
    const receipt = await subscribe(this.topics.receipt);
    if (receipt === 'closed') return { closed };
    if (receipt !== 'granted') {
      const detail = `${this.topics.receipt}: ${String(receipt)}`;
      this.emit('problem', new TransportError('subscribe-refused', detail, { cause: receipt }));
      client.end(true);
      return { closed };
    }
    if (this.o.subscribeControl ?? true) {
      const control = await subscribe(this.topics.control);
      if (control === 'closed') return { closed };
      if (control !== 'granted') {
        const detail = `${this.topics.control} (optional, carrying on): ${String(control)}`;
        this.emit('problem', new TransportError('subscribe-refused', detail, { cause: control }));
      }
    }
    this.emit('connected', { protocolVersion: version, sessionPresent: connack.sessionPresent });
    this.pollTimer = setInterval(() => this.pump(), this.o.pollIntervalMs ?? 1_000);
    this.pump();
    return { closed };
  }

  private clientOptions(
    version: MqttProtocolVersion,
    password: Uint8Array | string,
  ): IClientOptions {
    const tls = this.o.tls ?? {};
    const pem = (v: string | Uint8Array): Buffer =>
      typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    return {
      protocolVersion: version,
      clientId: this.o.deviceId,
      username: this.o.deviceId,
      password: typeof password === 'string' ? password : Buffer.from(password),
      clean: false,
      ...(version === 5
        ? { properties: { sessionExpiryInterval: this.o.sessionExpirySeconds ?? 7 * 86_400 } }
        : {}),
      reconnectPeriod: 0,
      // mqtt-packet would otherwise build a 65,536-entry table of 2-byte Buffers on the first
      // write, 6 MB of heap to save an allocation per packet ID on a few packets a second.
      writeCache: false,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      keepalive: this.o.keepaliveSeconds ?? 30,
      queueQoSZero: false,
      resubscribe: false,
      rejectUnauthorized: true,
      ...(tls.ca !== undefined
        ? {
            ca: (Array.isArray(tls.ca) ? tls.ca : [tls.ca]).map((c) =>
              pem(c as string | Uint8Array),
            ),
          }
        : {}),
      ...(tls.cert !== undefined ? { cert: pem(tls.cert) } : {}),
      ...(tls.key !== undefined ? { key: pem(tls.key) } : {}),
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    };
  }

  private async deliver(topic: string, message: Uint8Array): Promise<void> {
    let handler: NodeMessageHandler | undefined;
    if (topic === this.topics.receipt) {
      this.counters.receiptMessages++;
      this.counters.lastReceiptMessageAt = this.now();
      handler = this.o.onReceiptMessage;
    } else if (topic === this.topics.control) {
      this.counters.controlMessages++;
      handler = this.o.onControlMessage;
    }
    if (!handler) return;
    try {
      await handler(message);
    } catch (err) {
      this.emit(
        'problem',
        new TransportError('receipt-handler-failed', `${topic}: ${String(err)}`, { cause: err }),
      );
    }
  }

  /** Publishes what the outbox hands out while connected, up to maxInFlight awaiting PUBACK. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const client = this.client;
        const room = this.maxInFlight - this.awaitingPuback.size;
        if (!client?.connected || !this.running || room <= 0) return;
        const batches = this.o.outbox.nextToSend(room);
        if (batches.length === 0) return;
        for (const b of batches) this.publish(client, b);
      }
    } catch (err) {
      this.emit('problem', new TransportError('send-failed', String(err), { cause: err }));
    } finally {
      this.pumping = false;
    }
  }

  private publish(client: MqttClient, batch: OutboxBatch): void {
    const generation = this.generation;
    this.awaitingPuback.set(batch.seq, generation);
    const payload = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.length);
    client.publish(this.topics.batch, payload, { qos: 1 }, (err) => {
      if (this.awaitingPuback.get(batch.seq) !== generation) return; // connection already gone
      this.awaitingPuback.delete(batch.seq);
      if (err) {
        this.counters.publishFailures++;
        this.o.outbox.releaseInFlight([batch.seq]);
        this.emit('problem', new TransportError('send-failed', `seq ${batch.seq}: ${err.message}`));
      } else {
        this.counters.published++;
        this.emit('published', { seq: batch.seq, kind: batch.kind });
      }
      setImmediate(() => this.pump());
    });
  }

  /** The connection of `generation` closed: what it had not got PUBACKed goes back to the outbox. */
  private onConnectionLost(generation: number): void {
    clearInterval(this.pollTimer);
    const lost: number[] = [];
    for (const [seq, g] of this.awaitingPuback) {
      if (g === generation) lost.push(seq);
    }
    for (const seq of lost) this.awaitingPuback.delete(seq);
    this.counters.publishFailures += lost.length;
    if (lost.length > 0) this.o.outbox.releaseInFlight(lost);
  }

  private dropClient(): void {
    clearInterval(this.pollTimer);
    this.client?.end(true);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeLoop = done;
    });
  }
}

function isProtocolRefusal(err: unknown): boolean {
  const cause = err instanceof TransportError ? err.cause : err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && PROTOCOL_REFUSED.has(code);
}

function asTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  // CONNACK refusals carry a numeric reason code; network errors a string (ECONNREFUSED).
  return typeof code === 'number'
    ? new TransportError('connect-refused', (err as Error).message, { cause: err })
    : new TransportError('connect-failed', String((err as Error)?.message ?? err), { cause: err });
}

function checkOptions(o: MqttBatchTransportOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new TransportError('bad-input', 'options: expected an object');
  if (typeof o.deviceId !== 'string' || !DEVICE_ID.test(o.deviceId))
    throw new TransportError('bad-input', 'deviceId: expected 32 lower-case hex digits');
  if (typeof o.password !== 'function')
    throw new TransportError('bad-input', 'password: expected a provider function');
  if (typeof o.outbox?.nextToSend !== 'function' || typeof o.outbox.releaseInFlight !== 'function')
    throw new TransportError('bad-input', 'outbox: expected nextToSend() and releaseInFlight()');
  if (typeof o.onReceiptMessage !== 'function')
    throw new TransportError('bad-input', 'onReceiptMessage: expected a function');
  if (o.onControlMessage !== undefined && typeof o.onControlMessage !== 'function')
    throw new TransportError('bad-input', 'onControlMessage: expected a function');
  const positiveInt = (v: number | undefined, field: string, max = 2 ** 31 - 1) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0 || v > max))
      throw new TransportError('bad-input', `${field}: expected an integer in 1..${max}`);
  };
  positiveInt(o.maxInFlight, 'maxInFlight', 65_535);
  positiveInt(o.sessionExpirySeconds, 'sessionExpirySeconds', 2 ** 32 - 1);
  positiveInt(o.keepaliveSeconds, 'keepaliveSeconds', 65_535);
  positiveInt(o.connectTimeoutMs, 'connectTimeoutMs');
  positiveInt(o.pollIntervalMs, 'pollIntervalMs');
  if (o.backoff !== undefined && !(o.backoff.baseMs > 0 && o.backoff.capMs >= o.backoff.baseMs))
    throw new TransportError('bad-input', 'backoff: expected 0 < baseMs ≤ capMs');
}
