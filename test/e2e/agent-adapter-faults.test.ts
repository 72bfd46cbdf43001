import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  AgentClock,
  BatchSigner,
  loadAgentConfig,
  OutboxStore,
  provisionDevice,
  type AgentConfigInput,
} from '@enginechain/agent';
import { startEnginechain } from '@enginechain/hardware';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  decodeBatch,
  generateDeviceKey,
  generateReceiptKey,
  generateSignerKey,
  rawEd25519PublicKey,
  samplesFromColumns,
  writeDeviceKey,
  ZERO_HASH,
} from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../agent/src/transport/test-brokers.js';
import { runCli } from '../support/run-cli.js';

// Issue 5: "Bad config, missing key, unreadable adapter, garbage from the adapter: clear
// errors, the process keeps what it has." (The missing key: agent-key-errors.test.ts.)

const VIN = '1HGCM82633A004352';
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `enginechain-${name}-`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A config for a device whose key is in `dir`, with node keys of a node that is not running. */
function offlineConfig(dir: string, sources: AgentConfigInput['sources']): AgentConfigInput {
  return {
    device: { keyDir: dir, vin: VIN },
    ingest: {
      url: 'mqtt://127.0.0.1:1',
      receiptPublicKey: Buffer.from(rawEd25519PublicKey(generateReceiptKey().publicKey)).toString('base64'), // prettier-ignore
      checkpointVerifierKey: generateSignerKey('enginechain.local-sidechain').verifierKey,
      logOrigin: 'enginechain.local/sidechain',
    },
    sources,
    outbox: { path: join(dir, 'outbox.db') },
    metrics: { port: 0 },
  };
}

/** Prometheus text → value per metric line, labels included in the key. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(enginechain_agent_[a-z_]+(?:\{[^}]*\})?) ([-0-9.e+]+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('enginechain agent: bad config and an unreadable adapter at start', () => {
  it('a bad config names every offending key, exits 2 and creates nothing', async () => {
    const dir = tmp('bad-config');
    const config = offlineConfig(dir, [{ type: 'nmea', port: '/dev/enginechain/gnss' }]);
    const bad = {
      ...config,
      sources: [{ type: 'nmea', prot: '/dev/enginechain/gnss' }],
      batching: { maxAgeMs: '10s' },
      events: { harshBrakingMs2: 3 },
    };
    const path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify(bad));
    const r = await runCli(['agent', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`config ${path} is invalid`);
    for (const key of [
      'sources[0].prot',
      'sources[0].port',
      'batching.maxAgeMs',
      'events.harshBrakingMs2',
    ])
      expect(r.stderr).toContain(`  ${key}: `);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'outbox.db'))).toBe(false);
  }, 30_000);

  it('an adapter that cannot be opened: names it, exits 1, and the outbox keeps every batch', async () => {
    const dir = tmp('no-adapter');
    const key = generateDeviceKey();
    await writeDeviceKey(dir, key);
    // What an earlier run left unsent: three signed batches on the device's chain.
    const outbox = OutboxStore.open({ path: join(dir, 'outbox.db'), deviceId: key.deviceId, quotaBytes: 1 << 26 }); // prettier-ignore
    const signer = new BatchSigner(key, VIN, outbox, new AgentClock());
    const t0 = Date.UTC(2026, 10, 25, 8);
    for (let b = 0; b < 3; b++) {
      const readings = Array.from({ length: 50 }, (_, i) => ({
        name: 'Vehicle.Speed', unit: 'km/h', value: 40 + i, time: t0 + b * 5_000 + i * 100, sourceTime: 0, source: 'earlier-run',
      })); // prettier-ignore
      signer.sign({ kind: 'routine', start: t0, end: t0 + 15_000, readings, events: [] });
    }
    const head = outbox.chainHead();
    outbox.close();

    const port = join(dir, 'gnss-unplugged');
    const path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify(offlineConfig(dir, [{ type: 'nmea', port }])));
    const r = await runCli(['agent', '--config', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AdapterError');
    expect(r.stderr).toContain(port);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const after = OutboxStore.open({ path: join(dir, 'outbox.db'), deviceId: key.deviceId, quotaBytes: 1 << 26 }); // prettier-ignore
    expect(after.chainHead()).toEqual(head);
    const kept = after.nextToSend(10).sort((a, b) => a.seq - b.seq);
    expect(kept.map((b) => [b.seq, b.sampleCount])).toEqual([
      [0, 50],
      [1, 50],
      [2, 50],
    ]);
    after.close();
  }, 30_000);
});

describe('enginechain agent: an adapter that sends garbage and drops off while it runs', () => {
  it('keeps running, counts the losses, reconnects, and delivers every batch it made', async () => {
    const dir = tmp('adapter-faults');
    const node = await IngestNode.start({
      dataDir: join(dir, 'node'),
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      checkpointIntervalMs: 250,
      verifierThreads: 1,
      logger: pino({ level: 'info' }, pino.destination(join(dir, 'ingest.log'))),
    });
    // The ELM327 answers with line noise before a reply every second and drops its TCP link
    // every 4 s; 20 % of the GNSS and IMU lines have a bad checksum.
    const sim = await startEnginechain(
      ['simulate', '--cycle', 'hwfet', '--no-noise', '--pty', '--elm327', 'tcp://127.0.0.1:0',
        '--elm327-garbage-every', '1', '--elm327-drop-every', '4', '--bad-checksum-rate', '0.2', '--json'],
      { logPath: join(dir, 'sim.log') },
    ); // prettier-ignore
    let agent: Awaited<ReturnType<typeof startEnginechain>> | undefined;
    try {
      const ifs = sim.announced.interfaces as { elm327: string; nmea: string; imu: string };
      const { token } = await node.enrolment.issueToken(VIN);
      const p = await provisionDevice({
        ingest: node.httpUrl, token, vin: VIN, out: join(dir, 'agent'),
        sources: [
          { type: 'elm327', port: ifs.elm327, signals: { 'Vehicle.Speed': 5, 'Vehicle.Powertrain.CombustionEngine.Speed': 5 } },
          { type: 'nmea', port: ifs.nmea },
          { type: 'imu', port: ifs.imu, signals: { 'Vehicle.Acceleration.Longitudinal': 10, 'Vehicle.Acceleration.Lateral': 10 } },
        ],
      }); // prettier-ignore
      const metricsPort = await freePort();
      const provisioned = loadAgentConfig(p.configPath);
      writeFileSync(
        p.configPath,
        JSON.stringify({
          ...provisioned,
          batching: { maxAgeMs: 2_000, maxSamples: 5_000 },
          metrics: { host: '127.0.0.1', port: metricsPort, allowRemote: false },
        }),
      );
      const agentLog = join(dir, 'agent.log');
      agent = await startEnginechain(['agent', '--config', p.configPath, '--drain', '20000'], {
        logPath: agentLog,
        announce: false,
      });
      const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
      let first: Map<string, number> | undefined;
      for (const until = Date.now() + 60_000; !first && Date.now() < until; await sleep(250))
        first = await scrape(metrics).catch(() => undefined);
      expect(first, `agent did not come up (see ${agentLog})`).toBeDefined();
      await sleep(14_000);
      const later = await scrape(metrics);
      expect(agent.child.exitCode, `agent exited (see ${agentLog})`).toBeNull();

      const lost = [...later].filter(([k]) =>
        k.startsWith('enginechain_agent_source_errors_total{source="elm327"'),
      );
      expect(lost.reduce((n, [, v]) => n + v, 0)).toBeGreaterThanOrEqual(2);
      expect(later.get('enginechain_agent_samples_total')! - first!.get('enginechain_agent_samples_total')!).toBeGreaterThan(500); // prettier-ignore
      expect(later.get('enginechain_agent_receipts_total') ?? 0).toBeGreaterThan(3);
      // Each drop-off is in the log as a loss and a return, not as a crash.
      const log = readFileSync(agentLog, 'utf8');
      expect(log).toContain('source lost, reconnecting');
      expect(log).toContain('source back');

      expect(await agent.stop(40_000)).toBe(0);
      agent = undefined;
      const status = JSON.parse(readFileSync(join(dir, 'agent', 'agent-status.json'), 'utf8')) as { outbox: { depth: number } }; // prettier-ignore
      expect(status.outbox.depth).toBe(0);
      await sim.stop();
      await node.stop();

      const { store, close } = await IngestNode.openData(join(dir, 'node'));
      try {
        const device = await store.getDevice(p.deviceId);
        const rows = (await store.batchesByVin(VIN, 0, Number.MAX_SAFE_INTEGER)).sort((a, b) => a.seq - b.seq); // prettier-ignore
        expect(rows.map((r) => r.seq)).toEqual(
          Array.from({ length: device!.nextSeq }, (_, i) => i),
        );
        let prev = ZERO_HASH;
        const speedTimes: number[] = [];
        for (const r of rows) {
          const d = decodeBatch(r.bytes);
          if (!d.ok) throw d.error;
          expect(d.value.payload.prev).toEqual(prev);
          prev = batchHash(r.bytes);
          for (const s of samplesFromColumns(d.value.payload.signals, d.value.payload.start))
            if (s.name === 'Vehicle.Speed' && typeof s.value === 'number') speedTimes.push(s.time);
        }
        expect(await store.rejectionCounts()).toEqual({});
        // ELM327 speeds from the whole run, across the drop-offs (the emulated adapter stays
        // away about 2 s each time): readings between all of them, no gap of 6 s or more.
        speedTimes.sort((a, b) => a - b);
        expect(speedTimes.length).toBeGreaterThan(15);
        for (let i = 1; i < speedTimes.length; i++)
          expect(speedTimes[i]! - speedTimes[i - 1]!).toBeLessThan(6_000);
      } finally {
        await close();
      }
    } finally {
      await agent?.stop(5_000);
      await sim.stop(2_000);
      await node.stop().catch(() => {});
    }
  }, 120_000);
});
