import { decodeLogEntry, leafHash } from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceAdmin } from './device-admin.js';
import { DeviceAdminError } from './errors.js';
import { storeWithDevices } from './test-devices.js';

const VIN = '1HGCM82633A004352';

describe('DeviceAdmin (real SQLite store)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function setup(n = 2) {
    const s = await storeWithDevices(n);
    cleanups.push(s.cleanup);
    return s;
  }

  it('revokes: status, a revocation leaf in the log, sessions evicted', async () => {
    const { store, ids } = await setup();
    const evicted: string[] = [];
    const admin = new DeviceAdmin({
      store,
      now: () => 1_764_000_000_000,
      evict: (id) => (evicted.push(id), 2),
    });
    const before = await store.logSize();
    const r = await admin.revoke(ids[0]!, 'gateway stolen');
    expect(r).toEqual({
      deviceId: ids[0],
      revokedAt: 1_764_000_000_000,
      reason: 'gateway stolen',
      leafIndex: before,
      sessionsClosed: 2,
    });
    expect(evicted).toEqual([ids[0]]);
    expect((await store.getDevice(ids[0]!))?.status).toBe('revoked');
    expect((await store.getDevice(ids[1]!))?.status).toBe('active');
    expect(await store.logSize()).toBe(before + 1);
    const leaf = await store.logEntry(r.leafIndex);
    expect(decodeLogEntry(leaf!.entry)).toEqual({
      type: 'revocation',
      deviceId: ids[0],
      at: 1_764_000_000_000,
      reason: 'gateway stolen',
    });
    expect(leaf!.leafHash).toEqual(leafHash(leaf!.entry));
    expect(await admin.list({ status: 'revoked' })).toMatchObject([
      { deviceId: ids[0], status: 'revoked', vin: VIN, owner: 'fleet-0' },
    ]);
    expect((await admin.list()).map((d) => d.deviceId)).toEqual(ids);
  });

  it('two concurrent revocations of one device leave exactly one leaf', async () => {
    const { store, ids } = await setup(1);
    const admin = new DeviceAdmin({ store });
    const before = await store.logSize();
    const outcomes = await Promise.allSettled([
      admin.revoke(ids[0]!, 'first'),
      admin.revoke(ids[0]!, 'second'),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(DeviceAdminError);
    expect((failed.reason as DeviceAdminError).code).toBe('already-revoked');
    expect(await store.logSize()).toBe(before + 1);
  });

  it('appends no leaf when the revocation loses a race the pre-check could not see', async () => {
    const { store, ids } = await setup(1);
    const stale = await store.getDevice(ids[0]!);
    await new DeviceAdmin({ store }).revoke(ids[0]!, 'first');
    // The pre-check reads the device as it was before the first revocation committed: only the
    // store's check inside the transaction can refuse, and it must append nothing.
    const racing = {
      getDevice: async () => stale,
      listDevices: () => store.listDevices(),
      revokeDevice: store.revokeDevice.bind(store),
    };
    const before = await store.logSize();
    await expect(new DeviceAdmin({ store: racing }).revoke(ids[0]!, 'x')).rejects.toMatchObject({
      code: 'already-revoked',
    });
    expect(await store.logSize()).toBe(before);
    expect((await store.getDevice(ids[0]!))?.status).toBe('revoked');
  });

  it('refuses bad input, unknown and already revoked devices with typed errors', async () => {
    const { store, ids } = await setup(1);
    const admin = new DeviceAdmin({ store });
    const cases: [unknown, unknown, string][] = [
      ['ABC', 'r', 'bad-input'],
      [ids[0]!.toUpperCase(), 'r', 'bad-input'],
      [42, 'r', 'bad-input'],
      [ids[0], '', 'bad-input'],
      [ids[0], '   ', 'bad-input'],
      [ids[0], 'two\nlines', 'bad-input'],
      [ids[0], 'é'.repeat(101), 'bad-input'],
      [ids[0], undefined, 'bad-input'],
      ['0'.repeat(32), 'lost', 'unknown-device'],
    ];
    for (const [id, reason, code] of cases) {
      await expect(admin.revoke(id as string, reason as string)).rejects.toMatchObject({ code });
    }
    await admin.revoke(ids[0]!, 'lost');
    await expect(admin.revoke(ids[0]!, 'again')).rejects.toMatchObject({
      code: 'already-revoked',
      statusCode: 409,
    });
    expect(() => new DeviceAdmin({} as never)).toThrow(/store/);
  });
});
