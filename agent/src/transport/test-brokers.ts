/**
 * Test support for the transport: real brokers (embedded aedes 1.2, Debian's mosquitto 2 as a
 * child process) and a fake ingestion node that answers each batch with a signed receipt.
 * Not exported from the package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type AedesOptions } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { generateReceiptKey, signNodeMessage } from '@enginechain/shared';

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A port that was free a moment ago (mosquitto 2 cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** aedes 1.2 (MQTT 3.1.1 only) on a random loopback port, over TCP or TLS. */
export async function startAedes(
  options: AedesOptions = {},
  tls?: TlsOptions,
): Promise<TestBroker & { aedes: Aedes }> {
  const aedes = await Aedes.createBroker(options);
  const server: Server = tls ? createTlsServer(tls, aedes.handle) : createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    aedes,
    port,
    url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Mosquitto extends TestBroker {
  /** ws:// URL of the websockets listener. */
  readonly wsUrl: string;
  /** The temporary folder of its config (removed by close). */
  readonly dir: string;
  /** The two listeners' ports (`port`, then the websockets or the custom second listener). */
  readonly ports: readonly [number, number];
  /** SIGKILLs the broker (the default config keeps no state: persistence false). */
  kill(): Promise<void>;
  /** Starts it again on the same ports. */
  restart(): Promise<void>;
}

/**
 * Debian's mosquitto 2 with a temp config: anonymous, no persistence, and
 * `max_queued_messages 0` (unlimited), without which it silently drops queued QoS 1 messages.
 * `config`, when given, writes the config instead (files it names go in `dir`), for two
 * listeners on `ports`; `url` and `wsUrl` then name the ports only.
 */
export async function startMosquitto(
  config?: (dir: string, ports: readonly [number, number]) => string,
): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const port = await freePort();
  const wsPort = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(
    configFile,
    config
      ? config(dir, [port, wsPort])
      : [
          `listener ${port} 127.0.0.1`,
          `listener ${wsPort} 127.0.0.1`,
          'protocol websockets',
          'allow_anonymous true',
          'max_queued_messages 0',
          'persistence false',
          'log_dest stderr',
          'log_type error',
          'log_type warning',
          'log_type notice',
          '',
        ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    // Ready when both listeners accept a TCP connection.
    const deadline = Date.now() + 10_000;
    for (const p of [port, wsPort]) {
      while (!(await accepts(p))) {
        if (proc.exitCode !== null || Date.now() > deadline) {
          proc.kill('SIGKILL');
          throw new Error(`mosquitto did not start (exit ${proc.exitCode}): ${log}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    dir,
    ports: [port, wsPort],
    kill,
    restart: launch,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ReceivedBatch {
  readonly seq: number;
  readonly kind: number;
  readonly hash: Uint8Array;
}

export interface FakeIngest {
  readonly receiptPublicKey: KeyObject;
  /** Every batch received, in arrival order (duplicates included). */
  readonly received: ReceivedBatch[];
  /** Answer each batch with a signed receipt (true), or only record it (false). */
  answering: boolean;
  /** Receipts for everything received so far that got none. */
  answerPending(): Promise<void>;
  /** Sends raw bytes to the device's receipt or control topic. */
  send(topic: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * A plain mqtt.js subscriber standing in for the ingestion node: reads the chained test batch
 * (seq at byte 32, kind at byte 40; see outbox/test-batches.ts) and answers with a receipt
 * signed by its own Ed25519 key, as the node's receipt dispatcher does.
 */
export async function startFakeIngest(
  url: string,
  deviceId: string,
  connectOptions: IClientOptions = {},
): Promise<FakeIngest> {
  const { privateKey, publicKey } = generateReceiptKey();
  const client: MqttClient = await mqtt.connectAsync(url, {
    ...connectOptions,
    protocolVersion: 4,
    clientId: `fake-ingest-${process.pid}-${Math.random().toString(16).slice(2)}`,
    reconnectPeriod: 100,
  });
  client.on('error', () => {}); // reconnects on its own while a test restarts the broker
  const received: ReceivedBatch[] = [];
  const unanswered: ReceivedBatch[] = [];
  let leaf = 0;
  const answer = async (b: ReceivedBatch) => {
    const receipt = signNodeMessage(
      {
        type: 'receipt',
        deviceId,
        seq: b.seq,
        batchHash: b.hash,
        leafIndex: leaf,
        treeSize: leaf + 1,
        checkpoint: 'test.enginechain.example/log\n',
        inclusionProof: [],
        receivedAt: Date.now(),
      },
      privateKey,
    );
    leaf++;
    await client.publishAsync(`ec/v1/${deviceId}/receipt`, Buffer.from(receipt), { qos: 1 });
  };
  const ingest: FakeIngest = {
    receiptPublicKey: publicKey,
    received,
    answering: true,
    answerPending: async () => {
      for (const b of unanswered.splice(0)) await answer(b);
    },
    send: async (topic, bytes) => {
      await client.publishAsync(topic, Buffer.from(bytes), { qos: 1 });
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
  client.on('message', (_topic, payload) => {
    const bytes = new Uint8Array(payload);
    const batch: ReceivedBatch = {
      seq: Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(32)),
      kind: bytes[40] ?? -1,
      hash: new Uint8Array(createHash('sha256').update(bytes).digest()),
    };
    received.push(batch);
    if (ingest.answering) void answer(batch).catch(() => unanswered.push(batch));
    else unanswered.push(batch);
  });
  await client.subscribeAsync(`ec/v1/${deviceId}/batch`, { qos: 1 });
  return ingest;
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
