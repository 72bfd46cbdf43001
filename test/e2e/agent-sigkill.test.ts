import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentStatusPath, loadAgentConfig, provisionDevice } from '@enginechain/agent';
import {
  SIM_VEHICLE_DBC_PATH,
  SIM_VEHICLE_VSS_MAPPING,
  startEnginechain,
} from '@enginechain/hardware';
import { IngestNode } from '@enginechain/ingest';
import { decodeBatch, samplesFromColumns } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';

// Issue 5: the agent process is SIGKILLed at 20 random moments while it samples the simulated
// car (SLCAN, IMU, GNSS over ptys) and sends; after each restart the chain continues, and at the
// end the node holds every seq once, chained, with each batch's samples stored exactly once.
// Issue 4: the SLCAN adapter keeps answering the restarted agent every time (the agent refuses
// to start when a source does not open) and its frames still reach the node at the end.
describe('agent killed with SIGKILL at 20 random moments', () => {
  it('continues its chain after every restart and loses or duplicates nothing it accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enginechain-kill-agent-'));
    const nodeDir = join(dir, 'node');
    const node = await startEnginechain(
      ['ingest', '--data', nodeDir, '--mqtt', '127.0.0.1:0', '--http', '127.0.0.1:0'],
      { logPath: join(dir, 'ingest.log') },
    );
    const sim = await startEnginechain(
      // UDDS (1,370 s) at 5x lasts 274 s, longer than this test: once a cycle ends the
      // simulator closes its ptys and no agent could start any more.
      ['simulate', '--cycle', 'udds', '--speedup', '5', '--pty', '--json', '--no-noise'],
      { logPath: join(dir, 'sim.log') },
    );
    const agentLogs = join(dir, 'agent.log');
    try {
      const vin = String(sim.announced.vin);
      const ifs = sim.announced.interfaces as { imu: string; nmea: string; slcan: string };
      const mappingPath = join(dir, 'sim-vehicle.vss.json');
      writeFileSync(mappingPath, JSON.stringify(SIM_VEHICLE_VSS_MAPPING));
      const enrol = await startEnginechain(
        ['device', 'enroll', '--data', nodeDir, '--vin', vin, '--json'],
        { logPath: join(dir, 'enroll.log') },
      );
      const p = await provisionDevice({
        ingest: String(node.announced.httpUrl), token: String(enrol.announced.token), vin, out: join(dir, 'agent'),
        sources: [
          { type: 'slcan', port: ifs.slcan, dbc: SIM_VEHICLE_DBC_PATH, mapping: mappingPath, signals: {} },
          { type: 'imu', port: ifs.imu },
          { type: 'nmea', port: ifs.nmea },
        ],
      }); // prettier-ignore
      // Small batches (1 s of agent time) so that kills land in every phase: sampling, signing,
      // appending, publishing, receipting.
      const config = {
        ...loadAgentConfig(p.configPath),
        clockRate: 5,
        batching: { maxAgeMs: 1_000, maxSamples: 5_000 },
        metrics: { host: '127.0.0.1', port: 0, allowRemote: false },
      };
      writeFileSync(p.configPath, JSON.stringify(config));
      const status = agentStatusPath(config.outbox.path);

      for (let kill = 0; kill < 20; kill++) {
        const agent = await startEnginechain(['agent', '--config', p.configPath], {
          logPath: agentLogs,
          announce: false,
        });
        const up = Date.now() + 30_000;
        let started = false;
        while (!started && Date.now() < up && agent.child.exitCode === null) {
          try {
            started = JSON.parse(readFileSync(status, 'utf8')).samples >= 0;
          } catch {
            /* not written yet */
          }
          if (!started) await new Promise((r) => setTimeout(r, 50));
        }
        // The status file is written once every source opened, SLCAN included.
        expect(started, `agent run ${kill} did not start (see ${agentLogs})`).toBe(true);
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 1_300));
        agent.child.kill('SIGKILL');
        await agent.exited;
        writeFileSync(status, ''); // the next start must write a fresh one
      }
      // A last run that is allowed to drain its outbox.
      const last = await startEnginechain(['agent', '--config', p.configPath, '--drain', '30000'], {
        logPath: agentLogs,
        announce: false,
      });
      await new Promise((r) => setTimeout(r, 3_000));
      await sim.stop();
      expect(await last.stop(60_000)).toBe(0);
      const final = JSON.parse(readFileSync(status, 'utf8')) as { outbox: { depth: number } };
      expect(final.outbox.depth).toBe(0);
      await node.stop();

      const { store, close } = await IngestNode.openData(nodeDir);
      try {
        const device = await store.getDevice(p.deviceId);
        expect(device?.nextSeq).toBeGreaterThan(20);
        const rows = await store.batchesByVin(vin, 0, Number.MAX_SAFE_INTEGER);
        expect(rows.map((r) => r.seq)).toEqual(
          Array.from({ length: device!.nextSeq }, (_, i) => i),
        );
        const samples = await store.samplesByVin(vin, 0, Number.MAX_SAFE_INTEGER);
        const stored = new Map<number, number>();
        for (const s of samples) stored.set(s.seq, (stored.get(s.seq) ?? 0) + 1);
        // Engine speed comes only from the SLCAN source (the IMU and GNSS do not carry it).
        const withCan: number[] = [];
        for (const r of rows) {
          const d = decodeBatch(r.bytes);
          expect(d.ok).toBe(true);
          if (!d.ok) continue;
          const batch = samplesFromColumns(d.value.payload.signals, d.value.payload.start);
          expect(stored.get(r.seq) ?? 0).toBe(batch.length);
          if (batch.some((x) => x.name === 'Vehicle.Powertrain.CombustionEngine.Speed'))
            withCan.push(r.seq);
        }
        expect(withCan.length).toBeGreaterThanOrEqual(20);
        // The last run (after the 20th kill) lasts seconds, several batches: CAN frames in them.
        expect(withCan.some((seq) => seq >= rows.length - 5)).toBe(true);
        expect(await store.rejectionCounts()).toEqual({});
      } finally {
        await close();
      }
    } finally {
      await sim.stop(2_000);
      await node.stop(2_000);
    }
  }, 240_000);
});
