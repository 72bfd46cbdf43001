/**
 * The node on its second storage backend, through the real processes: `enginechain ingest
 * --database postgres://…` on a real Debian PostgreSQL, `device enroll` and `user add` with the
 * same `--database`, a device enrolled over HTTP that sends batches through the embedded broker
 * and gets a signed receipt for each, a user who logs in; then the data is read back from
 * PostgreSQL, and the data folder holds no SQLite file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestNode } from '@enginechain/ingest';
import {
  batchHash,
  buildBatchPayload,
  enrolmentRequestBody,
  generateDeviceKey,
  signBatch,
  ZERO_HASH,
  type Receipt,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice } from '../../ingest/src/node/test-node.js';
import { describeWithPostgres } from '../../ingest/src/storage/postgres-test-server.js';
import { freePort, startIngest, stop } from '../support/ingest-process.js';
import { runCli } from '../support/run-cli.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
describeWithPostgres('a node on PostgreSQL', (server) => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'enginechain-ingest-pg-'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('enginechain ingest --database postgres://', () => {
    it('enrols a device, accepts its batches through the broker with receipts, and keeps it all in PostgreSQL', async () => {
      const database = server.tcpUrl(await server.createDatabase());
      const data = join(work, 'node');
      const node = await startIngest([
        '--data', data, '--database', database,
        '--mqtt', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`,
      ]); // prettier-ignore
      try {
        const { info } = node;
        // Enrolment token and user from the CLI, on the same database.
        const enroll = await runCli(['device', 'enroll', '--vin', VIN, '--owner', 'olivia@example.org', '--data', data, '--database', database, '--json']); // prettier-ignore
        expect(enroll.code, enroll.stderr).toBe(0);
        const { token } = JSON.parse(enroll.stdout) as { token: string };
        const added = await runCli(['user', 'add', '--username', 'olivia@example.org', '--kind', 'registered', '--generate-password', '--data', data, '--database', database, '--json']); // prettier-ignore
        expect(added.code, added.stderr).toBe(0);
        const { password } = JSON.parse(added.stdout) as { password: string };

        const key = generateDeviceKey();
        const enrolled = await fetch(`${info.httpUrl}/v1/devices`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(enrolmentRequestBody(token, VIN, key)),
        });
        expect(enrolled.status).toBe(201);

        const { client, receipts: messages } = await connectDevice({ brokerUrl: info.brokerUrl, keys: info }, key.deviceId, key); // prettier-ignore
        const receipts = () => messages.filter((m): m is Receipt => m.type === 'receipt');
        let prev = ZERO_HASH;
        const hashes: Uint8Array[] = [];
        for (let seq = 0; seq < 6; seq++) {
          const start = T0 + seq * 1_000;
          const bytes = signBatch(
            buildBatchPayload({
              deviceId: key.deviceId, vin: VIN, seq, prev, clock: { source: 'gnss', jumps: [] },
              samples: [0, 500].map((dt) => ({ name: 'Vehicle.Speed', unit: 'km/h', time: start + dt, value: 40 + seq })),
              events: seq === 2 ? [{ type: 'harsh-braking', priority: 'high', start: start + 100, end: start + 400, data: { peakMs2: -4.2 } }] : [],
            }),
            key,
          ); // prettier-ignore
          prev = batchHash(bytes);
          hashes.push(prev);
          await client.publishAsync(`ec/v1/${key.deviceId}/batch`, Buffer.from(bytes), { qos: 1 });
        }
        await expect.poll(() => receipts().length, { timeout: 20_000 }).toBe(6);
        expect(
          receipts()
            .map((r) => r.seq)
            .sort(),
        ).toEqual([0, 1, 2, 3, 4, 5]);
        for (const r of receipts()) expect(r.batchHash).toEqual(hashes[r.seq]);
        await client.endAsync(true);

        // The user the CLI added on PostgreSQL logs in and sees the vehicle enrolled for them.
        const login = await fetch(`${info.httpUrl}/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'olivia@example.org', password }),
        });
        expect(login.status).toBe(200);
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
        const vehicles = await fetch(`${info.httpUrl}/v1/vehicles`, { headers: { cookie } });
        expect(((await vehicles.json()) as { vehicles: { vin: string }[] }).vehicles.map((v) => v.vin)).toEqual([VIN]); // prettier-ignore
      } finally {
        await stop(node.child, 'SIGTERM');
      }

      // Everything is in PostgreSQL; the data folder has the keys and no SQLite database.
      expect(existsSync(join(data, 'keys'))).toBe(true);
      expect(existsSync(join(data, 'node.db'))).toBe(false);
      const opened = await IngestNode.openData(data, { database });
      try {
        const device = (await opened.store.devicesByVin(VIN))[0];
        expect(device).toMatchObject({ owner: 'olivia@example.org', status: 'active', nextSeq: 6 });
        expect(await opened.store.logSize()).toBe(7);
        expect((await opened.store.eventsByVin(VIN)).map((e) => [e.type, e.seq])).toEqual([['harsh-braking', 2]]); // prettier-ignore
        expect(await opened.store.samplesByVin(VIN, T0, T0 + 10_000)).toHaveLength(12);
        expect((await opened.store.latestCheckpoint())?.treeSize).toBe(7);
      } finally {
        await opened.close();
      }
    }, 180_000);

    it('says which database it cannot reach, without its password, and exits 2', async () => {
      const database = `postgres://enginechain:secret@127.0.0.1:${await freePort()}/enginechain`;
      for (const command of [['device', 'enroll', '--vin', VIN], ['user', 'list'], ['ingest', '--mqtt', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`]]) {
        const r = await runCli([...command, '--data', join(work, 'unreachable'), '--database', database]);
        expect(r.code, command.join(' ')).toBe(2);
        expect(r.stderr).toContain('enginechain: cannot open the PostgreSQL database postgres://enginechain:***@127.0.0.1:');
        expect(r.stderr).not.toContain('secret');
      }
    }, 120_000); // prettier-ignore
  });
});
