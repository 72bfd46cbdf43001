import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  agentStatusPath,
  loadAgentConfig,
  provisionDevice,
  type AgentStatus,
} from '@enginechain/agent';
import { buildEvidence, IngestNode } from '@enginechain/ingest';
import { verifyEvidence } from '@enginechain/shared';
import { SIM_VEHICLE_DBC_PATH, SIM_VEHICLE_VSS_MAPPING } from '../slcan/sim-vehicle.js';
import { startEnginechain, type EnginechainProcess } from './processes.js';

export interface DemoOptions {
  /** `udds`, `hwfet`, `us06`, `nycc` or a CSV path. */
  readonly cycle?: string;
  /** How many times faster than real time the cycle plays (the agent clock runs as fast). */
  readonly speedup?: number;
  /** Simulated second of a crash; undefined for none. */
  readonly crashAtS?: number;
  /** Folder for everything the demo writes (default: a new temporary folder). */
  readonly dir?: string;
  /** Progress lines for a person watching (not with --json). */
  readonly progress?: (line: string) => void;
}

export interface DemoSummary {
  readonly vin: string;
  readonly deviceId: string;
  readonly cycle: string;
  readonly speedup: number;
  readonly simulatedSeconds: number;
  readonly trip: { readonly distanceKm: number };
  readonly samples: number;
  readonly batches: { readonly sent: number; readonly receipted: number; readonly waiting: number };
  readonly events: readonly {
    readonly type: string;
    readonly at: string;
    readonly data: Readonly<Record<string, number | string>>;
  }[];
  readonly log: {
    readonly size: number;
    readonly origin: string;
    readonly checkpointVerifierKey: string;
  };
  readonly evidence: {
    readonly file: string | undefined;
    readonly verified: boolean;
    readonly batches?: number;
    readonly samples?: number;
    readonly error?: string;
  };
  readonly dir: string;
  /** Logins for the dashboard (also in `<dir>/logins.json`). */
  readonly logins: DemoLogins;
}

export interface DemoLogins {
  readonly owner: { readonly username: string; readonly password: string };
  readonly insurer: { readonly username: string; readonly password: string };
}

export const DEMO_OWNER = 'owner@demo.fleet';
export const DEMO_INSURER = 'insurer@demo.fleet';

/** Creates the demo's owner and insurer with fresh passwords; writes them to logins.json. */
async function createDemoUsers(nodeDir: string, dir: string): Promise<DemoLogins> {
  const add = async (username: string, kind: string, displayName: string) => {
    const p = await startEnginechain(
      ['user', 'add', '--data', nodeDir, '--username', username, '--kind', kind,
        '--display-name', displayName, '--generate-password', '--json'],
      { logPath: join(dir, 'users.log') },
    ); // prettier-ignore
    await p.exited;
    return { username, password: String(p.announced.password) };
  };
  const logins = {
    owner: await add(DEMO_OWNER, 'registered', 'Demo fleet owner'),
    insurer: await add(DEMO_INSURER, 'business', 'Demo insurer'),
  };
  writeFileSync(join(dir, 'logins.json'), JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 });
  return logins;
}

/** The owner grants the insurer everything about the demo vehicle, through the public API. */
async function grantInsurer(httpUrl: string, vin: string, logins: DemoLogins): Promise<void> {
  const session = await fetch(`${httpUrl}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(logins.owner),
  });
  if (session.status !== 200) throw new Error(`demo owner login failed: ${await session.text()}`);
  const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const res = await fetch(`${httpUrl}/v1/grants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({
      vin,
      business: logins.insurer.username,
      kinds: ['trips', 'events', 'traces', 'scores'],
      from: 0,
      to: Date.now() + 365 * 86_400_000,
      expiresAt: Date.now() + 30 * 86_400_000,
    }),
  });
  if (res.status !== 201) throw new Error(`demo grant failed: ${await res.text()}`);
}

/** Simulated seconds kept after a crash: the trace's 10 s after the trigger, plus margin. */
const AFTER_CRASH_S = 15;

/**
 * The main job (`npm start`): an ingestion node, the simulated vehicle and an agent, each its
 * own process as on real machines, talking over real links (MQTT over TCP; SLCAN, NMEA and IMU
 * over pseudo-terminals). Drives the cycle, lets the agent drain its outbox, writes the crash
 * evidence and verifies it offline. Returns the node's data folder for a node to serve on.
 */
export async function runDemo(o: DemoOptions = {}): Promise<DemoSummary> {
  const cycle = o.cycle ?? 'udds';
  const speedup = o.speedup ?? 10;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'enginechain-demo-'));
  mkdirSync(dir, { recursive: true });
  const say = o.progress ?? (() => {});
  const nodeDir = join(dir, 'node');
  const running: EnginechainProcess[] = [];
  try {
    const node = await startEnginechain(
      ['ingest', '--data', nodeDir, '--mqtt', '127.0.0.1:0', '--http', '127.0.0.1:0'],
      {
        logPath: join(dir, 'ingest.log'),
      },
    );
    running.push(node);
    const httpUrl = String(node.announced.httpUrl);
    say(`ingest node   ${httpUrl} (MQTT ${String(node.announced.brokerUrl)})`);

    // The car idles at t = 0 until the agent is up (SIGUSR1 below), so the agent sees the
    // whole cycle; the hold is only a ceiling.
    const holdS = 120;
    const simArgs = [
      'simulate',
      '--cycle',
      cycle,
      '--speedup',
      String(speedup),
      '--hold',
      String(holdS),
      '--pty',
      '--json',
      '--no-noise',
    ];
    if (o.crashAtS !== undefined) simArgs.push('--crash-at', String(o.crashAtS));
    const sim = await startEnginechain(simArgs, { logPath: join(dir, 'simulate.log') });
    running.push(sim);
    const vin = String(sim.announced.vin);
    const ifs = sim.announced.interfaces as { slcan: string; nmea: string; imu: string };
    const durationS = Number(sim.announced.durationS);
    say(`simulator     ${cycle} at ${speedup}× as VIN ${vin} (SLCAN, NMEA, IMU on ptys)`);

    // The fleet's people: the vehicle's owner, and an insurer the owner grants access to.
    const logins = await createDemoUsers(nodeDir, dir);
    say(`dashboard     ${httpUrl}/  owner ${logins.owner.username} / ${logins.owner.password}`);
    say(`              insurer ${logins.insurer.username} / ${logins.insurer.password}`);

    const enrol = await startEnginechain(
      ['device', 'enroll', '--data', nodeDir, '--vin', vin, '--owner', DEMO_OWNER, '--json'],
      {
        logPath: join(dir, 'enroll.log'),
      },
    );
    await enrol.exited;
    const mappingPath = join(dir, 'sim-vehicle.vss.json');
    writeFileSync(mappingPath, JSON.stringify(SIM_VEHICLE_VSS_MAPPING.filter((m) => !m.values)));
    const provisioned = await provisionDevice({
      ingest: httpUrl,
      token: String(enrol.announced.token),
      vin,
      out: join(dir, 'agent'),
      sources: [
        {
          type: 'slcan',
          port: ifs.slcan,
          dbc: SIM_VEHICLE_DBC_PATH,
          mapping: mappingPath,
          signals: {},
        },
        { type: 'nmea', port: ifs.nmea },
        { type: 'imu', port: ifs.imu },
      ],
    });
    // The vehicle's time runs `speedup`× faster: so must the agent's, or every acceleration
    // would look that much harsher.
    const config = {
      ...loadAgentConfig(provisioned.configPath),
      clockRate: speedup,
      metrics: { host: '127.0.0.1', port: 0, allowRemote: false },
    };
    writeFileSync(provisioned.configPath, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    const agent = await startEnginechain(
      ['agent', '--config', provisioned.configPath, '--drain', '30000'],
      {
        logPath: join(dir, 'agent.log'),
        announce: false,
      },
    );
    running.push(agent);
    say(`agent         device ${provisioned.deviceId}, config ${provisioned.configPath}`);
    await grantInsurer(httpUrl, vin, logins);
    say(`grant         ${DEMO_OWNER} lets ${DEMO_INSURER} see trips, events, traces and scores`);

    const endS =
      o.crashAtS !== undefined ? Math.min(o.crashAtS + AFTER_CRASH_S, durationS) : durationS;
    const statusFile = agentStatusPath(config.outbox.path);
    const readStatus = (): AgentStatus | undefined => {
      try {
        return JSON.parse(readFileSync(statusFile, 'utf8')) as AgentStatus;
      } catch {
        return undefined;
      }
    };
    const readyBy = Date.now() + 60_000;
    while (!readStatus()) {
      if (agent.child.exitCode !== null || Date.now() > readyBy) {
        throw new Error(`the agent did not start (see ${join(dir, 'agent.log')})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    sim.child.kill('SIGUSR1');
    const startedAt = Date.now();
    let lastReport = 0;
    const simTime = () => Math.max(0, ((Date.now() - startedAt) / 1000) * speedup);
    while (simTime() < endS && sim.child.exitCode === null && agent.child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
      if (simTime() - lastReport >= 120) {
        lastReport = simTime();
        const s = readStatus();
        if (s)
          say(
            `  t=${simTime().toFixed(0)} s  ${(s.currentTripKm ?? 0).toFixed(2)} km, ${s.batchesSigned} batches, ${s.receipts} receipted, events: ${s.events.map((e) => e.type).join(', ') || 'none'}`,
          );
      }
    }
    if (agent.child.exitCode !== null)
      throw new Error(`the agent stopped early (see ${join(dir, 'agent.log')})`);
    const simulatedSeconds = Math.min(simTime(), endS);
    await sim.stop();
    await agent.stop(60_000);
    const status = readStatus();
    if (!status) throw new Error(`the agent left no status (see ${join(dir, 'agent.log')})`);
    say(
      `agent done    ${status.batchesSigned} batches signed, ${status.receipts} receipted, ${status.outbox.depth} still waiting`,
    );
    await node.stop();
    running.length = 0;

    // Evidence from the node's data, with the node stopped: what an operator would hand over.
    const { store, sidechain, keys, close } = await IngestNode.openData(nodeDir);
    try {
      const crash = (await store.eventsByVin(vin)).find((e) => e.type === 'crash');
      let evidence: DemoSummary['evidence'] = {
        file: undefined,
        verified: false,
        error: 'no crash in this drive',
      };
      if (crash) {
        const file = join(dir, `evidence-${vin}-event-${crash.id}.cbor`);
        const bytes = await buildEvidence({
          store,
          sidechain,
          signer: keys.checkpointSigner,
          request: { vin, eventId: crash.id },
        });
        writeFileSync(file, bytes);
        try {
          const v = verifyEvidence(bytes, { trustedKeys: [keys.checkpointVerifierKey] });
          evidence = { file, verified: true, batches: v.batches.length, samples: v.samples.length };
          say(
            `evidence      ${file}: verified, ${v.batches.length} batches, ${v.samples.length} samples`,
          );
        } catch (err) {
          evidence = { file, verified: false, error: (err as Error).message };
        }
      }
      const trip = status.trips.at(-1);
      return {
        vin,
        deviceId: status.deviceId,
        cycle,
        speedup,
        simulatedSeconds: Math.round(simulatedSeconds),
        trip: {
          distanceKm: Math.round((trip?.distanceKm ?? status.currentTripKm ?? 0) * 1000) / 1000,
        },
        samples: status.samples,
        batches: {
          sent: status.batchesSigned,
          receipted: status.receipts,
          waiting: status.outbox.depth,
        },
        events: status.events.map((e) => ({
          type: e.type,
          at: new Date(e.start).toISOString(),
          data: e.data,
        })),
        log: {
          size: await store.logSize(),
          origin: sidechain.origin,
          checkpointVerifierKey: keys.checkpointVerifierKey,
        },
        evidence,
        dir,
        logins,
      };
    } finally {
      await close();
    }
  } finally {
    for (const p of running.reverse()) await p.stop(5_000);
  }
}
