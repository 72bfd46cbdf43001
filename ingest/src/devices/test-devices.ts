/** Test support (not exported from the package): a real store with enrolled devices. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrolmentProofMessage, generateDeviceKey, signEs256k } from '@enginechain/shared';
import { EnrolmentService } from '../http/enrolment-service.js';
import { SqliteIngestStore } from '../storage/sqlite-store.js';

export const VIN = '1HGCM82633A004352';

/** A real SQLite file store with `n` devices enrolled the way a device does it. */
export async function storeWithDevices(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'device-admin-'));
  const store = new SqliteIngestStore(join(dir, 'node.db'));
  const enrolment = new EnrolmentService(store);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = generateDeviceKey();
    const { token } = await enrolment.issueToken(VIN, `fleet-${i}`);
    const r = await enrolment.register({
      token,
      vin: VIN,
      publicKey: key.publicKey,
      proof: signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey),
    });
    ids.push(r.deviceId);
  }
  return {
    store,
    ids,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
