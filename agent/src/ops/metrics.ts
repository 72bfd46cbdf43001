import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The outbox figures the gauges show, as one read of the outbox gives them (`OutboxStore.stats()`
 * fits). `evictionsTotal` is the store's persisted count, so the counter survives restarts.
 */
export interface OutboxGaugeReading {
  readonly depth: number;
  readonly bytes: number;
  /** Unix ms of the last verified receipt, undefined before the first. */
  readonly lastReceiptAt: number | undefined;
  readonly evictionsTotal: number;
}

/** Live figures the metrics read at scrape time (the outbox owns them). */
export interface AgentGaugeSources {
  /** Called once per scrape, however many gauges show its figures. */
  outbox(): OutboxGaugeReading;
}

/**
 * The agent's Prometheus metrics. Counters are incremented by the pipeline; the outbox figures
 * are read from the outbox at scrape time so they can never drift from the truth.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly samples = new Counter({
    name: 'enginechain_agent_samples_total',
    help: 'Readings accepted into batches',
    registers: [this.registry],
  });
  readonly batches = new Counter({
    name: 'enginechain_agent_batches_total',
    help: 'Batches signed and stored in the outbox, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly receipts = new Counter({
    name: 'enginechain_agent_receipts_total',
    help: 'Verified receipts from the ingestion node',
    registers: [this.registry],
  });
  readonly refusedNodeMessages = new Counter({
    name: 'enginechain_agent_refused_node_messages_total',
    help: 'Receipts and resend requests refused before they could touch the outbox, by reason',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'enginechain_agent_reconnects_total',
    help: 'MQTT reconnect attempts',
    registers: [this.registry],
  });
  readonly sourceErrors = new Counter({
    name: 'enginechain_agent_source_errors_total',
    help: 'Errors from signal sources, by source and code',
    labelNames: ['source', 'code'] as const,
    registers: [this.registry],
  });
  private outboxReading: OutboxGaugeReading | undefined;

  constructor(
    private readonly sources: AgentGaugeSources,
    now: () => number = Date.now,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'enginechain_agent_' });
    const read = () => this.readOutbox();
    new Gauge({
      name: 'enginechain_agent_outbox_depth',
      help: 'Batches waiting for a receipt',
      registers: [this.registry],
      collect() {
        this.set(read().depth);
      },
    });
    new Gauge({
      name: 'enginechain_agent_outbox_bytes',
      help: 'Bytes of batches waiting for a receipt',
      registers: [this.registry],
      collect() {
        this.set(read().bytes);
      },
    });
    new Gauge({
      name: 'enginechain_agent_last_receipt_age_seconds',
      help: 'Seconds since the last verified receipt (-1 before the first)',
      registers: [this.registry],
      collect() {
        const at = read().lastReceiptAt;
        this.set(at === undefined ? -1 : (now() - at) / 1_000);
      },
    });
    // The outbox counts evictions in its file; a counter kept in memory would restart at 0
    // with every agent restart and miss the evictions of earlier runs.
    new Counter({
      name: 'enginechain_agent_evictions_total',
      help: 'Routine batches evicted by the disk quota (since the outbox file was created)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read().evictionsTotal);
      },
    });
  }

  /**
   * One outbox read serves every metric of a scrape. prom-client runs each metric's `collect`
   * one after another in the same synchronous turn of `registry.metrics()`, so the reading is
   * kept until the microtask queue runs and the next scrape reads afresh. Each read is several
   * SQLite queries; four of them per scrape were three too many on a gateway board.
   */
  private readOutbox(): OutboxGaugeReading {
    if (this.outboxReading) return this.outboxReading;
    const reading = this.sources.outbox();
    this.outboxReading = reading;
    queueMicrotask(() => {
      this.outboxReading = undefined;
    });
    return reading;
  }
}

export class MetricsServerError extends Error {
  override readonly name = 'MetricsServerError';
}

/**
 * Serves `/metrics` on loopback. Metrics reveal driving activity, so binding anywhere else
 * needs `allowRemote`.
 */
export async function serveMetrics(
  registry: Registry,
  listen: { host: string; port: number; allowRemote?: boolean },
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const loopback =
    listen.host === '127.0.0.1' || listen.host === '::1' || listen.host === 'localhost';
  if (!loopback && !listen.allowRemote) {
    throw new MetricsServerError(
      `metrics listen host ${listen.host} is not loopback; set metrics.allowRemote to expose it`,
    );
  }
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${listen.host}:${port}/metrics`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
