import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  AgentRuntime,
  ConfigError,
  loadAgentConfig,
  provisionDevice,
  type AgentConfig,
} from '@enginechain/agent';
import { brokerTlsOptions, IngestNode } from '@enginechain/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../../ingest/src/broker/test-pki.js';
import { pushedSpeedSource as testSource } from '../support/pushed-source.js';

// Issue 5: "mqtt.js 5 over TLS (mTLS optional)". The agent process's own path: the config
// names PEM files (ingest.ca, ingest.cert, ingest.key), the runtime reads them at start and
// delivers over mqtts:// to a node whose broker wants a device certificate as well as the
// token; a file it cannot use stops it at start naming the config key.

const VIN = '1HGCM82633A004352';
let pki: TestPki;
let work: string;
let node: IngestNode;
let mqttsUrl: string;

beforeAll(async () => {
  pki = makeTestPki();
  work = mkdtempSync(join(tmpdir(), 'enginechain-agent-tls-'));
  const tls = await brokerTlsOptions({
    certFile: pki.files.serverCert,
    keyFile: pki.files.serverKey,
    clientCaFile: pki.files.caCert,
  });
  node = await IngestNode.start({
    dataDir: join(work, 'node'),
    mqtt: { host: '127.0.0.1', port: 0 },
    brokerListeners: [{ kind: 'mqtts', host: '127.0.0.1', port: 0, tls }],
    http: { host: '127.0.0.1', port: 0 },
    checkpointIntervalMs: 100,
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
  });
  mqttsUrl = node.broker!.listeners.find((l) => l.kind === 'mqtts')!.url;
});
afterAll(async () => {
  await node.stop();
  pki.remove();
});

/** A provisioned device whose config points at the mqtts listener with the given TLS files. */
async function provisioned(
  name: string,
  tls: Partial<AgentConfig['ingest']>,
): Promise<AgentConfig> {
  const { token } = await node.enrolment.issueToken(VIN);
  const p = await provisionDevice({
    ingest: node.httpUrl, token, vin: VIN, out: join(work, name), brokerUrl: mqttsUrl,
    sources: [{ type: 'nmea', port: '/dev/enginechain/gnss' }],
  }); // prettier-ignore
  const config = loadAgentConfig(p.configPath);
  return {
    ...config,
    ingest: { ...config.ingest, reconnect: { baseMs: 100, capMs: 500 }, ...tls },
    batching: { maxAgeMs: 500, maxSamples: 5_000 },
  };
}

describe('the agent over mqtts with a client certificate', () => {
  it('reads the TLS files of its config and delivers every batch to a node that wants them', async () => {
    const keyCopy = join(work, 'client.key');
    copyFileSync(pki.files.clientKey, keyCopy);
    chmodSync(keyCopy, 0o600);
    const config = await provisioned('mtls', {
      ca: pki.files.caCert,
      cert: pki.files.clientCert,
      key: keyCopy,
    });
    const source = testSource();
    const runtime = await AgentRuntime.start({
      config,
      createSource: () => source,
      serveMetrics: false,
      logger: pino({ level: 'silent' }),
    });
    try {
      for (let i = 0; i < 30; i++) {
        source.push(40 + i / 10);
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const until = Date.now() + 20_000; Date.now() < until;) {
        const s = runtime.status();
        if (s.batchesSigned >= 2 && s.outbox.depth === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const s = runtime.status();
      expect(s.connected).toBe(true);
      expect(s.batchesSigned).toBeGreaterThanOrEqual(2);
      expect(s.outbox.depth).toBe(0);
      expect(s.receipts).toBe(s.batchesSigned);
    } finally {
      await runtime.stop({ drainMs: 5_000 });
    }
    const stored = await node.store.batchesByVin(VIN, 0, Number.MAX_SAFE_INTEGER);
    expect(stored.length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a CA file it cannot read, or a client key others can read, stops it at start naming the key', async () => {
    const missing = await provisioned('no-ca', { ca: join(work, 'no-such-ca.pem') });
    await expect(AgentRuntime.start({ config: missing, createSource: () => testSource(), serveMetrics: false, logger: pino({ level: 'silent' }) })).rejects.toSatisfy(
      (err: unknown) => err instanceof ConfigError && err.issues[0]?.path === 'ingest.ca' && err.message.includes('no-such-ca.pem'),
    ); // prettier-ignore
    const openKey = join(work, 'open-client.key');
    copyFileSync(pki.files.clientKey, openKey);
    chmodSync(openKey, 0o644);
    const exposed = await provisioned('open-key', { ca: pki.files.caCert, cert: pki.files.clientCert, key: openKey }); // prettier-ignore
    await expect(AgentRuntime.start({ config: exposed, createSource: () => testSource(), serveMetrics: false, logger: pino({ level: 'silent' }) })).rejects.toSatisfy(
      (err: unknown) => err instanceof ConfigError && err.issues[0]?.path === 'ingest.key' && /chmod 600/.test(err.message),
    ); // prettier-ignore
  }, 30_000);
});
