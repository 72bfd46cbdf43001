import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentClock,
  AgentPipeline,
  BatchSigner,
  mergeSources,
  OutboxStore,
  type EventThresholds,
} from '@enginechain/agent';
import {
  DbcSignalSource,
  encodeMessage,
  type CanFrame,
  type CanFrameSource,
  type DbcDatabase,
} from '@enginechain/firmware-bridge';
import {
  loadDriveCycle,
  loadSimVehicleDbc,
  SIM_VEHICLE_VSS_MAPPING,
  simVehicleSignals,
  VehicleSimulator,
  type DriveCycleName,
} from '@enginechain/hardware';
import { batchHash, generateDeviceKey, verifyBatch, ZERO_HASH } from '@enginechain/shared';
import { afterAll, describe, expect, it } from 'vitest';

// Issue 5: whole EPA cycles played by the vehicle simulator (noise off) on the simulated car's
// CAN bus, decoded through its DBC by firmware-bridge's DbcSignalSource and fed through the
// agent's sampling (merge + agent clock), event, trip and batch path into a real outbox. The
// trip distance must match the drive-cycles README within 0.5 % and the harsh-event counts
// must equal the README's counts for the same thresholds.
//
// Time is simulated: the bus advances a virtual clock frame by frame and waits until the agent
// has taken every reading of a frame before sending the next one, so the agent clock reads the
// vehicle's time exactly, however loaded the machine is (a wall clock sped up 100× would turn
// a 5 ms stall into half a second of fake acceleration).

/** hardware/data/drive-cycles/README.md, "Handy test facts" and the distance column. */
const README = {
  udds: { km: 11.99, accel: { 2.0: 0, 2.5: 0 }, decel: { '-1.8': 0, '-2.4': 0, '-2.7': 0, '-3.0': 0 } },
  hwfet: { km: 16.507, accel: { 2.0: 0, 2.5: 0 }, decel: { '-1.8': 0, '-2.4': 0, '-2.7': 0, '-3.0': 0 } },
  us06: { km: 12.888, accel: { 2.0: 11, 2.5: 7 }, decel: { '-1.8': 9, '-2.4': 7, '-2.7': 2, '-3.0': 1 } },
  nycc: { km: 1.898, accel: { 2.0: 5, 2.5: 2 }, decel: { '-1.8': 3, '-2.4': 2, '-2.7': 0, '-3.0': 0 } },
} as const; // prettier-ignore

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const VIN = '1HGCM82633A004352';
const dir = mkdtempSync(join(tmpdir(), 'enginechain-agent-cycles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface VirtualTime {
  ms: number;
}

/**
 * The simulated car's CAN bus on virtual time: every DBC message at its GenMsgCycleTime, as
 * hardware's SLCAN emulator sends them, encoded from the simulator's snapshot. After each
 * 20 ms tick it waits for `caughtUp()` (the agent consumed that tick's readings).
 */
class SimulatedCanBus implements CanFrameSource {
  readonly id = 'sim-can:virtual';
  isOpen = false;
  frameCount = 0;

  constructor(
    private readonly sim: VehicleSimulator,
    private readonly dbc: DbcDatabase,
    private readonly time: VirtualTime,
    private readonly caughtUp: () => Promise<void>,
  ) {}

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async *frames(): AsyncGenerator<CanFrame> {
    const tickMs = 20;
    const endMs = Math.floor(this.sim.durationS * 1_000);
    for (let t = 0; t <= endMs && this.isOpen; t += tickMs) {
      this.time.ms = t;
      const signals = simVehicleSignals(this.sim.snapshotAt(t / 1_000));
      for (const message of this.dbc.messages) {
        if (t % (message.cycleTimeMs ?? 100) !== 0) continue;
        const values = signals[message.name];
        if (!values) continue;
        this.frameCount++;
        yield {
          id: message.id,
          extended: message.extended,
          rtr: false,
          fd: false,
          data: encodeMessage(message, values, { clamp: true }),
          time: T0 + t,
        };
      }
      await this.caughtUp();
    }
  }
}

interface CycleRun {
  readonly pipelines: AgentPipeline[];
  readonly outboxes: OutboxStore[];
  readonly publicKey: Uint8Array;
  readonly readings: number;
  readonly frames: number;
}

/**
 * Plays one cycle through the agent. Several pipelines (one per threshold set) may listen to
 * the one merged stream, as the agent's single pipeline does, each with its own outbox.
 */
async function playCycle(
  name: DriveCycleName,
  thresholds: readonly Partial<EventThresholds>[],
): Promise<CycleRun> {
  const sim = new VehicleSimulator({ cycle: loadDriveCycle(name), noise: false, vin: VIN });
  const dbc = loadSimVehicleDbc();
  const time: VirtualTime = { ms: 0 };
  const key = generateDeviceKey();
  const clock = new AgentClock({ monotonicMs: () => time.ms, systemMs: () => T0 });
  const outboxes: OutboxStore[] = [];
  const pipelines = thresholds.map((events, i) => {
    const outbox = OutboxStore.open({
      path: join(dir, `${name}-${i}.db`),
      deviceId: key.deviceId,
      quotaBytes: 256 * 1_048_576,
    });
    outboxes.push(outbox);
    return new AgentPipeline({
      signer: new BatchSigner(key, VIN, outbox, clock),
      events,
      crash: {},
      batching: { maxAgeMs: 10_000, maxSamples: 5_000 },
      rates: {},
    });
  });

  let consumed = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  // Created before the bus so the bus can ask how many readings the tick produced.
  const holder: { source?: DbcSignalSource } = {};
  const bus = new SimulatedCanBus(sim, dbc, time, () => {
    const target = holder.source?.stats.readings ?? 0;
    if (consumed >= target) return Promise.resolve();
    return new Promise<void>((resolve) => (waiter = { target, resolve }));
  });
  const source = new DbcSignalSource({
    frames: bus,
    database: dbc,
    mapping: SIM_VEHICLE_VSS_MAPPING,
  });
  holder.source = source;
  await source.open();
  for await (const r of mergeSources([source], clock, (_id, err) => {
    throw err;
  })) {
    for (const p of pipelines) p.push(r);
    consumed++;
    if (waiter && consumed >= waiter.target) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  }
  await source.close();
  for (const p of pipelines) p.flush();
  return {
    pipelines,
    outboxes,
    publicKey: key.publicKey,
    readings: consumed,
    frames: bus.frameCount,
  };
}

const count = (p: AgentPipeline, type: string) => p.eventLog.filter((e) => e.type === type).length;

/** Verifies every batch in the outbox: signature, an unbroken chain, and what it carries. */
function readOutbox(outbox: OutboxStore, publicKey: Uint8Array) {
  const batches = outbox.nextToSend(10_000).sort((a, b) => a.seq - b.seq);
  let prev = ZERO_HASH;
  let samples = 0;
  const events: string[] = [];
  for (const [i, b] of batches.entries()) {
    expect(b.seq).toBe(i);
    const v = verifyBatch(b.bytes, publicKey);
    expect(v.ok).toBe(true);
    if (!v.ok) continue;
    expect(v.value.payload.prev).toEqual(prev);
    prev = batchHash(b.bytes);
    samples += b.sampleCount;
    for (const e of v.value.payload.events) events.push(e.type);
  }
  return { batches: batches.length, samples, events };
}

describe('whole EPA cycles through simulator → CAN → agent (noise off)', () => {
  const cases: readonly DriveCycleName[] = ['udds', 'hwfet', 'us06', 'nycc'];
  it.each(cases)(
    '%s: trip distance within 0.5 percent and harsh events as in the README',
    async (name) => {
      const expected = README[name];
      // The agent's defaults (2.5 / −3.0 m/s² over 1 s), then the README's other columns.
      const run = await playCycle(name, [
        {},
        { harshAccelerationMs2: 2.0, harshBrakingMs2: -1.8 },
        { harshBrakingMs2: -2.4 },
        { harshBrakingMs2: -2.7 },
      ]);
      const [defaults, loose, mid, firm] = run.pipelines as [
        AgentPipeline,
        AgentPipeline,
        AgentPipeline,
        AgentPipeline,
      ];

      // One trip: the engine idles through the whole cycle, so it neither ends nor splits.
      expect(defaults.tripLog).toHaveLength(1);
      const trip = defaults.tripLog[0]!;
      expect(Math.abs(trip.distanceKm - expected.km) / expected.km).toBeLessThan(0.005);
      expect(trip.maxSpeedKmh).toBeGreaterThan(0);

      expect(count(defaults, 'harsh-acceleration')).toBe(expected.accel[2.5]);
      expect(count(defaults, 'harsh-braking')).toBe(expected.decel['-3.0']);
      expect(count(loose, 'harsh-acceleration')).toBe(expected.accel[2.0]);
      expect(count(loose, 'harsh-braking')).toBe(expected.decel['-1.8']);
      expect(count(mid, 'harsh-braking')).toBe(expected.decel['-2.4']);
      expect(count(firm, 'harsh-braking')).toBe(expected.decel['-2.7']);
      // Noise off, no crash injected: nothing else may fire.
      for (const p of run.pipelines) {
        expect(
          p.eventLog.every((e) => e.type === 'harsh-acceleration' || e.type === 'harsh-braking'),
        ).toBe(true);
      }

      // What the agent detected is what it signed: the events ride in the chained batches, and
      // every reading is in exactly one batch.
      const signed = readOutbox(run.outboxes[0]!, run.publicKey);
      expect(signed.samples).toBe(run.readings);
      expect(signed.events.sort()).toEqual(defaults.eventLog.map((e) => e.type).sort());
      expect(defaults.samples).toBe(run.readings);
      // POWERTRAIN and MOTION at 50 Hz, ENGINE_TEMPS at 10 Hz, FUEL_ODOMETER at 1 Hz.
      const durationS = loadDriveCycle(name).durationS;
      expect(run.frames).toBeGreaterThanOrEqual(Math.floor(durationS * 111));
      for (const o of run.outboxes) o.close();
    },
    60_000,
  );
});
