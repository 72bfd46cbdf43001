import { writeFileSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { ReconnectingSource, AdapterError, type SignalSource } from '@enginechain/firmware-bridge';
import {
  createMqttToken,
  deviceKeyPaths,
  ed25519PublicKeyFromRaw,
  KeyFileError,
  loadDeviceKey,
  readSecretFile,
  signEs256k,
  type DeviceKey,
} from '@enginechain/shared';
import { ConfigError, type AgentConfig, type SourceConfig } from '../config/agent-config.js';
import { startHeapCollector } from '../ops/heap-collector.js';
import { AgentMetrics, serveMetrics } from '../ops/metrics.js';
import { SystemdNotifier } from '../ops/systemd-notify.js';
import { OutboxStore } from '../outbox/outbox-store.js';
import { ReceiptVerifier } from '../receipts/receipt-verifier.js';
import { readDeviceId } from '../rotate/rotate-key.js';
import { AgentClock } from '../sampling/agent-clock.js';
import { mergeSources } from '../sampling/merge-sources.js';
import { MqttBatchTransport } from '../transport/mqtt-batch-transport.js';
import { AgentPipeline } from './agent-pipeline.js';
import { BatchSigner } from './batch-signer.js';
import { createSource } from './source-factory.js';

/** Promoted garbage grows about 0.35 MB/s at 100 signals × 10 Hz (docs/benchmarks.md). */
const HEAP_COLLECT_EVERY_MS = 5_000;

export interface AgentRuntimeOptions {
  readonly config: AgentConfig;
  readonly logger?: Logger;
  /** Builds a source from its config entry; default: the firmware-bridge drivers. */
  readonly createSource?: (config: SourceConfig) => SignalSource;
  /** Serve Prometheus metrics (default true). */
  readonly serveMetrics?: boolean;
}

/** The status file beside the outbox: what `enginechain agent` last knew, for operators and the demo. */
export function agentStatusPath(outboxPath: string): string {
  return join(dirname(outboxPath), 'agent-status.json');
}

export interface AgentStatus {
  readonly deviceId: string;
  readonly samples: number;
  readonly batchesSigned: number;
  readonly receipts: number;
  readonly outbox: ReturnType<OutboxStore['stats']>;
  readonly connected: boolean;
  readonly events: readonly {
    type: string;
    start: number;
    data: Readonly<Record<string, number | string>>;
  }[];
  readonly trips: readonly { start: number; end: number; distanceKm: number }[];
  readonly currentTripKm: number | undefined;
}

/**
 * Loads the device key, saying what an installer must do when it is missing: a key made by
 * `keygen` alone is not registered with any node, so the advice is `provision`, which makes
 * and registers one. Other key errors (permissions, format, mismatch) already name the file
 * and the fix.
 */
async function loadAgentKey(keyDir: string): Promise<DeviceKey> {
  try {
    const key = await loadDeviceKey(keyDir);
    // After `rotate-key` the key is new but the device id stays the first key's (device.id).
    return { ...key, deviceId: await readDeviceId(keyDir, key) };
  } catch (err) {
    if (!(err instanceof KeyFileError) || err.code !== 'not-found') throw err;
    const { privateKeyPath } = deviceKeyPaths(keyDir);
    throw new KeyFileError(
      'not-found',
      `no device key at ${privateKeyPath} (device.keyDir in the config): create and register ` +
        `one with \`enginechain provision --ingest <url> --token <token> --vin <VIN> --out ${keyDir}\`, ` +
        'or point device.keyDir at the folder that holds device.key',
      privateKeyPath,
      { cause: err },
    );
  }
}

/**
 * Reads the TLS files the config names, before anything else is opened, so a wrong path or a
 * client key others can read stops the agent at start naming the config key, not at the
 * first connection attempt minutes later in a log line.
 */
async function loadTlsFiles(ingest: AgentConfig['ingest']): Promise<TlsFiles | undefined> {
  if (ingest.ca === undefined && ingest.cert === undefined) return undefined;
  const read = async (key: 'ca' | 'cert' | 'key', path: string, secret: boolean) => {
    try {
      return secret ? await readSecretFile(path) : await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`ingest.${key}: cannot read ${path}: ${(err as Error).message}`, [
        { path: `ingest.${key}`, message: (err as Error).message },
      ]);
    }
  };
  return {
    ...(ingest.ca !== undefined ? { ca: await read('ca', ingest.ca, false) } : {}),
    ...(ingest.cert !== undefined ? { cert: await read('cert', ingest.cert, false) } : {}),
    ...(ingest.key !== undefined ? { key: await read('key', ingest.key, true) } : {}),
  };
}

interface TlsFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/**
 * The agent process: sources → merged stream → pipeline → signed batches in the outbox →
 * MQTT → receipts verified with the node's key → batches released. Runs until `stop()`.
 */
export class AgentRuntime {
  private readonly tickTimer: NodeJS.Timeout;
  private readonly sources: SignalSource[];
  private readonly loop: Promise<void>;
  private stopping = false;
  private batchesSigned = 0;
  private receipts = 0;
  private lastSampleAt = Date.now();
  private closeMetrics: (() => Promise<void>) | undefined;
  private finalStatus: AgentStatus | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopHeapCollector: (() => void) | undefined;
  private statusPath: string | undefined;
  private lastPrune = 0;

  private constructor(
    readonly key: DeviceKey,
    readonly outbox: OutboxStore,
    readonly pipeline: AgentPipeline,
    readonly transport: MqttBatchTransport,
    readonly metrics: AgentMetrics,
    private readonly clock: AgentClock,
    private readonly log: Logger,
    private readonly notifier: SystemdNotifier,
    sources: SignalSource[],
  ) {
    this.sources = sources;
    this.loop = this.run();
    this.tickTimer = setInterval(() => {
      try {
        this.pipeline.tick(this.clock.now());
      } catch (err) {
        this.log.error({ err }, 'batch cut failed');
      }
    }, 250);
  }

  static async start(options: AgentRuntimeOptions): Promise<AgentRuntime> {
    const config = options.config;
    const log = options.logger ?? pino({ name: 'enginechain-agent', level: config.log.level });
    const key = await loadAgentKey(config.device.keyDir);
    // The first signature builds noble's precomputed tables (tens of ms). Done here, not on the
    // first batch, so sampling never stalls on it: a stall squeezes readings together in time
    // and can fake an acceleration.
    signEs256k(new Uint8Array(32), key.privateKey);
    const tls = await loadTlsFiles(config.ingest);
    const receipts = new ReceiptVerifier({
      deviceId: key.deviceId,
      receiptPublicKey: ed25519PublicKeyFromRaw(
        new Uint8Array(Buffer.from(config.ingest.receiptPublicKey, 'base64')),
      ),
      checkpointVerifierKey: config.ingest.checkpointVerifierKey,
      logOrigin: config.ingest.logOrigin,
    });
    const outbox = OutboxStore.open({
      path: config.outbox.path,
      deviceId: key.deviceId,
      quotaBytes: config.outbox.quotaBytes,
    });
    const clock = new AgentClock({ rate: config.clockRate });
    const rates: Record<string, number> = {};
    for (const s of config.sources) if ('signals' in s) Object.assign(rates, s.signals);

    // Callbacks below need the runtime, which needs them: the reference is filled in last.
    const ref: { runtime?: AgentRuntime } = {};
    const metrics = new AgentMetrics({ outbox: () => outbox.stats() });
    const pipeline = new AgentPipeline({
      signer: new BatchSigner(key, config.device.vin, outbox, clock),
      events: config.events,
      crash: config.crash,
      batching: config.batching,
      rates,
      onBatch: (info) => {
        metrics.batches.inc({ kind: info.kind });
        if (ref.runtime) ref.runtime.batchesSigned++;
        transport.wake();
      },
      onEvent: (e) => log.info({ event: e.type, data: e.data }, 'driving event'),
      onTrip: (t) => log.info({ distanceKm: t.distanceKm }, 'trip ended'),
      onError: (err) => log.error({ err }, 'batch not stored'),
    });
    const transport = new MqttBatchTransport({
      url: config.ingest.url,
      deviceId: key.deviceId,
      password: () => createMqttToken(key.deviceId, key.privateKey),
      outbox,
      allowPlaintext: config.ingest.allowPlaintext,
      backoff: config.ingest.reconnect,
      subscribeControl: false,
      ...(tls ? { tls } : {}),
      onReceiptMessage: (bytes) => ref.runtime?.onNodeMessage(bytes, receipts),
    });
    transport.on('reconnect-scheduled', () => metrics.reconnects.inc());
    transport.on('problem', (err) => log.warn({ err: err.message }, 'transport'));
    transport.on('connected', (c) => log.info(c, 'connected to the ingestion node'));

    const make = options.createSource ?? createSource;
    const sources = config.sources.map(
      (c) =>
        new ReconnectingSource(make(c), {
          onStatus: (s) => {
            if (s.kind === 'disconnected') {
              metrics.sourceErrors.inc({ source: c.type, code: s.error.code });
              log.warn(
                { source: c.type, code: s.error.code, attempt: s.attempt },
                'source lost, reconnecting',
              );
            } else log.info({ source: c.type, attempts: s.attempts }, 'source back');
          },
        }),
    );
    // Every source must answer at start: an installer wants to hear about a wrong port now.
    try {
      await Promise.all(sources.map((s) => s.open()));
    } catch (err) {
      await Promise.all(sources.map((s) => s.close()));
      outbox.close();
      throw err;
    }
    const notifier = new SystemdNotifier();
    const runtime = new AgentRuntime(
      key,
      outbox,
      pipeline,
      transport,
      metrics,
      clock,
      log,
      notifier,
      sources,
    );
    ref.runtime = runtime;
    transport.start();
    if (options.serveMetrics ?? true) {
      try {
        const m = await serveMetrics(metrics.registry, config.metrics);
        runtime.closeMetrics = m.close;
        log.info({ url: m.url }, 'metrics');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'metrics not served');
      }
    }
    await notifier.ready(`device ${key.deviceId}, ${sources.length} sources`).catch(() => {});
    const r = runtime;
    r.statusPath = agentStatusPath(config.outbox.path);
    r.writeStatus();
    r.statusTimer = setInterval(() => {
      // NTP may set or step the system clock at any time; the jump goes into the next batch.
      // Not when agent time runs faster than real time (a simulator): there the system clock
      // is not the time base.
      if (config.clockRate === 1) r.clock.resyncSystem();
      r.writeStatus();
      // Receipts are kept a week for audits, then pruned so a small disk does not fill up.
      if (Date.now() - r.lastPrune > 3_600_000) {
        r.lastPrune = Date.now();
        r.outbox.pruneReceipts(Date.now() - 7 * 24 * 3_600_000);
      }
    }, 2_000);
    r.statusTimer.unref();
    r.stopHeapCollector = startHeapCollector(HEAP_COLLECT_EVERY_MS);
    notifier.startWatchdog(() => Date.now() - r.lastSampleAt < 60_000 && !r.stopping);
    log.info({ deviceId: key.deviceId, sources: sources.map((s) => s.id) }, 'agent started');
    return runtime;
  }

  private async run(): Promise<void> {
    for await (const r of mergeSources(this.sources, this.clock, (id, err) =>
      this.log.error(
        { source: id, err: err instanceof AdapterError ? err.message : String(err) },
        'source ended',
      ),
    )) {
      this.lastSampleAt = Date.now();
      this.metrics.samples.inc();
      // GNSS time sets the wall clock while there is a fix; jumps are recorded, not hidden.
      if (r.source.startsWith('nmea') && r.name === 'Vehicle.CurrentLocation.Latitude')
        this.clock.gnssFix(r.sourceTime);
      try {
        this.pipeline.push(r);
      } catch (err) {
        this.log.error({ err }, 'reading not processed');
      }
    }
  }

  private onNodeMessage(bytes: Uint8Array, receipts: ReceiptVerifier): void {
    const v = receipts.verify(bytes);
    if (!v.ok) {
      this.metrics.refusedNodeMessages.inc({ code: v.code });
      this.log.warn({ code: v.code, detail: v.detail }, 'node message refused');
      return;
    }
    const m = v.message;
    if (m.type === 'resend') {
      this.outbox.releaseInFlight(m.seqs);
      this.transport.wake();
      return;
    }
    try {
      if (
        this.outbox.markReceipted(m.seq, m.batchHash, bytes, { logIndex: m.leafIndex }) ===
        'receipted'
      ) {
        this.receipts++;
        this.metrics.receipts.inc();
      }
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, seq: m.seq },
        'receipt does not match the outbox',
      );
    }
  }

  status(): AgentStatus {
    if (this.finalStatus) return this.finalStatus;
    return {
      deviceId: this.key.deviceId,
      samples: this.pipeline.samples,
      batchesSigned: this.batchesSigned,
      receipts: this.receipts,
      outbox: this.outbox.stats(),
      connected: this.transport.connected,
      events: this.pipeline.eventLog.map((e) => ({ type: e.type, start: e.start, data: e.data })),
      trips: this.pipeline.tripLog.map((t) => ({
        start: t.start,
        end: t.end,
        distanceKm: t.distanceKm,
      })),
      currentTripKm: this.pipeline.trips.current?.distanceKm,
    };
  }

  private writeStatus(status: AgentStatus = this.status()): void {
    if (!this.statusPath) return;
    try {
      const tmp = `${this.statusPath}.tmp`;
      writeFileSync(
        tmp,
        JSON.stringify({ ...status, writtenAt: new Date().toISOString() }, null, 2) + '\n',
      );
      renameSync(tmp, this.statusPath);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'status file not written');
    }
  }

  /** Stops sampling, cuts what is pending into batches, and keeps sending for `drainMs`. */
  async stop(options: { drainMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.notifier.stopping().catch(() => {});
    await Promise.all(this.sources.map((s) => s.close()));
    await this.loop;
    clearInterval(this.tickTimer);
    this.pipeline.flush();
    this.transport.wake();
    const deadline = Date.now() + (options.drainMs ?? 0);
    while (Date.now() < deadline && this.outbox.stats().depth > 0)
      await new Promise((r) => setTimeout(r, 50));
    await this.transport.stop();
    await this.closeMetrics?.();
    this.finalStatus = this.status();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.stopHeapCollector?.();
    this.writeStatus(this.finalStatus);
    this.outbox.close();
    this.log.info('agent stopped');
  }
}
