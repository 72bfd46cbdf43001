import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { MAX_EVIDENCE_BYTES, signNodeMessage } from '@enginechain/shared';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded-broker.js';
import type { BrokerListenerSpec } from '../broker/listeners.js';
import { DeviceAdmin } from '../devices/device-admin.js';
import { loadOrCreateOperatorToken } from '../devices/operator-token.js';
import { operatorRoutes } from '../http/operator-routes.js';
import { ALL_BATCHES, deviceOfBatchTopic, receiptTopic } from '../broker/topics.js';
import { tokenAuthenticator } from '../auth/token-authenticator.js';
import { AccessService } from '../access/access-service.js';
import { buildApp, type AppDependencies, type NodeInfo, type NodeStatus } from '../http/app.js';
import { VehicleData } from '../vehicles/vehicle-data.js';
import { EnrolmentService } from '../http/enrolment-service.js';
import { MAX_EVIDENCE_BATCHES } from '../evidence/evidence-builder.js';
import { BatchIngestor, type AcceptedBatchInfo } from '../pipeline/batch-ingestor.js';
import { PipelineAdmission } from '../pipeline/pipeline-admission.js';
import { VerifierPool } from '../pipeline/verifier-pool.js';
import { loadOrCreateNodeKeys, type NodeKeys } from '../sidechain/node-keys.js';
import { ReceiptDispatcher } from '../sidechain/receipt-dispatcher.js';
import { Sidechain } from '../sidechain/sidechain.js';
import type { IngestStore } from '../storage/ingest-store.js';
import { openIngestStore } from '../storage/open-store.js';
import { IngestMetrics } from './ingest-metrics.js';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';

export const DEFAULT_ORIGIN = 'enginechain.local/sidechain';

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Batches per second over the last 10 s, from a counter sampled each second. */
class RateMeter {
  private readonly samples: { t: number; n: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly count: () => Promise<number>) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1_000);
    this.timer.unref();
  }
  private sample(): void {
    const t = performance.now();
    void this.count().then((n) => {
      this.samples.push({ t, n });
      if (this.samples.length > 11) this.samples.shift();
    });
  }
  async perSecond(): Promise<number> {
    const first = this.samples[0];
    const now = { t: performance.now(), n: await this.count() };
    if (!first || now.t - first.t < 1) return 0;
    return Math.round(((now.n - first.n) / (now.t - first.t)) * 1e4) / 10;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Quarantine codes: the device signed a batch that contradicts its accepted chain. */
const ALERT_CODES: ReadonlySet<string> = new Set(['fork', 'bad-prev']);
const isAlert = (code: string) => ALERT_CODES.has(code);

/**
 * The checkpoint key's name for an origin: the origin itself (docs/merkle-log.md), so a
 * verifier pins the two together; a C2SP key name only may not hold whitespace or "+". Used
 * when the key is made, on first start; a key already made keeps its name.
 */
function keyNameOf(origin: string): string {
  return origin.replace(/[\s+]/gu, '-');
}

export interface IngestNodeOptions {
  /** Folder for the node keys (keys/), the operator token and the SQLite database (node.db). */
  readonly dataDir: string;
  /**
   * A PostgreSQL connection URL to keep the data in instead of `<dataDir>/node.db`
   * (docs/storage.md).
   */
  readonly database?: string;
  /** Checkpoint origin line; also the checkpoint key's name. */
  readonly origin?: string;
  /** Embedded broker listen address (default 127.0.0.1:1883; port 0 picks one). */
  readonly mqtt?: { readonly host: string; readonly port: number };
  /** More embedded-broker listeners (mqtts, ws, wss) beside `mqtt`: same auth, same ACL. */
  readonly brokerListeners?: readonly BrokerListenerSpec[];
  /** Allow plaintext broker listeners (mqtt, ws) off loopback; refused by default. */
  readonly allowPlaintextBroker?: boolean;
  /** The broker URL devices are given at enrolment when not the main listener's (mqtts://…). */
  readonly advertisedBrokerUrl?: string;
  /**
   * Consume from an external broker instead (mosquitto 2). It must authenticate devices and
   * enforce the topic ACL itself (docs/protocol.md §2); the node still verifies everything.
   */
  readonly externalBroker?: {
    readonly url: string;
    readonly username?: string;
    readonly password?: string;
  };
  /** HTTP API listen address (default 127.0.0.1:8080; port 0 picks one). */
  readonly http?: { readonly host: string; readonly port: number };
  /** Login attempts per minute per client address and username (default 10). */
  readonly loginRateLimit?: number;
  /** Requests per minute per API token, or per client address without one (default 1,200). */
  readonly requestRateLimit?: number;
  /** More Fastify plugins for the HTTP app (the dashboard, operator routes). */
  readonly httpPlugins?: AppDependencies['plugins'];
  /** Sign a checkpoint at least this often when the log grew (ms). */
  readonly checkpointIntervalMs?: number;
  /** … or as soon as this many entries wait. */
  readonly checkpointEveryEntries?: number;
  readonly verifierThreads?: number;
  /**
   * Batches held between receiving and settling them, at most (default 8,192): past it the
   * transport stops reading and senders slow down (PipelineAdmission).
   */
  readonly maxBatchesInPipeline?: number;
  /**
   * … and their bytes, at most (default 64 MiB): batches range from under a kilobyte to
   * 256 KiB, so the count alone does not bound memory.
   */
  readonly maxBytesInPipeline?: number;
  /**
   * Bytes an evidence file the API builds may hold (default and ceiling MAX_EVIDENCE_BYTES,
   * the most a verifier reads): a node with little memory may want less.
   */
  readonly maxEvidenceBytes?: number;
  readonly logger?: Logger;
}

/**
 * One ingestion node: broker (embedded aedes or an external one), verification pipeline,
 * store (SQLite or PostgreSQL), the sidechain with its checkpoints, receipts, and the HTTP API.
 */
export class IngestNode {
  private timer: NodeJS.Timeout | undefined;
  private sinceCheckpoint = 0;
  private readonly receivedAt = new Map<string, number>();
  private stopped = false;
  /** The operator's device administration (also served under /v1/operator). Set in start(). */
  deviceAdmin!: DeviceAdmin;
  /** `<data>/operator.token`, the operator's bearer token (there until the operator moves it). */
  operatorTokenFile!: string;

  private constructor(
    readonly store: IngestStore,
    readonly keys: NodeKeys,
    readonly sidechain: Sidechain,
    readonly enrolment: EnrolmentService,
    readonly ingestor: BatchIngestor,
    readonly metrics: IngestMetrics,
    readonly dispatcher: ReceiptDispatcher,
    private readonly pool: VerifierPool,
    private readonly log: Logger,
    private readonly publish: (deviceId: string, bytes: Uint8Array) => Promise<void>,
    readonly brokerUrl: string,
    readonly httpUrl: string,
    private readonly closers: (() => Promise<void>)[],
    readonly broker: EmbeddedBroker | undefined,
    readonly access: AccessService,
    readonly admission: PipelineAdmission,
  ) {}

  static async start(options: IngestNodeOptions): Promise<IngestNode> {
    const { maxEvidenceBytes } = options;
    if (
      maxEvidenceBytes !== undefined &&
      !(
        Number.isSafeInteger(maxEvidenceBytes) &&
        maxEvidenceBytes >= 1 &&
        maxEvidenceBytes <= MAX_EVIDENCE_BYTES
      )
    )
      throw new RangeError(
        `maxEvidenceBytes: expected an integer from 1 to ${MAX_EVIDENCE_BYTES}, got ${maxEvidenceBytes}`,
      );
    const log = options.logger ?? pino({ name: 'enginechain-ingest' });
    const origin = options.origin ?? DEFAULT_ORIGIN;
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const keys = await loadOrCreateNodeKeys(join(options.dataDir, 'keys'), keyNameOf(origin));
    if (keys.created)
      log.info(
        {
          checkpointVerifierKey: keys.checkpointVerifierKey,
          receiptPublicKey: keys.receiptPublicKey,
        },
        'created node keys',
      );
    const store = await openIngestStore(options);
    const sidechain = new Sidechain({ store, origin, signer: keys.checkpointSigner });
    await sidechain.open();
    const metrics = new IngestMetrics();
    metrics.logSize.set(await store.logSize());
    const pool = new VerifierPool(options.verifierThreads);
    const closers: (() => Promise<void>)[] = [];

    // Transport: where batches come from and receipts go.
    let publish: (deviceId: string, bytes: Uint8Array) => Promise<void>;
    let brokerUrl: string;
    let broker: EmbeddedBroker | undefined;
    const admission = new PipelineAdmission(
      options.maxBatchesInPipeline ?? 8_192,
      options.maxBytesInPipeline ?? 64 * 1024 * 1024,
    );
    metrics.observePipeline(admission);
    // Batches that arrive before the node is put together wait for it, unacknowledged.
    let nodeReady!: (node: IngestNode) => void;
    const ready = new Promise<IngestNode>((resolve) => (nodeReady = resolve));
    /** Resolves when the batch is admitted: the transport goes on reading its sender then. */
    const onBatch = (deviceId: string, bytes: Uint8Array): Promise<void> =>
      ready.then((node) => node.receive(deviceId, bytes));
    if (options.externalBroker) {
      const client: MqttClient = await mqtt.connectAsync(options.externalBroker.url, {
        clientId: `enginechain-ingest-${process.pid}`,
        username: options.externalBroker.username,
        password: options.externalBroker.password,
        protocolVersion: 5,
        clean: true,
        reconnectPeriod: 1_000,
      });
      // A shared subscription lets several nodes split one broker's load (mosquitto 2).
      await client.subscribeAsync(`$share/enginechain-ingest/${ALL_BATCHES}`, { qos: 1 });
      // mqtt.js acknowledges a message and reads the next one only when this calls back: a
      // node at its pipeline limit stops reading, and the broker keeps the rest queued.
      client.handleMessage = (packet, callback) => {
        const deviceId = deviceOfBatchTopic(packet.topic);
        if (!deviceId) return callback();
        onBatch(deviceId, new Uint8Array(packet.payload as Buffer)).then(
          () => callback(),
          callback,
        );
      };
      publish = async (deviceId, bytes) => {
        await client.publishAsync(receiptTopic(deviceId), Buffer.from(bytes), { qos: 1 });
      };
      brokerUrl = options.externalBroker.url;
      closers.push(async () => void (await client.endAsync()));
    } else {
      broker = await startEmbeddedBroker({
        host: options.mqtt?.host ?? '127.0.0.1',
        port: options.mqtt?.port ?? 1883,
        ...(options.brokerListeners ? { listeners: options.brokerListeners } : {}),
        allowPlaintext: options.allowPlaintextBroker ?? false,
        authenticator: tokenAuthenticator({ store }),
        onRefusal: (kind, detail) => {
          metrics.rejections.inc({ reason: kind });
          if (detail.code) metrics.mqttAuthRefusals.inc({ code: detail.code });
          log.warn({ kind, ...detail }, 'broker refused');
        },
      });
      const b = broker;
      await new Promise<void>((resolve) =>
        b.aedes.subscribe(
          ALL_BATCHES,
          (packet, done) => {
            // aedes reads a connection again only once every packet of its last read is done:
            // at the pipeline limit it stops reading the device, and TCP slows the device down.
            const deviceId = deviceOfBatchTopic(packet.topic);
            if (!deviceId) return done();
            onBatch(deviceId, new Uint8Array(packet.payload as Buffer)).then(() => done(), done);
          },
          resolve,
        ),
      );
      publish = (deviceId, bytes) =>
        new Promise((resolve, reject) =>
          b.aedes.publish(
            {
              cmd: 'publish',
              topic: receiptTopic(deviceId),
              payload: Buffer.from(bytes),
              qos: 1,
              retain: false,
              dup: false,
            },
            (err) => (err ? reject(err) : resolve()),
          ),
        );
      brokerUrl = broker.url;
      closers.push(() => b.close());
    }

    // The pipeline's callbacks need the node, which needs the pipeline: close the loop late.
    const ref: { node?: IngestNode } = {};
    const dispatcher = new ReceiptDispatcher({
      sidechain,
      receiptKey: keys.receiptKey,
      send: async (deviceId, bytes) => {
        await publish(deviceId, bytes);
        metrics.receipts.inc();
      },
      onError: (err) => log.warn({ err }, 'receipt not sent'),
    });
    const ingestor = new BatchIngestor({
      store,
      pool,
      onAccepted: (info) => ref.node?.onAccepted(info),
      onDuplicate: (info) => {
        metrics.duplicates.inc();
        dispatcher.enqueue(info);
      },
      onResendNeeded: (deviceId, seqs) => {
        metrics.resendRequests.inc();
        log.info({ deviceId, missing: seqs.length, first: seqs[0] }, 'asking device to resend');
        publish(
          deviceId,
          signNodeMessage({ type: 'resend', deviceId, seqs }, keys.receiptKey),
        ).catch((err: unknown) => log.warn({ err }, 'resend request not sent'));
      },
      onRejection: (code, detail) => {
        metrics.rejections.inc({ reason: code });
        if (isAlert(code)) {
          // A second signed history for one device: a cloned key or a tampered device. Kept in
          // quarantine, never logged; an operator must look, so it is an error, not a warning.
          metrics.alerts.inc({ kind: code });
          log.error({ alert: code, code, ...detail }, 'ALERT: batch quarantined');
        } else log.warn({ code, ...detail }, 'batch refused or flagged');
      },
    });
    const enrolment = new EnrolmentService(store);

    // HTTP API.
    const nodeInfo: NodeInfo = {
      brokerUrl: options.advertisedBrokerUrl ?? brokerUrl,
      logOrigin: origin,
      checkpointVerifierKey: keys.checkpointVerifierKey,
      receiptPublicKey: keys.receiptPublicKey,
    };
    const access = new AccessService(store.access);
    const startedAt = Date.now();
    const rate = new RateMeter(() => metrics.acceptedCount());
    closers.push(async () => rate.stop());
    const status = async (): Promise<NodeStatus> => {
      const cp = sidechain.latestCheckpoint;
      const counts = await store.counts();
      return {
        logSize: await store.logSize(),
        checkpoint: cp
          ? {
              treeSize: cp.treeSize,
              rootHash: Buffer.from(cp.root).toString('base64'),
              ageSeconds: (Date.now() - cp.createdAt) / 1_000,
            }
          : null,
        batchesPerSecond: await rate.perSecond(),
        connectedDevices: broker ? broker.aedes.connectedClients : 0,
        devices: counts.devices,
        vehicles: counts.vehicles,
        rejections: await store.rejectionCounts(),
        uptimeSeconds: (Date.now() - startedAt) / 1_000,
      };
    };
    const operatorToken = await loadOrCreateOperatorToken(options.dataDir);
    if (operatorToken.created)
      log.info(
        { file: operatorToken.tokenFile },
        'created the operator token (only its hash is kept)',
      );
    const evictFrom = broker;
    const deviceAdmin = new DeviceAdmin({
      store,
      ...(evictFrom ? { evict: (id: string) => evictFrom.evictDevice(id) } : {}),
    });
    const app: FastifyInstance = await buildApp({
      enrolment,
      sidechain,
      nodeInfo,
      metrics: metrics.registry,
      store,
      access,
      vehicles: new VehicleData(store, sidechain, keys.checkpointSigner, {
        batches: MAX_EVIDENCE_BATCHES,
        bytes: options.maxEvidenceBytes ?? MAX_EVIDENCE_BYTES,
      }),
      status,
      secureCookies: !isLoopback(options.http?.host ?? '127.0.0.1'),
      ...(options.loginRateLimit !== undefined ? { loginRateLimit: options.loginRateLimit } : {}),
      ...(options.requestRateLimit !== undefined
        ? { requestRateLimit: options.requestRateLimit }
        : {}),
      plugins: [
        ...(options.httpPlugins ?? []),
        {
          plugin: operatorRoutes,
          options: {
            admin: deviceAdmin,
            operatorToken: operatorToken.verifier,
            connectedDevices: () => evictFrom?.connectedDevices() ?? [],
          },
        },
      ],
    });
    await app.listen({ host: options.http?.host ?? '127.0.0.1', port: options.http?.port ?? 8080 });
    const addr = app.server.address() as AddressInfo;
    const httpUrl = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
    closers.unshift(async () => void (await app.close()));

    const node = new IngestNode(store, keys, sidechain, enrolment, ingestor, metrics, dispatcher, pool, log, publish,
      brokerUrl, httpUrl, closers, broker, access, admission); // prettier-ignore
    ref.node = node;
    node.deviceAdmin = deviceAdmin;
    node.operatorTokenFile = operatorToken.tokenFile;
    nodeReady(node);
    node.startCheckpointing(
      options.checkpointIntervalMs ?? 1_000,
      options.checkpointEveryEntries ?? 1_000,
    );
    log.info({ brokerUrl, httpUrl, origin, logSize: await store.logSize() }, 'ingest node started');
    return node;
  }

  /**
   * Opens a node's data folder without broker or HTTP (evidence export, audits). The origin is
   * read from the latest checkpoint when not given. Do not run it beside a live node that signs.
   */
  static async openData(
    dataDir: string,
    o: { readonly origin?: string; readonly database?: string | undefined } = {},
  ) {
    const store = await openIngestStore({ dataDir, database: o.database });
    const latest = await store.latestCheckpoint();
    const origin = o.origin ?? latest?.note.split('\n')[0] ?? DEFAULT_ORIGIN;
    const keys = await loadOrCreateNodeKeys(join(dataDir, 'keys'), keyNameOf(origin));
    const sidechain = new Sidechain({ store, origin, signer: keys.checkpointSigner });
    await sidechain.open();
    return { store, keys, sidechain, close: () => store.close() };
  }

  /**
   * Every batch from the broker comes through here; failures are logged, never thrown. Resolves
   * once the batch is admitted to the pipeline (at most maxBatchesInPipeline batches and
   * maxBytesInPipeline bytes at once): the transport reads on only then.
   */
  receive(deviceId: string, bytes: Uint8Array): Promise<void> {
    const t0 = performance.now();
    const size = bytes.byteLength;
    return this.admission.admit(size).then(() => {
      this.ingestor
        .ingest(deviceId, bytes)
        .then((outcome) => {
          if (outcome.status === 'accepted') this.receivedAt.set(`${deviceId}/${outcome.seq}`, t0);
        })
        .catch((err: unknown) => this.log.error({ err, deviceId }, 'ingest failed'))
        .finally(() => this.admission.release(size));
    });
  }

  private onAccepted(info: AcceptedBatchInfo): void {
    this.metrics.accepted.inc();
    this.metrics.logSize.inc();
    this.dispatcher.enqueue(info);
    if (++this.sinceCheckpoint >= this.everyEntries) void this.checkpointNow();
  }

  private everyEntries = 1_000;

  private startCheckpointing(intervalMs: number, everyEntries: number): void {
    this.everyEntries = everyEntries;
    this.timer = setInterval(() => void this.checkpointNow(), intervalMs);
    this.timer.unref();
  }

  /** Signs a checkpoint if the log grew and sends the receipts it covers. */
  async checkpointNow(): Promise<void> {
    if (this.stopped) return;
    try {
      const cp = await this.sidechain.checkpoint();
      if (!cp) return;
      this.sinceCheckpoint = 0;
      this.metrics.checkpointTime.set(cp.createdAt / 1_000);
      this.metrics.logSize.set(cp.treeSize);
      await this.dispatcher.onCheckpoint(cp);
      const now = performance.now();
      for (const [k, t] of this.receivedAt) {
        this.metrics.receiptLatency.observe((now - t) / 1_000);
        this.receivedAt.delete(k);
      }
    } catch (err) {
      this.log.error({ err }, 'checkpoint failed');
    }
  }

  /**
   * Stops taking batches (the HTTP API and the broker close first), lets every batch already
   * received settle for at most `drainMs` (verified and committed, or refused), signs a last
   * checkpoint over what was committed, then closes the verifier threads and the store. A batch
   * still unsettled at the deadline is not lost: it has no receipt, so its device sends it again
   * (receipts for the drained ones go out the same way, when the device sends them again).
   */
  async stop(drainMs = 20_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const close of this.closers) await close();
    let deadline: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.admission.whenIdle().then(() => true),
      new Promise<boolean>((r) => (deadline = setTimeout(() => r(false), drainMs))),
    ]);
    clearTimeout(deadline);
    if (!drained)
      this.log.warn(
        { inPipeline: this.admission.inPipeline, waiting: this.admission.waiting },
        'stopping with batches unsettled: their devices will send them again',
      );
    try {
      const cp = await this.sidechain.checkpoint();
      if (cp) this.log.info({ treeSize: cp.treeSize }, 'signed the last checkpoint');
    } catch (err) {
      this.log.error({ err }, 'could not sign the last checkpoint');
    }
    await this.pool.close();
    await this.store.close();
    this.log.info('ingest node stopped');
  }
}
