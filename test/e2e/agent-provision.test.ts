import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  chooseSources,
  loadAgentConfig,
  loadBoardProfile,
  parseAgentConfig,
  provisionDevice,
  type AgentConfigInput,
} from '@enginechain/agent';
import { Elm327Source } from '@enginechain/firmware-bridge';
import { IngestNode } from '@enginechain/ingest';
import { loadDeviceKey } from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../support/run-cli.js';

// Issue 5: `enginechain provision` makes the key (0600), registers it with a real ingestion
// node, and writes the config (0600) with sensible defaults from the board profile of the
// installer kit; a registration that fails leaves a key that the retry reuses.

const VIN = '1HGCM82633A004352';
const PROFILES = join(repoRoot, 'hardware', 'kit', 'profiles');
const profileFiles = readdirSync(PROFILES).filter((f) => f.endsWith('.json'));
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `enginechain-${name}-`));

let node: IngestNode;
beforeAll(async () => {
  node = await IngestNode.start({
    dataDir: tmp('prov-node'),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(() => node.stop());

/** A config as provisioning would write it, around the given sources. */
function configWith(sources: AgentConfigInput['sources']) {
  return parseAgentConfig({
    device: { keyDir: '/var/lib/enginechain', vin: VIN },
    ingest: {
      url: node.brokerUrl,
      receiptPublicKey: node.keys.receiptPublicKey,
      checkpointVerifierKey: node.keys.checkpointVerifierKey,
      logOrigin: 'enginechain.local/sidechain',
    },
    sources,
    outbox: { path: '/var/lib/enginechain/outbox.db' },
  });
}

describe('board profiles as provisioning defaults', () => {
  it.each(profileFiles)('%s gives a valid agent config with the profile’s rates', (file) => {
    const profile = loadBoardProfile(join(PROFILES, file));
    const can = { dbc: '/etc/enginechain/vehicle.dbc', mapping: 'toyota' };
    const config = configWith(chooseSources({ profile, can }));
    expect(config.sources).toHaveLength(profile.sources.length);
    for (const [i, s] of profile.sources.entries()) {
      const source = config.sources[i]!;
      expect('signals' in source && source.signals).toEqual(
        Object.fromEntries(s.signals.map((x) => [x.name, x.rateHz])),
      );
      // The ELM327 driver takes the profile's signals as they are (it refuses any it cannot
      // poll), and their rates add up to what one adapter answers.
      if (source.type === 'elm327') {
        expect(
          () => new Elm327Source({ port: source.port, signals: source.signals }),
        ).not.toThrow();
        expect(Object.values(source.signals).reduce((a, b) => a + b, 0)).toBeLessThan(20);
      }
    }
  });

  it('a CAN profile without a DBC and mapping says what to give', () => {
    const profile = loadBoardProfile(join(PROFILES, 'rpi4-mcp2515-can.json'));
    expect(() => chooseSources({ profile })).toThrow(/--dbc FILE.*--mapping/s);
  });

  it('a port on the command line replaces the profile’s; a missing kind is added', () => {
    const profile = loadBoardProfile(join(PROFILES, 'usb-elm327.json'));
    const sources = chooseSources({
      profile,
      elm327: 'tcp://127.0.0.1:35000',
      imu: '/dev/ttyUSB3',
    });
    expect(sources.map((s) => [s.type, 'port' in s ? s.port : ''])).toEqual([
      ['elm327', 'tcp://127.0.0.1:35000'],
      ['nmea', '/dev/enginechain/gnss'],
      ['imu', '/dev/ttyUSB3'],
    ]);
    expect(() => chooseSources({})).toThrow(/--profile FILE/);
  });

  it('a damaged profile is refused naming the file and the key', () => {
    const dir = tmp('bad-profile');
    const file = join(dir, 'p.json');
    const good = JSON.parse(readFileSync(join(PROFILES, 'usb-elm327.json'), 'utf8'));
    writeFileSync(file, JSON.stringify({ ...good, sources: [{ ...good.sources[0], baudRate: '38400' }] })); // prettier-ignore
    expect(() => loadBoardProfile(file)).toThrow(/p\.json is invalid:\n {2}sources\[0\]\.baudRate/);
  });
});

describe('enginechain provision against a real ingestion node', () => {
  it('--profile: key 0600, registered, config 0600 with the profile’s sources and rates', async () => {
    const { token } = await node.enrolment.issueToken(VIN);
    const out = tmp('prov-cli');
    const r = await runCli([
      'provision', '--ingest', node.httpUrl, '--token', token, '--vin', VIN, '--out', out,
      '--profile', join(PROFILES, 'usb-elm327.json'), '--elm327', 'tcp://127.0.0.1:35000', '--json',
    ]); // prettier-ignore
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as {
      deviceId: string;
      config: string;
      reusedKey: boolean;
    };
    expect(printed.reusedKey).toBe(false);
    expect(statSync(join(out, 'device.key')).mode & 0o777).toBe(0o600);
    expect(statSync(printed.config).mode & 0o777).toBe(0o600);
    expect((await loadDeviceKey(out)).deviceId).toBe(printed.deviceId);
    expect((await node.store.getDevice(printed.deviceId))?.vin).toBe(VIN);
    const config = loadAgentConfig(printed.config);
    expect(config.sources[0]).toMatchObject({
      type: 'elm327',
      port: 'tcp://127.0.0.1:35000',
      baud: 38_400,
      signals: { 'Vehicle.Speed': 5, 'Vehicle.Powertrain.FuelSystem.RelativeLevel': 0.1 },
    });
    expect(config.sources[1]).toMatchObject({ type: 'nmea', port: '/dev/enginechain/gnss' });
    expect(config.ingest).toMatchObject({
      url: node.brokerUrl,
      receiptPublicKey: node.keys.receiptPublicKey,
      checkpointVerifierKey: node.keys.checkpointVerifierKey,
    });
  }, 60_000);

  it('a refused registration writes no config and keeps the key, which the retry registers', async () => {
    const out = tmp('prov-retry');
    const sources: AgentConfigInput['sources'] = [{ type: 'nmea', port: '/dev/enginechain/gnss' }];
    await expect(
      provisionDevice({ ingest: node.httpUrl, token: 'x'.repeat(43), vin: VIN, out, sources }),
    ).rejects.toMatchObject({ code: 'unknown-token' });
    expect(existsSync(join(out, 'agent.json'))).toBe(false);
    const first = await loadDeviceKey(out);
    const { token } = await node.enrolment.issueToken(VIN);
    const r = await provisionDevice({ ingest: node.httpUrl, token, vin: VIN, out, sources });
    expect(r).toMatchObject({ deviceId: first.deviceId, reusedKey: true });
    expect((await node.store.getDevice(first.deviceId))?.vin).toBe(VIN);
    // Provisioned now: a second run would make a second identity for the same gateway.
    const again = await node.enrolment.issueToken(VIN);
    await expect(
      provisionDevice({ ingest: node.httpUrl, token: again.token, vin: VIN, out, sources }),
    ).rejects.toMatchObject({ code: 'exists' });
  });

  it('without any source, says what to give and exits 2 before touching the node', async () => {
    const out = tmp('prov-none');
    const r = await runCli(['provision', '--ingest', node.httpUrl, '--token', 't', '--vin', VIN, '--out', out]); // prettier-ignore
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--profile FILE');
    expect(existsSync(join(out, 'device.key'))).toBe(false);
  }, 30_000);
});
