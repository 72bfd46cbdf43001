/**
 * SLCAN end to end over REAL pseudo-terminals (socat, via openPtyPair): firmware-bridge's
 * SlcanSource against this emulator, as the agent would talk to a CANable on /dev/ttyACM0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  AdapterError,
  DbcSignalSource,
  DisconnectedError,
  ProtocolError,
  ReconnectingSource,
  SLCAN_BITRATES,
  SlcanSource,
  TOYOTA_VSS_MAPPING,
  parseDbc,
  type CanFrame,
  type Reading,
} from '@enginechain/firmware-bridge';
import {
  signalSourceConformance,
  takeReadings,
} from '../../../firmware-bridge/src/source/conformance.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair } from '../pty/pty-pair.js';
import type { VehicleSnapshot } from '../vehicle/state.js';
import { startSlcanDevice, type SlcanDevice } from './slcan-device.js';
import { SIM_VEHICLE_VSS_MAPPING, loadSimVehicleDbc } from './sim-vehicle.js';

/** A car cruising at a speed that changes every 10 ms of wall time, so values are traceable. */
function cruisingCar(): () => VehicleSnapshot {
  const t0 = Date.now();
  return () => {
    const t = (Date.now() - t0) / 1000;
    return {
      timeS: t,
      vin: '1M8GDM9AXKP042788',
      speedKmh: 50 + (t % 10),
      engineRpm: 1800.25,
      engineRunning: true,
      gear: 4,
      throttlePct: 22.4,
      engineLoadPct: 40,
      coolantC: 89,
      intakeAirC: 25,
      ambientAirC: 18,
      mafGs: 12.5,
      fuelLevelPct: 60,
      batteryV: 14.1,
      runTimeS: 300,
      odometerKm: 42_000.5,
      latitude: 42.33,
      longitude: -83.05,
      altitudeM: 180,
      headingDeg: 0,
      accelLongMs2: 0.5,
      accelLatMs2: -0.25,
      yawRateDegS: 1.5,
      dtcs: [],
      wallClockMs: Date.now(),
    };
  };
}

async function nextFrames(
  source: SlcanSource,
  count: number,
  timeoutMs = 5000,
): Promise<CanFrame[]> {
  const out: CanFrame[] = [];
  const it = source.frames()[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>(
        (res) => (timer = setTimeout(() => res('timeout'), deadline - Date.now())),
      ),
    ]);
    clearTimeout(timer);
    if (r === 'timeout' || r.done) break;
    out.push(r.value);
  }
  return out;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function device(
  options: Parameters<typeof startSlcanDevice>[0] = { vehicle: cruisingCar() },
): Promise<SlcanDevice> {
  const d = await startSlcanDevice(options);
  cleanups.push(() => d.close());
  return d;
}

function source(
  path: string,
  options: Partial<ConstructorParameters<typeof SlcanSource>[0]> = {},
): SlcanSource {
  const s = new SlcanSource({ path, commandTimeoutMs: 500, ...options });
  cleanups.push(() => s.close());
  return s;
}

signalSourceConformance('DbcSignalSource over SLCAN on a real pty (simulated car)', async () => {
  const d = await startSlcanDevice({ vehicle: cruisingCar() });
  return {
    source: new DbcSignalSource({
      frames: new SlcanSource({ path: d.ptyPath }),
      database: loadSimVehicleDbc(),
      mapping: SIM_VEHICLE_VSS_MAPPING,
    }),
    teardown: () => d.close(),
  };
});

describe('SLCAN over a real pty', () => {
  it('opens at each bitrate S0..S8 and reads version and serial number', async () => {
    const d = await device();
    for (const bitrate of SLCAN_BITRATES) {
      const s = source(d.ptyPath, { bitrate });
      await s.open();
      expect(d.state).toMatchObject({ open: true, bitrate, listenOnly: false });
      expect(s.version).toBe('V1013');
      expect(s.serialNumber).toBe('NSIM1');
      await s.close();
      expect(d.state.open).toBe(false);
    }
  });

  it('streams the simulated car as decodable frames, standard and extended ids', async () => {
    const d = await device();
    const s = source(d.ptyPath);
    await s.open();
    const frames = await nextFrames(s, 40);
    expect(frames.length).toBe(40);
    expect(frames.some((f) => f.id === 0x100 && !f.extended)).toBe(true);
    expect(frames.some((f) => f.id === 0x18ff0100 && f.extended)).toBe(true);
    const readings = new DbcSignalSource({
      frames: s,
      database: loadSimVehicleDbc(),
      mapping: SIM_VEHICLE_VSS_MAPPING,
    });
    await s.close();
    await readings.open();
    cleanups.push(() => readings.close());
    const got = await takeReadings(readings, 60);
    const byName = new Map(got.map((r) => [r.name, r]));
    expect(byName.get('Vehicle.Powertrain.CombustionEngine.Speed')).toMatchObject({
      value: 1800.25,
      unit: 'rpm',
    });
    expect(byName.get('Vehicle.Acceleration.Lateral')?.value).toBeCloseTo(-0.25, 9);
    const speed = byName.get('Vehicle.Speed')?.value as number;
    expect(speed).toBeGreaterThanOrEqual(50);
    expect(speed).toBeLessThan(60);
  });

  it('sends frames host to device (t, T, r) and refuses them listen-only', async () => {
    const d = await device();
    const s = source(d.ptyPath);
    await s.open();
    await s.send({
      id: 0x7df,
      extended: false,
      rtr: false,
      fd: false,
      data: new Uint8Array([2, 1, 0x0d]),
      time: 0,
    });
    await s.send({
      id: 0x18daf110,
      extended: true,
      rtr: false,
      fd: false,
      data: new Uint8Array([0xaa]),
      time: 0,
    });
    await s.send({
      id: 0x123,
      extended: false,
      rtr: true,
      fd: false,
      data: new Uint8Array(0),
      time: 0,
      dlc: 4,
    });
    expect(d.received.map((f) => [f.id, f.extended, f.rtr, Array.from(f.data)])).toEqual([
      [0x7df, false, false, [2, 1, 0x0d]],
      [0x18daf110, true, false, [0xaa]],
      [0x123, false, true, []],
    ]);
    await expect(
      s.send({
        id: 0x7df,
        extended: false,
        rtr: false,
        fd: true,
        data: new Uint8Array(12),
        time: 0,
      }),
    ).rejects.toMatchObject({ code: 'bad-input' });
    await s.close();
    const listen = source(d.ptyPath, { listenOnly: true });
    await listen.open();
    expect(d.state.listenOnly).toBe(true);
    await expect(
      listen.send({
        id: 1,
        extended: false,
        rtr: false,
        fd: false,
        data: new Uint8Array(0),
        time: 0,
      }),
    ).rejects.toMatchObject({
      code: 'unsupported',
    });
  });

  it('dates frames by the adapter timestamps (Z1), monotonic and on the host clock', async () => {
    const d = await device();
    const s = source(d.ptyPath, { timestamps: true });
    const before = Date.now();
    await s.open();
    expect(d.state.timestamps).toBe(true);
    const frames = await nextFrames(s, 30);
    expect(frames.length).toBe(30);
    for (let i = 1; i < frames.length; i++)
      expect(frames[i]!.time).toBeGreaterThanOrEqual(frames[i - 1]!.time);
    expect(frames[0]!.time).toBeGreaterThanOrEqual(before - 50);
    expect(frames.at(-1)!.time).toBeLessThanOrEqual(Date.now() + 50);
  });

  it('turns BEL error replies into typed errors: unsupported bitrate or timestamps at open, ProtocolError on send', async () => {
    const d = await device();
    d.refuseCommands('S8');
    await expect(source(d.ptyPath, { bitrate: 1_000_000 }).open()).rejects.toMatchObject({
      code: 'unsupported',
    });
    d.refuseCommands('Z1');
    await expect(source(d.ptyPath, { timestamps: true }).open()).rejects.toMatchObject({
      code: 'unsupported',
    });
    d.refuseCommands(undefined);
    const s = source(d.ptyPath);
    await s.open();
    const before = s.stats.errorReplies;
    d.failNextCommands(1);
    const err = await s
      .send({ id: 1, extended: false, rtr: false, fd: false, data: new Uint8Array([1]), time: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(s.stats.errorReplies).toBe(before + 1);
    // The link goes on after a refused command.
    await s.send({
      id: 1,
      extended: false,
      rtr: false,
      fd: false,
      data: new Uint8Array([2]),
      time: 0,
    });
    expect(d.received.map((f) => f.data[0])).toEqual([2]);
    expect(await s.status()).toBe(0);
  });

  it('survives line noise: garbage is counted, frames keep flowing', async () => {
    const d = await device();
    const s = source(d.ptyPath);
    await s.open();
    await nextFrames(s, 5);
    d.injectGarbage('\x00\xff#junk\rT12\rt1239\rt10021122\r' + 'x'.repeat(200) + '\r\n');
    const after = await nextFrames(s, 30);
    expect(after.length).toBe(30);
    expect(s.stats.garbage).toBeGreaterThanOrEqual(4);
    expect(s.isOpen).toBe(true);
  });

  it('reports a pulled plug as DisconnectedError, and ReconnectingSource resumes after replug', async () => {
    const d = await device();
    const frames = new SlcanSource({ path: d.ptyPath, commandTimeoutMs: 300 });
    const inner = new DbcSignalSource({
      frames,
      database: loadSimVehicleDbc(),
      mapping: SIM_VEHICLE_VSS_MAPPING,
    });
    const statuses: string[] = [];
    const errors: unknown[] = [];
    const resilient = new ReconnectingSource(inner, {
      backoff: { baseMs: 50, capMs: 200 },
      onStatus: (s) => {
        statuses.push(s.kind);
        if (s.kind === 'disconnected') errors.push(s.error);
      },
    });
    cleanups.push(() => resilient.close());
    await resilient.open();
    expect((await takeReadings(resilient, 10)).length).toBe(10);
    await d.unplug();
    await new Promise((r) => setTimeout(r, 300));
    expect(statuses[0]).toBe('disconnected');
    expect(errors[0]).toBeInstanceOf(DisconnectedError);
    await d.replug();
    const after: Reading[] = await takeReadings(resilient, 10, 10_000);
    expect(after.length).toBe(10);
    expect(statuses).toContain('reconnected');
  });

  it('says no-adapter when nothing answers on the port', async () => {
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    const s = source(pty.hostPath, { commandTimeoutMs: 200 });
    await expect(s.open()).rejects.toMatchObject({ code: 'no-adapter' });
    expect(s.isOpen).toBe(false);
    await expect(source('/dev/does-not-exist').open()).rejects.toMatchObject({
      code: 'no-adapter',
    });
  });

  it('replays a candump log (the RAV4 capture) that the Toyota DBC decodes', async () => {
    const log = fileURLToPath(
      new URL(
        '../../../firmware-bridge/vectors/can/comma2k19_rav4_ex1_seg40_bus0.log',
        import.meta.url,
      ),
    );
    const dbc = parseDbc(
      readFileSync(
        new URL(
          '../../../firmware-bridge/vectors/can/toyota_new_mc_pt_generated.dbc',
          import.meta.url,
        ),
        'utf8',
      ),
    );
    const d = await device({ replay: { path: log, speed: 1 } });
    const readings = new DbcSignalSource({
      frames: new SlcanSource({ path: d.ptyPath }),
      database: dbc,
      mapping: TOYOTA_VSS_MAPPING,
    });
    cleanups.push(() => readings.close());
    await readings.open();
    const got = await takeReadings(readings, 200);
    const speeds = got.filter((r) => r.name === 'Vehicle.Speed').map((r) => r.value as number);
    expect(speeds.length).toBeGreaterThan(0);
    for (const v of speeds) expect(v).toBeGreaterThan(29);
  });

  it('refuses impossible options', async () => {
    expect(() => new SlcanSource({ path: '/dev/x', bitrate: 33_333 })).toThrow(AdapterError);
    expect(() => new SlcanSource({ path: '' })).toThrow(AdapterError);
    await expect(
      startSlcanDevice({ vehicle: cruisingCar(), replay: { path: 'x' } }),
    ).rejects.toThrow(TypeError);
  });
});

/** A real client process reading SLCAN from `port` (see kill-reader.test-support.ts). */
function startReader(port: string): { child: ChildProcess; output: () => string } {
  const script = fileURLToPath(new URL('./kill-reader.test-support.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, port], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { child, output: () => out };
}

async function waitFor(what: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('SLCAN client SIGKILLed mid-read', () => {
  // The pty pair outlives its clients (pty-pair.ts holds the host end), so while nobody reads,
  // everything the adapter sends piles up in the kernel until the line is full. Before the fix
  // the emulator's writes then waited for a wake-up that never came: the next client's commands
  // went unanswered ("no reply to C") or its frames never arrived.
  it('answers a fresh reader with live frames after several SIGKILLed readers and a full line', async () => {
    const d = await device();
    for (let kill = 0; kill < 3; kill++) {
      const reader = startReader(d.ptyPath);
      const alive = () => reader.child.exitCode === null && reader.child.signalCode === null;
      cleanups.push(async () => {
        if (alive()) reader.child.kill('SIGKILL');
      });
      const exited = new Promise((r) => reader.child.once('exit', r));
      // Mid-stream: the reader has opened the channel and is taking frames.
      const reading = await waitFor(() => /frames \d+/.test(reader.output()), 20_000);
      expect(reading, `reader ${kill}: ${reader.output()}`).toBe(true);
      reader.child.kill('SIGKILL');
      await exited;
      // Minutes of unread traffic, compressed: far more than the pty, socat and the emulator
      // can buffer, so the line is full when the next client comes.
      for (let i = 0; i < 200; i++) d.injectGarbage(`t7FF8${'00'.repeat(8)}\r`.repeat(40));
      await new Promise((r) => setTimeout(r, 300));
    }
    const sentBefore = d.counters.framesSent;
    const s = source(d.ptyPath, { commandTimeoutMs: 2_000 });
    await s.open();
    // Live frames from the simulated car (0x100 POWERTRAIN), not the stale fill (0x7FF).
    const live: CanFrame[] = [];
    const it = s.frames()[Symbol.asyncIterator]();
    const deadline = Date.now() + 10_000;
    while (live.length < 20 && Date.now() < deadline) {
      const r = await it.next();
      if (r.done) break;
      if (r.value.id === 0x100) live.push(r.value);
    }
    expect(live.length).toBe(20);
    expect(d.counters.framesSent).toBeGreaterThan(sentBefore);
    expect(d.state.open).toBe(true);
  }, 90_000);
});
