/**
 * Elm327Client and Elm327Source against the ELM327 emulator over a REAL pty (socat) and TCP:
 * every status reply, echo, split reads, several ECUs, both ISO-TP forms, VIN robustness,
 * garbage, slow replies, unplug/replug.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { signalSourceConformance, takeReadings } from '../source/conformance.js';
import { AdapterError, DisconnectedError, NoDataError, TimeoutError } from '../source/errors.js';
import { ReconnectingSource, type ReconnectStatus } from '../source/reconnecting.js';
import { Elm327Client, type Elm327ClientOptions } from './client.js';
import {
  Elm327Faults,
  fixedVehicle,
  openPtyPair,
  startElm327Server,
  TEST_VIN,
  type Elm327Server,
} from './emulator.test-support.js';
import { Elm327Source } from './source.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function emulator(
  options: { faults?: Elm327Faults; dtcs?: string[] } = {},
): Promise<Elm327Server> {
  const elm = await startElm327Server({
    vehicle: fixedVehicle(options.dtcs ? { dtcs: options.dtcs } : {}),
    tcp: { port: 0 },
    pty: true,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  cleanups.push(() => elm.close());
  return elm;
}

async function client(options: Elm327ClientOptions): Promise<Elm327Client> {
  const c = await Elm327Client.connect(options);
  cleanups.push(() => c.close());
  return c;
}

const LINKS = ['tcp', 'pty'] as const;
const portOf = (elm: Elm327Server, link: (typeof LINKS)[number]) =>
  link === 'tcp' ? elm.url! : elm.ptyPath!;

describe.each(LINKS)('Elm327Client over %s', (link) => {
  it('initialises through SEARCHING..., learns adapter, protocol and every ECU’s PIDs', async () => {
    const elm = await emulator();
    const c = await client({ port: portOf(elm, link) });
    expect(c.identity).toEqual({
      adapter: 'ELM327 v1.5',
      protocolNumber: '6',
      protocol: 'ISO 15765-4 CAN (11 bit ID, 500 kbaud)',
    });
    const union = c.supportedUnion();
    expect(union).toEqual(expect.arrayContaining([0x04, 0x05, 0x0c, 0x0d, 0x11, 0xa4, 0xa6]));
    // A4 (gear) lives only on the transmission ECU, found by following its bitmap chain.
    const support = await c.supportedPids();
    expect(support.get('7E9')?.has(0xa4)).toBe(true);
    expect(support.get('7E8')?.has(0xa4)).toBe(false);
  });

  it('reads six PIDs in one request with the response count; several ECUs answer 0D', async () => {
    const elm = await emulator();
    const c = await client({ port: portOf(elm, link) });
    // 7E8: 41 + 6 PIDs = 16 bytes = 3 frames; 7E9: 41 0D 32 = 1 frame.
    expect(c.expectedFrames([0x0c, 0x0d, 0x05, 0x11, 0x04, 0x10])).toBe(4);
    const answers = await c.readPids([0x0c, 0x0d, 0x05, 0x11, 0x04, 0x10]);
    expect(answers.map((a) => a.ecu)).toEqual(['7E8', '7E9']);
    expect(answers[0]!.pids.map((p) => p.pid)).toEqual([0x0c, 0x0d, 0x05, 0x11, 0x04, 0x10]);
    expect(Array.from(answers[0]!.pids[0]!.data)).toEqual([0x1a, 0xf8]); // 1726 rpm
    expect(Array.from(answers[1]!.pids[0]!.data)).toEqual([50]);
  });

  it('reads VIN, calibration IDs of both ECUs, DTCs and ATRV', async () => {
    const elm = await emulator();
    const c = await client({ port: portOf(elm, link) });
    expect(await c.readVin()).toBe(TEST_VIN);
    expect(await c.readCalibrationIds()).toEqual(['ENGCAL-0451A', 'ENGCAL-0451B', 'TCMCAL-2207']);
    expect(await c.readDtcs(0x03)).toEqual(['P0301', 'P0420']);
    expect(await c.readDtcs(0x07)).toEqual([]);
    expect(await c.readDtcs(0x0a)).toEqual(['P0301', 'P0420']);
    expect(await c.readBatteryVoltage()).toBe(14.1);
  });
});

describe('Elm327Client: every adapter reply', () => {
  it.each([
    ['NO DATA', NoDataError, 'no-data'],
    ['CAN ERROR', AdapterError, 'bus-error'],
    ['BUFFER FULL', AdapterError, 'buffer-full'],
    ['STOPPED', AdapterError, 'timeout'],
    ['BUS INIT: ...ERROR', AdapterError, 'bus-error'],
    ['UNABLE TO CONNECT', AdapterError, 'bus-error'],
    ['?', AdapterError, 'unsupported'],
  ] as const)('%s -> %s(%s), and the next request works', async (status, type, code) => {
    const elm = await emulator();
    const c = await client({ port: elm.url! });
    elm.faults.failNext(status);
    const err = await c.readPids([0x0c]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as AdapterError).code).toBe(code);
    expect((await c.readPids([0x0d]))[0]!.pids[0]!.pid).toBe(0x0d);
  });

  it('NO DATA for one PID the ECU stops answering', async () => {
    const elm = await emulator();
    const c = await client({ port: elm.url! });
    elm.faults.noDataPids.add(0x11);
    await expect(c.readPids([0x11])).rejects.toBeInstanceOf(NoDataError);
    const both = await c.readPids([0x0c, 0x11]);
    expect(both[0]!.pids.map((p) => p.pid)).toEqual([0x0c]);
  });

  it('a fixed protocol the car does not speak fails with the bus error the adapter gives', async () => {
    const elm = await emulator();
    await expect(Elm327Client.connect({ port: elm.url!, protocol: '3' })).rejects.toMatchObject({
      code: 'bus-error',
      message: expect.stringMatching(/BUS INIT/),
    });
    await expect(Elm327Client.connect({ port: elm.url!, protocol: '7' })).rejects.toMatchObject({
      code: 'bus-error',
      message: expect.stringMatching(/CAN ERROR/),
    });
  });

  it('copes with echo left on and with replies split into 3-byte reads', async () => {
    const elm = await emulator();
    const c = await client({ port: elm.ptyPath! });
    await c.at('ATE1');
    elm.faults.fragmentBytes = 3;
    expect(await c.readVin()).toBe(TEST_VIN);
    const answers = await c.readPids([0x0c, 0x0d]);
    expect(answers[0]!.pids.map((p) => p.pid)).toEqual([0x0c, 0x0d]);
  });

  it.each([
    [true, true, 'headers, CAF1: raw ISO-TP frames'],
    [false, true, 'no headers, CAF1: the 014 / 0: / 1: formatted form'],
    [false, false, 'no headers, CAF0: raw frames with padding'],
    [true, false, 'headers, CAF0'],
  ])('multi-frame VIN and 12 DTCs with ATH%s ATCAF%s (%s)', async (headers, autoFormat) => {
    const dtcs = ['P0301', 'P0302', 'P0303', 'P0304', 'P0420', 'P0171', 'C0035', 'B1342'];
    dtcs.push('U0100', 'P0128', 'P0455', 'P2187');
    const elm = await emulator({ dtcs });
    const c = await client({ port: elm.url!, headers, autoFormat, spaces: !headers });
    expect(await c.readVin()).toBe(TEST_VIN);
    expect(await c.readDtcs()).toEqual(dtcs);
  });

  it('VIN: a one-frame response count cuts the reply (python-OBD fast mode); readVin does not', async () => {
    const elm = await emulator();
    const c = await client({ port: elm.url! });
    await expect(c.request('0902', 1)).rejects.toThrow(/cut short/);
    expect(await c.readVin()).toBe(TEST_VIN);
  });

  it('garbage bytes on the line break one reply, not the link', async () => {
    const elm = await emulator();
    const c = await client({ port: elm.ptyPath! });
    elm.faults.injectGarbage(24);
    await c.readPids([0x0c]).catch((e: unknown) => expect(e).toBeInstanceOf(AdapterError));
    for (let i = 0; i < 5; i++) expect((await c.readPids([0x0d]))[0]!.pids[0]!.pid).toBe(0x0d);
  });

  it('line noise in a reply of the start-up exchange: connect runs the exchange again', async () => {
    const elm = await emulator();
    elm.faults.injectGarbageBefore('0100', 24);
    elm.faults.injectGarbageBefore('ATDPN', 24);
    const c = await client({ port: elm.url! });
    expect(c.identity.protocolNumber).toBe('6');
    expect((await c.readPids([0x0d]))[0]!.pids[0]!.pid).toBe(0x0d);
    // Noise in every attempt: no ELM327 worth the name is there.
    elm.faults.injectGarbageBefore('0100', 24, 3);
    await expect(Elm327Client.connect({ port: elm.url! })).rejects.toMatchObject({
      code: 'no-adapter',
      message: expect.stringMatching(/no ELM327 answered \(not hex data/),
    });
  });

  it('a slow reply times out, its late text is discarded, the next request is answered', async () => {
    const elm = await emulator();
    const c = await client({ port: elm.url!, timeoutMs: 150 });
    elm.faults.delayMs = 250;
    await expect(c.readPids([0x0c])).rejects.toBeInstanceOf(TimeoutError);
    elm.faults.delayMs = 0;
    const answers = await c.readPids([0x0d]);
    expect(answers[0]!.pids.map((p) => p.pid)).toEqual([0x0d]);
  });

  it('no adapter: a closed TCP port and a pty nobody answers give no-adapter with advice', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    await expect(Elm327Client.connect({ port: `tcp://127.0.0.1:${port}` })).rejects.toMatchObject({
      code: 'no-adapter',
    });
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    const err = (await Elm327Client.connect({ port: pty.hostPath }).catch(
      (e: unknown) => e,
    )) as AdapterError;
    expect(err.code).toBe('no-adapter');
    expect(err.message).toMatch(/check the port.*powered.*baud rate/);
    await expect(Elm327Client.connect({ port: '/dev/does-not-exist' })).rejects.toMatchObject({
      code: 'no-adapter',
    });
  }, 15_000);
});

describe('Elm327Source', () => {
  it('polls the configured signals into readings with VSS names and units', async () => {
    const elm = await emulator();
    const source = new Elm327Source({
      port: elm.url!,
      signals: [
        'Vehicle.Speed',
        'Vehicle.Powertrain.CombustionEngine.Speed',
        'Vehicle.Powertrain.CombustionEngine.ECT',
        'Vehicle.Powertrain.Transmission.CurrentGear',
        'Vehicle.TraveledDistance',
        'Vehicle.LowVoltageBattery.CurrentVoltage',
        'Vehicle.OBD.DTCList',
        'Vehicle.VehicleIdentification.VIN',
        'Vehicle.OBD.Catalyst.Bank1.Temperature1',
      ],
    });
    cleanups.push(() => source.close());
    await source.open();
    const readings = await takeReadings(source, 40);
    const last = new Map(readings.map((r) => [r.name, r]));
    expect(last.get('Vehicle.VehicleIdentification.VIN')?.value).toBe(TEST_VIN);
    expect(last.get('Vehicle.Speed')).toMatchObject({
      value: 50,
      unit: 'km/h',
      source: 'elm327:' + elm.url,
    });
    expect(last.get('Vehicle.Powertrain.CombustionEngine.Speed')).toMatchObject({
      value: 1726,
      unit: 'rpm',
    });
    expect(last.get('Vehicle.Powertrain.CombustionEngine.ECT')).toMatchObject({
      value: 83,
      unit: 'celsius',
    });
    expect(last.get('Vehicle.Powertrain.Transmission.CurrentGear')?.value).toBe(3);
    expect(last.get('Vehicle.TraveledDistance')?.value).toBeCloseTo(12345.6);
    expect(last.get('Vehicle.LowVoltageBattery.CurrentVoltage')?.value).toBe(14.1);
    expect(last.get('Vehicle.OBD.DTCList')?.value).toBe('P0301,P0420');
    // One reading per signal per request, though two ECUs answer 0D: as many speeds as
    // engine speeds (only 7E8 answers 0C), give or take the request cut at 40 readings.
    const count = (name: string) => readings.filter((r) => r.name === name).length;
    const speeds = count('Vehicle.Speed');
    expect(
      Math.abs(speeds - count('Vehicle.Powertrain.CombustionEngine.Speed')),
    ).toBeLessThanOrEqual(1);
    expect(source.stats.unsupported).toEqual(['Vehicle.OBD.Catalyst.Bank1.Temperature1']);
  });

  it('keeps to configured rates', async () => {
    const elm = await emulator();
    const source = new Elm327Source({
      port: elm.url!,
      signals: { 'Vehicle.Speed': 20, 'Vehicle.OBD.DTCList': 2 },
    });
    cleanups.push(() => source.close());
    await source.open();
    const readings = await takeReadings(source, 1000, 1000);
    const speeds = readings.filter((r) => r.name === 'Vehicle.Speed').length;
    const dtcs = readings.filter((r) => r.name === 'Vehicle.OBD.DTCList').length;
    expect(speeds).toBeGreaterThanOrEqual(15);
    expect(speeds).toBeLessThanOrEqual(22);
    expect(dtcs).toBeGreaterThanOrEqual(1);
    expect(dtcs).toBeLessThanOrEqual(3);
  });

  it('counts per-request trouble and goes on polling', async () => {
    const elm = await emulator();
    const source = new Elm327Source({ port: elm.url!, signals: ['Vehicle.Speed'] });
    cleanups.push(() => source.close());
    await source.open();
    elm.faults.failNext('CAN ERROR', 2).failNext('BUFFER FULL').failNext('NO DATA');
    expect(await takeReadings(source, 20)).toHaveLength(20);
    expect(source.stats.errors).toMatchObject({ 'bus-error': 2, 'buffer-full': 1, 'no-data': 1 });
    const requests = source.stats.requests;
    elm.faults.injectGarbage(8);
    expect(await takeReadings(source, 20)).toHaveLength(20);
    expect(source.stats.requests).toBeGreaterThanOrEqual(requests + 20);
  });

  it('an adapter that stops answering fails the readers with DisconnectedError', async () => {
    const elm = await emulator();
    const source = new Elm327Source({
      port: elm.url!,
      signals: ['Vehicle.Speed'],
      timeoutMs: 100,
      maxConsecutiveTimeouts: 2,
    });
    cleanups.push(() => source.close());
    await source.open();
    await takeReadings(source, 1);
    elm.faults.silent = true;
    const it = source.readings()[Symbol.asyncIterator]();
    let err: unknown;
    try {
      while (!(await it.next()).done);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DisconnectedError);
    expect(source.isOpen).toBe(false);
  });

  it.each(LINKS)(
    'unplug and replug over %s: ReconnectingSource resumes the readings',
    async (link) => {
      const elm = await emulator();
      const statuses: ReconnectStatus[] = [];
      const source = new ReconnectingSource(
        new Elm327Source({ port: portOf(elm, link), signals: ['Vehicle.Speed'] }),
        { backoff: { baseMs: 50, capMs: 200 }, onStatus: (s) => statuses.push(s) },
      );
      cleanups.push(() => source.close());
      await source.open();
      expect(await takeReadings(source, 3)).toHaveLength(3);
      if (link === 'pty') elm.faults.unplug(300);
      else elm.faults.drop();
      const before = elm.stats.connections;
      await new Promise((r) => setTimeout(r, 400));
      const after = await takeReadings(source, 5, 8000);
      expect(after).toHaveLength(5);
      expect(statuses[0]).toMatchObject({ kind: 'disconnected' });
      expect(statuses.some((s) => s.kind === 'reconnected')).toBe(true);
      expect(elm.stats.connections).toBeGreaterThan(before);
    },
    20_000,
  );

  it('refuses bad options with typed errors naming the field', () => {
    expect(() => new Elm327Source({ port: '' })).toThrow(/port/);
    expect(() => new Elm327Source({ port: 'tcp://x', signals: ['Vehicle.Nope'] })).toThrow(
      /Vehicle.Nope is not in the signal catalogue/,
    );
    expect(
      () => new Elm327Source({ port: 'tcp://x', signals: ['Vehicle.CurrentLocation.Latitude'] }),
    ).toThrow(/not read from an ELM327/);
    expect(() => new Elm327Source({ port: 'tcp://x', signals: { 'Vehicle.Speed': -1 } })).toThrow(
      /signals.Vehicle.Speed/,
    );
    expect(() => new Elm327Source({ port: 'tcp://x', maxPidsPerRequest: 7 })).toThrow(
      /maxPidsPerRequest/,
    );
  });
});

for (const link of LINKS) {
  signalSourceConformance(`Elm327Source over ${link}`, async () => {
    const elm = await startElm327Server({ vehicle: fixedVehicle(), tcp: { port: 0 }, pty: true });
    return {
      source: new Elm327Source({ port: portOf(elm, link) }),
      teardown: () => elm.close(),
    };
  });
}
