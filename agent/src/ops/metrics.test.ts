import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutboxStore } from '../outbox/outbox-store.js';
import { chainedBatch, seededRandom } from '../outbox/test-batches.js';
import { AgentMetrics, MetricsServerError, serveMetrics } from './metrics.js';

const DEVICE = '0123456789abcdef0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'agent-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real outbox file whose stats() calls are counted. */
function countedOutbox(name: string, quotaBytes = 1 << 20) {
  const clock = { now: 1_700_000_000_000 };
  const store = OutboxStore.open({
    path: join(dir, `${name}.db`),
    deviceId: DEVICE,
    quotaBytes,
    now: () => clock.now,
  });
  const counter = { reads: 0 };
  const append = (kind: 'routine' | 'event', size: number) => {
    const b = chainedBatch(store.chainHead(), kind, size, {
      random: seededRandom(store.chainHead().nextSeq),
    });
    store.appendBatch(b);
    return b;
  };
  const outbox = () => {
    counter.reads++;
    return store.stats();
  };
  return { store, clock, counter, append, outbox };
}

const valueOf = (body: string, name: string): number | undefined => {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe('AgentMetrics', () => {
  it('serves counters and the outbox figures of a real outbox file on loopback', async () => {
    const o = countedOutbox('serve');
    const metrics = new AgentMetrics({ outbox: o.outbox }, () => o.clock.now);
    const first = o.append('routine', 1_000);
    o.append('event', 500);
    o.store.markReceipted(first.seq, first.hash, new Uint8Array([1]), { logIndex: 0 });
    o.clock.now += 15_000;
    metrics.samples.inc(1_000);
    metrics.batches.inc({ kind: 'trace' });
    metrics.reconnects.inc();
    const server = await serveMetrics(metrics.registry, { host: '127.0.0.1', port: 0 });
    try {
      const body = await (await fetch(server.url)).text();
      expect(body).toContain('enginechain_agent_samples_total 1000');
      expect(body).toContain('enginechain_agent_batches_total{kind="trace"} 1');
      expect(body).toContain('enginechain_agent_reconnects_total 1');
      expect(valueOf(body, 'enginechain_agent_outbox_depth')).toBe(1);
      expect(valueOf(body, 'enginechain_agent_outbox_bytes')).toBe(o.store.stats().bytes);
      expect(valueOf(body, 'enginechain_agent_last_receipt_age_seconds')).toBe(15);
      expect(valueOf(body, 'enginechain_agent_evictions_total')).toBe(0);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
      o.store.close();
    }
  });

  it('reads the outbox once per scrape, not once per gauge, and afresh at the next scrape', async () => {
    const o = countedOutbox('once');
    const metrics = new AgentMetrics({ outbox: o.outbox }, () => o.clock.now);
    const body0 = await metrics.registry.metrics();
    expect(o.counter.reads).toBe(1);
    expect(valueOf(body0, 'enginechain_agent_outbox_depth')).toBe(0);
    expect(valueOf(body0, 'enginechain_agent_last_receipt_age_seconds')).toBe(-1);

    o.append('routine', 800);
    o.append('routine', 800);
    const body1 = await metrics.registry.metrics();
    expect(o.counter.reads).toBe(2);
    expect(valueOf(body1, 'enginechain_agent_outbox_depth')).toBe(2);
    expect(valueOf(body1, 'enginechain_agent_outbox_bytes')).toBe(1_600);

    // Two scrapes started in the same turn see the same instant: one read serves both.
    const [a, b] = await Promise.all([metrics.registry.metrics(), metrics.registry.metrics()]);
    expect(o.counter.reads).toBe(3);
    expect(valueOf(a, 'enginechain_agent_outbox_depth')).toBe(2);
    expect(valueOf(b, 'enginechain_agent_outbox_depth')).toBe(2);

    // The JSON form and a single metric are scrapes too.
    const json = await metrics.registry.getMetricsAsJSON();
    expect(o.counter.reads).toBe(4);
    expect(json.find((m) => m.name === 'enginechain_agent_outbox_bytes')?.values[0]?.value).toBe(
      1_600,
    );
    const single = await metrics.registry.getSingleMetricAsString('enginechain_agent_outbox_depth');
    expect(o.counter.reads).toBe(5);
    expect(single).toContain('enginechain_agent_outbox_depth 2');
    o.store.close();
  });

  it('shows the evictions the outbox file counted, including those of earlier runs', async () => {
    // 1 MiB quota: routine batches of 300 KiB, so the fourth evicts the first.
    const o = countedOutbox('evict', 1 << 20);
    for (let i = 0; i < 5; i++) o.append('routine', 300 * 1024);
    const evicted = o.store.stats().evictionsTotal;
    expect(evicted).toBeGreaterThan(0);
    // A new AgentMetrics is what a restarted agent has: the count must not start from 0.
    const metrics = new AgentMetrics({ outbox: o.outbox });
    const body = await metrics.registry.metrics();
    expect(valueOf(body, 'enginechain_agent_evictions_total')).toBe(evicted);
    expect(await metrics.registry.metrics()).toContain(
      `enginechain_agent_evictions_total ${evicted}`,
    );
    o.store.close();
  });

  it('refuses to expose metrics beyond loopback unless asked', async () => {
    const metrics = new AgentMetrics({
      outbox: () => ({ depth: 0, bytes: 0, lastReceiptAt: undefined, evictionsTotal: 0 }),
    });
    await expect(serveMetrics(metrics.registry, { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      MetricsServerError,
    );
  });
});
