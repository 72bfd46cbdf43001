import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { AgentRuntime, loadAgentConfig, OutboxStore } from '@enginechain/agent';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  decodeLogEntry,
  loadDeviceKey,
  signBatch,
  ZERO_HASH,
  type DeviceKey,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../ingest/src/http/test-fleet.fixture.js';
import { connectDevice } from '../../ingest/src/node/test-node.js';
import { pushedSpeedSource } from '../support/pushed-source.js';
import { repoRoot, runCli } from '../support/run-cli.js';

// Issue 6: `enginechain rotate-key` replaces the device key, the node logs the rotation, the
// device id stays; batches the outbox holds signed with the old key still go through.

const VIN = '1HGCM82633A004352';
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `enginechain-${name}-`));

let node: IngestNode;
beforeAll(async () => {
  node = await IngestNode.start({
    dataDir: tmp('rotate-node'),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    checkpointIntervalMs: 100,
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(() => node.stop());

/** Signs the outbox's next batch with `key` and stores it there, as the agent's signer does. */
function appendSigned(outbox: OutboxStore, key: DeviceKey, deviceId: string): Uint8Array {
  const { nextSeq: seq, prevHash: prev } = outbox.chainHead();
  const time = Date.now();
  const bytes = signBatch(
    buildBatchPayload({ deviceId, vin: VIN, seq, prev: seq === 0 ? ZERO_HASH : prev, clock: { source: 'system', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time, value: seq }] }),
    key,
  ); // prettier-ignore
  outbox.appendBatch({ seq, hash: batchHash(bytes), prev, bytes, kind: 'routine', sampleCount: 1, firstTime: time, lastTime: time }); // prettier-ignore
  return bytes;
}

describe('enginechain rotate-key', () => {
  it('rotates from the outbox’s next seq; old-key batches already signed and new-key ones are all receipted', async () => {
    const out = tmp('rotate-device');
    const { token } = await node.enrolment.issueToken(VIN, 'fleet');
    const provisioned = await runCli([
      'provision', '--ingest', node.httpUrl, '--token', token, '--vin', VIN, '--out', out,
      '--profile', join(repoRoot, 'hardware', 'kit', 'profiles', 'usb-elm327.json'), '--elm327', 'tcp://127.0.0.1:35000', '--json',
    ]); // prettier-ignore
    expect(provisioned.code, provisioned.stderr).toBe(0);
    const { deviceId, config: configPath } = JSON.parse(provisioned.stdout) as { deviceId: string; config: string }; // prettier-ignore
    const config = loadAgentConfig(configPath);
    const oldKey = await loadDeviceKey(out);

    // Two batches signed with the old key wait in the outbox, unsent (the agent is stopped).
    const outbox = OutboxStore.open({ path: config.outbox.path, deviceId, quotaBytes: config.outbox.quotaBytes }); // prettier-ignore
    const waiting = [
      appendSigned(outbox, oldKey, deviceId),
      appendSigned(outbox, oldKey, deviceId),
    ];
    outbox.close();

    const r = await runCli([
      'rotate-key',
      '--config',
      configPath,
      '--ingest',
      node.httpUrl,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rotated = JSON.parse(r.stdout) as {
      deviceId: string;
      fromSeq: number;
      leafIndex: number;
    };
    expect(rotated).toMatchObject({ deviceId, fromSeq: 2 });

    // The files: a new key (0600) under the same device id, the rotation noted.
    const newKeyOnDisk = await loadDeviceKey(out);
    expect(newKeyOnDisk.publicKey).not.toEqual(oldKey.publicKey);
    expect(statSync(join(out, 'device.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'device.id'), 'utf8').trim()).toBe(deviceId);
    expect(readFileSync(join(out, 'rotations.jsonl'), 'utf8')).toContain('"fromSeq":2');
    const entry = decodeLogEntry((await node.store.logEntry(rotated.leafIndex))!.entry);
    expect(entry).toMatchObject({ type: 'key-rotation', deviceId, fromSeq: 2, publicKey: newKeyOnDisk.publicKey }); // prettier-ignore

    // A second run at the same outbox seq is refused (a rotation starts there already); the
    // key in place stays.
    const again = await runCli(['rotate-key', '--config', configPath, '--ingest', node.httpUrl]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('seq-passed');
    expect((await loadDeviceKey(out)).publicKey).toEqual(newKeyOnDisk.publicKey);

    // The device connects with the new key under its id and delivers all three.
    const newKey: DeviceKey = { ...newKeyOnDisk, deviceId };
    const { client, receipts } = await connectDevice(node, deviceId, newKey);
    const reopened = OutboxStore.open({ path: config.outbox.path, deviceId, quotaBytes: config.outbox.quotaBytes }); // prettier-ignore
    const fresh = appendSigned(reopened, newKey, deviceId);
    reopened.close();
    for (const bytes of [...waiting, fresh])
      await client.publishAsync(`ec/v1/${deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
    await expect.poll(async () => (await node.store.getDevice(deviceId))?.nextSeq, { timeout: 10_000 }).toBe(3); // prettier-ignore
    await expect.poll(() => receipts.length, { timeout: 10_000 }).toBe(3);
    await client.endAsync(true);

    // The agent itself starts on the rotated key under its first device id and goes on.
    const source = pushedSpeedSource();
    const runtime = await AgentRuntime.start({
      config: { ...config, ingest: { ...config.ingest, reconnect: { baseMs: 100, capMs: 500 } }, batching: { maxAgeMs: 300, maxSamples: 5_000 } },
      createSource: () => source,
      serveMetrics: false,
      logger: pino({ level: 'silent' }),
    }); // prettier-ignore
    try {
      for (let i = 0; i < 20; i++) {
        source.push(30 + i);
        await new Promise((r) => setTimeout(r, 50));
      }
      await expect.poll(() => runtime.status().receipts, { timeout: 20_000 }).toBeGreaterThanOrEqual(1); // prettier-ignore
      // rotate-key while the agent runs: refused before anything is asked of the node.
      const keysBefore = (await node.store.getDevice(deviceId))?.keys.length;
      const busy = await runCli(['rotate-key', '--config', configPath, '--ingest', node.httpUrl]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`in use by process ${process.pid}.*stop it first`));
      expect(existsSync(join(out, 'device.key.next'))).toBe(false);
      expect((await loadDeviceKey(out)).publicKey).toEqual(newKeyOnDisk.publicKey);
      expect((await node.store.getDevice(deviceId))?.keys.length).toBe(keysBefore);
    } finally {
      await runtime.stop({ drainMs: 5_000 });
    }
    expect((await node.store.getDevice(deviceId))?.nextSeq).toBeGreaterThan(3);

    // The owner's VIN file shows the rotation next to the registration, with its log leaf.
    const owner = { username: 'fleet', password: 'fleet owner password' };
    await node.access.createUser({ ...owner, kind: 'registered' });
    const asOwner = await login(node.httpUrl, owner);
    const file = (await (await asOwner(`/v1/vehicles/${VIN}/file`)).json()) as { items: { kind: string; leaves: { leafIndex: number; proof: string[] | null }[] }[] }; // prettier-ignore
    const rotation = file.items.find((i) => i.kind === 'key-rotation');
    expect(rotation?.leaves.map((l) => l.leafIndex)).toEqual([rotated.leafIndex]);
    expect(file.items.findIndex((i) => i.kind === 'registration')).toBeLessThan(
      file.items.indexOf(rotation!),
    );
  }, 60_000);
});
