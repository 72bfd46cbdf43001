import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { provisionDevice, ProvisionError, loadAgentConfig } from '@enginechain/agent';
import { IngestNode } from '@enginechain/ingest';
import { loadDeviceKey } from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const VIN = '1HGCM82633A004352';
let node: IngestNode;

beforeAll(async () => {
  node = await IngestNode.start({
    dataDir: mkdtempSync(join(tmpdir(), 'enginechain-prov-node-')),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(() => node.stop());

describe('provisioning against a real ingestion node', () => {
  const sources = [
    { type: 'elm327' as const, port: 'tcp://127.0.0.1:35000', signals: { 'Vehicle.Speed': 5 } },
  ];

  it('creates the key, registers it and writes a valid agent config', async () => {
    const { token } = await node.enrolment.issueToken(VIN);
    const out = mkdtempSync(join(tmpdir(), 'enginechain-prov-'));
    const r = await provisionDevice({ ingest: node.httpUrl, token, vin: VIN, out, sources });
    const key = await loadDeviceKey(out);
    expect(r.deviceId).toBe(key.deviceId);
    expect(statSync(join(out, 'device.key')).mode & 0o777).toBe(0o600);
    const config = loadAgentConfig(r.configPath);
    expect(config.ingest).toMatchObject({
      url: node.brokerUrl,
      receiptPublicKey: node.keys.receiptPublicKey,
      checkpointVerifierKey: node.keys.checkpointVerifierKey,
    });
    expect((await node.store.getDevice(key.deviceId))?.vin).toBe(VIN);
  });

  it('says why when the token is wrong, used, or for another VIN', async () => {
    const out = () => mkdtempSync(join(tmpdir(), 'enginechain-prov-'));
    await expect(provisionDevice({ ingest: node.httpUrl, token: 'x'.repeat(43), vin: VIN, out: out(), sources })).rejects.toMatchObject({ code: 'unknown-token' });
    const { token } = await node.enrolment.issueToken(VIN);
    await expect(provisionDevice({ ingest: node.httpUrl, token, vin: '1M8GDM9AXKP042788', out: out(), sources })).rejects.toMatchObject({ code: 'vin-mismatch' });
    await provisionDevice({ ingest: node.httpUrl, token, vin: VIN, out: out(), sources });
    await expect(provisionDevice({ ingest: node.httpUrl, token, vin: VIN, out: out(), sources })).rejects.toMatchObject({ code: 'token-used' });
    await expect(provisionDevice({ ingest: 'http://127.0.0.1:9', token, vin: VIN, out: out(), sources })).rejects.toBeInstanceOf(ProvisionError);
  }); // prettier-ignore
});
