import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadAgentConfig, provisionDevice } from '@enginechain/agent';
import {
  SIM_VEHICLE_DBC_PATH,
  SIM_VEHICLE_VSS_MAPPING,
  kitUnitNodeOptions,
  startEnginechain,
} from '@enginechain/hardware';
import { IngestNode, type IngestNodeOptions } from '@enginechain/ingest';
import { batchHash, decodeBatch, samplesFromColumns, ZERO_HASH } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../agent/src/transport/test-brokers.js';

// Issue 5: "The broker is down for a minute: everything arrives afterwards, events first."
//
// A real `enginechain agent` process samples the simulated car (SLCAN with the sim DBC, IMU,
// GNSS, all on pseudo-terminals from `enginechain simulate`) and delivers to an ingestion
// node whose embedded aedes broker is its MQTT endpoint. The node (broker included) is
// stopped for 60 s while the agent keeps sampling; the simulated car crashes during the outage
// (US06 at 60 s, 74.5 km/h) after a harsh acceleration at 50 s. The node then comes back on the
// same port and data folder. Afterwards the node holds every batch exactly once, accepted in
// seq order on one unbroken chain, the crash trace and event batches arrived before the
// routine backlog, the outbox drains, and the agent's memory stayed flat while its outbox grew.

const OUTAGE_MS = 60_000;
const VIN = '1HGCM82633A004352';

/** Resident set size of a process, bytes (Linux). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) * 1_024;
}

async function scrape(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(enginechain_agent_[a-z_]+) ([-0-9.e+]+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = (bytes: number) => (bytes / 1_048_576).toFixed(1);

describe('agent through a one-minute broker outage', () => {
  it('keeps sampling, keeps everything, sends traces and events first, and drains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enginechain-outage-'));
    const nodeOptions: IngestNodeOptions = {
      dataDir: join(dir, 'node'),
      mqtt: { host: '127.0.0.1', port: await freePort() },
      http: { host: '127.0.0.1', port: 0 },
      checkpointIntervalMs: 250,
      verifierThreads: 1,
      logger: pino({ level: 'info' }, pino.destination(join(dir, 'ingest.log'))),
    };
    let node: IngestNode | undefined = await IngestNode.start(nodeOptions);
    const sim = await startEnginechain(
      ['simulate', '--cycle', 'us06', '--crash-at', '60', '--no-noise', '--pty', '--json'],
      { logPath: join(dir, 'sim.log') },
    );
    const simStart = Date.now();
    let agent: Awaited<ReturnType<typeof startEnginechain>> | undefined;
    try {
      const ifs = sim.announced.interfaces as { imu: string; nmea: string; slcan: string };
      const mapping = join(dir, 'sim-vehicle-vss.json');
      writeFileSync(mapping, JSON.stringify(SIM_VEHICLE_VSS_MAPPING));
      const { token } = await node.enrolment.issueToken(VIN);
      const p = await provisionDevice({
        ingest: node.httpUrl, token, vin: VIN, out: join(dir, 'agent'),
        sources: [
          { type: 'slcan', port: ifs.slcan, dbc: SIM_VEHICLE_DBC_PATH, mapping, signals: {} },
          { type: 'imu', port: ifs.imu },
          { type: 'nmea', port: ifs.nmea },
        ],
      }); // prettier-ignore
      const metricsPort = await freePort();
      const provisioned = loadAgentConfig(p.configPath);
      writeFileSync(
        p.configPath,
        JSON.stringify({
          ...provisioned,
          // A short cap so the test does not wait up to a minute of jitter after the restart.
          ingest: { ...provisioned.ingest, reconnect: { baseMs: 250, capMs: 2_000 } },
          metrics: { host: '127.0.0.1', port: metricsPort, allowRemote: false },
        }),
      );
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      const agentLog = join(dir, 'agent.log');
      // Run as on a board: with the node flags of the systemd unit (interpreter only, small heap).
      agent = await startEnginechain(['agent', '--config', p.configPath, '--drain', '20000'], {
        logPath: agentLog,
        announce: false,
        env: { NODE_OPTIONS: kitUnitNodeOptions('enginechain-agent') },
      });
      const pid = agent.child.pid!;

      // Delivering normally first: receipts come back.
      const upBy = Date.now() + 40_000;
      for (;;) {
        const m = await scrape(metricsUrl).catch(() => ({}) as Record<string, number>);
        if ((m.enginechain_agent_receipts_total ?? 0) >= 2) break;
        if (Date.now() > upBy) throw new Error(`agent did not deliver (see ${agentLog})`);
        await sleep(250);
      }
      // The outage must cover the crash at 60 s and its 10 s of after-crash trace.
      await sleep(Math.max(0, simStart + 15_000 - Date.now()));
      const downAt = Date.now();
      expect(downAt - simStart).toBeLessThan(45_000);
      const before = await scrape(metricsUrl);
      await node.stop();
      node = undefined;

      const during: { at: number; rss: number; depth: number; bytes: number; samples: number }[] =
        [];
      while (Date.now() - downAt < OUTAGE_MS) {
        await sleep(Math.min(5_000, OUTAGE_MS - (Date.now() - downAt)));
        const m = await scrape(metricsUrl);
        during.push({
          at: Date.now() - downAt,
          rss: rssOf(pid),
          depth: m.enginechain_agent_outbox_depth ?? NaN,
          bytes: m.enginechain_agent_outbox_bytes ?? NaN,
          samples: m.enginechain_agent_samples_total ?? NaN,
        });
      }
      const last = during.at(-1)!;
      node = await IngestNode.start(nodeOptions);
      const upAt = Date.now();

      // Drained: every batch stored before the restart (and since) receipted.
      let drainedAt: number | undefined;
      while (drainedAt === undefined && Date.now() - upAt < 60_000) {
        const m = await scrape(metricsUrl);
        if (m.enginechain_agent_outbox_depth === 0) drainedAt = Date.now();
        else await sleep(100);
      }
      const first = during[0]!;
      // Batches the first node had stored but whose receipt the outage swallowed: sent again,
      // answered again, never stored twice (QoS 1 is at least once; the node makes it once).
      const resent = (await node.metrics.duplicates.get()).values[0]?.value ?? 0;
      // Measured before judged, so a failing run still reports its figures.
      console.info(
        `[outage] outbox after ${OUTAGE_MS / 1000} s: ${last.depth} batches, ${MB(last.bytes)} MB ` +
          `(${before.enginechain_agent_outbox_depth ?? 0} when the node stopped); ` +
          `agent RSS ${during.map((d) => MB(d.rss)).join(' → ')} MB; ` +
          `drained ${((drainedAt ?? NaN) - upAt) / 1000} s after the restart; ` +
          `${last.samples - first.samples} samples taken between the first and last check; ` +
          `${resent} duplicate deliveries answered by the restarted node`,
      );
      expect(drainedAt, 'outbox drained within 60 s of the restart').toBeDefined();
      const after = await scrape(metricsUrl);

      // Sampling went on through the outage, and the outbox held what could not be sent.
      expect(last.samples - first.samples).toBeGreaterThan(20_000);
      expect(last.depth).toBeGreaterThanOrEqual(first.depth + 5);
      expect(last.bytes).toBeGreaterThan(first.bytes);
      // Memory stays bounded: the backlog lives in SQLite, not in the process. V8 collects
      // lazily, so RSS saws up by 20-40 MB between major collections whatever the backlog
      // (a 3-minute run offline went 170 → 192 → 153 → 190 MB); the bound is set above that
      // saw tooth, not at zero growth.
      const rssGrowth = Math.max(...during.map((d) => d.rss)) - first.rss;
      expect(rssGrowth).toBeLessThan(64 * 1_048_576);
      expect(after.enginechain_agent_reconnects_total).toBeGreaterThan(
        before.enginechain_agent_reconnects_total ?? 0,
      );

      await sleep(2_000);
      expect(await agent.stop(40_000)).toBe(0);
      agent = undefined;
      await sim.stop();
      await node.stop();
      node = undefined;

      const { store, close } = await IngestNode.openData(nodeOptions.dataDir);
      try {
        const device = await store.getDevice(p.deviceId);
        const n = device!.nextSeq;
        const rows = await store.batchesByVin(VIN, 0, Number.MAX_SAFE_INTEGER);
        rows.sort((a, b) => a.seq - b.seq);
        // Every seq exactly once …
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => i));
        // … accepted in seq order (the log is in chain order) …
        for (let i = 1; i < rows.length; i++)
          expect(rows[i]!.leafIndex).toBeGreaterThan(rows[i - 1]!.leafIndex);
        // … on one unbroken chain, each sample stored once.
        const samples = await store.samplesByVin(VIN, 0, Number.MAX_SAFE_INTEGER);
        const stored = new Map<number, number>();
        for (const s of samples) stored.set(s.seq, (stored.get(s.seq) ?? 0) + 1);
        let prev = ZERO_HASH;
        for (const r of rows) {
          const d = decodeBatch(r.bytes);
          expect(d.ok).toBe(true);
          if (!d.ok) continue;
          expect(d.value.payload.seq).toBe(r.seq);
          expect(d.value.payload.prev).toEqual(prev);
          expect(d.value.payload.dropped).toEqual([]);
          prev = batchHash(r.bytes);
          expect(stored.get(r.seq) ?? 0).toBe(
            samplesFromColumns(d.value.payload.signals, d.value.payload.start).length,
          );
        }
        expect(await store.rejectionCounts()).toEqual({});

        // The backlog: batches whose data ended before the node came back, received after.
        const backlog = rows.filter((r) => r.receivedAt >= upAt && r.endTime < upAt - 1_000);
        const urgent = backlog.filter((r) => r.kind !== 'routine');
        const routine = backlog.filter((r) => r.kind === 'routine');
        const arrival = [...backlog].sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq);
        console.info(
          `[outage] ${n} batches; backlog of ${backlog.length} in arrival order: ` +
            arrival.map((r) => `${r.kind}#${r.seq}@+${r.receivedAt - upAt}ms`).join(', '),
        );
        expect(urgent.some((r) => r.kind === 'trace')).toBe(true);
        expect(urgent.some((r) => r.kind === 'event')).toBe(true);
        expect(routine.length).toBeGreaterThan(5);
        // Arrival order at the node (receivedAt is taken as aedes hands the message over):
        // the crash trace, then the events, then the routine backlog.
        const traceAt = Math.max(
          ...urgent.filter((r) => r.kind === 'trace').map((r) => r.receivedAt),
        );
        const eventsFrom = Math.min(
          ...urgent.filter((r) => r.kind === 'event').map((r) => r.receivedAt),
        );
        const lastUrgent = Math.max(...urgent.map((r) => r.receivedAt));
        const firstRoutine = Math.min(...routine.map((r) => r.receivedAt));
        expect(traceAt).toBeLessThanOrEqual(eventsFrom);
        expect(lastUrgent).toBeLessThanOrEqual(firstRoutine);
        const events = await store.eventsByVin(VIN);
        expect(events.some((e) => e.type === 'crash')).toBe(true);
        expect(events.some((e) => e.type === 'harsh-acceleration')).toBe(true);
      } finally {
        await close();
      }
    } finally {
      await agent?.stop(5_000);
      await sim.stop(2_000);
      await node?.stop();
    }
  }, 200_000);
});
