import { describe, expect, it } from 'vitest';
import { AgentMetrics, MetricsServerError, serveMetrics } from './metrics.js';

describe('AgentMetrics', () => {
  it('serves counters and live gauges on loopback', async () => {
    let depth = 3;
    const metrics = new AgentMetrics(
      { outboxDepth: () => depth, outboxBytes: () => 4_096, lastReceiptAt: () => 10_000 },
      () => 25_000,
    );
    metrics.samples.inc(1_000);
    metrics.batches.inc({ kind: 'trace' });
    metrics.reconnects.inc();
    const server = await serveMetrics(metrics.registry, { host: '127.0.0.1', port: 0 });
    try {
      const body = await (await fetch(server.url)).text();
      expect(body).toContain('enginechain_agent_samples_total 1000');
      expect(body).toContain('enginechain_agent_batches_total{kind="trace"} 1');
      expect(body).toContain('enginechain_agent_outbox_depth 3');
      expect(body).toContain('enginechain_agent_outbox_bytes 4096');
      expect(body).toContain('enginechain_agent_last_receipt_age_seconds 15');
      expect(body).toContain('enginechain_agent_reconnects_total 1');
      depth = 0;
      expect(await (await fetch(server.url)).text()).toContain('enginechain_agent_outbox_depth 0');
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuses to expose metrics beyond loopback unless asked', async () => {
    const metrics = new AgentMetrics({
      outboxDepth: () => 0,
      outboxBytes: () => 0,
      lastReceiptAt: () => undefined,
    });
    await expect(serveMetrics(metrics.registry, { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      MetricsServerError,
    );
  });
});
