/**
 * A running node with a small real fleet for API and dashboard tests: two owners, two
 * business users, one enrolled device per owner that drove a short trip (signed batches through
 * the real pipeline), one harsh brake and one crash on the first vehicle.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  batchHash,
  buildBatchPayload,
  enrolmentProofMessage,
  generateDeviceKey,
  signBatch,
  signEs256k,
  ZERO_HASH,
  type BatchEvent,
  type BatchSample,
} from '@enginechain/shared';
import { IngestNode, type IngestNodeOptions } from '../node/ingest-node.js';

export const FLEET = {
  owner: { username: 'olivia@example.org', password: 'correct horse battery' },
  otherOwner: { username: 'oscar@example.org', password: 'staple battery horse' },
  insurer: { username: 'claims@insurer.example', password: 'insurer password 1' },
  stranger: { username: 'fleet@other.example', password: 'stranger password 1' },
  vin: '1HGCM82633A004352',
  otherVin: '5YJSA1E18HF000337',
  /** Trip start, 2026-11-24 08:00 UTC: daylight in the simulated place. */
  t0: Date.UTC(2026, 10, 24, 8, 0, 0),
} as const;

/** Low, so the rate-limit test need not spend many scrypt runs. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 3;

/** km/h at second s of a 120 s trip: speed up, cruise, a harsh brake, cruise, stop, idle. */
export function fleetSpeed(s: number): number {
  if (s < 10) return s * 6;
  if (s < 50) return 60;
  if (s < 52) return 60 - (s - 50) * 15;
  if (s < 90) return 30;
  if (s < 100) return 30 - (s - 90) * 3;
  return 0;
}

/** `options`: more node options, over the fixture's. */
export async function startTestFleet(options: Partial<IngestNodeOptions> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'enginechain-fleet-'));
  const node = await IngestNode.start({
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    checkpointIntervalMs: 50,
    verifierThreads: 1,
    loginRateLimit: LOGIN_ATTEMPTS_PER_MINUTE,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  const users = {
    owner: await node.access.createUser({
      ...FLEET.owner,
      kind: 'registered',
      displayName: 'Olivia',
    }),
    otherOwner: await node.access.createUser({ ...FLEET.otherOwner, kind: 'registered' }),
    insurer: await node.access.createUser({
      ...FLEET.insurer,
      kind: 'business',
      displayName: 'Claims Ltd',
    }),
    stranger: await node.access.createUser({ ...FLEET.stranger, kind: 'business' }),
  };
  const drive = async (vin: string, owner: string, crash: boolean) => {
    const key = generateDeviceKey();
    const { token } = await node.enrolment.issueToken(vin, owner);
    await node.enrolment.register({
      token,
      vin,
      publicKey: key.publicKey,
      proof: signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey),
    });
    let prev = ZERO_HASH;
    for (let seq = 0; seq < 12; seq++) {
      const samples: BatchSample[] = [];
      for (let k = 0; k < 20; k++) {
        const s = seq * 10 + k * 0.5;
        const time = FLEET.t0 + Math.round(s * 1_000);
        samples.push(
          { name: 'Vehicle.Speed', unit: 'km/h', time, value: fleetSpeed(s) },
          {
            name: 'Vehicle.Powertrain.CombustionEngine.Speed',
            unit: 'rpm',
            time,
            value: 800 + fleetSpeed(s) * 30,
          },
          { name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees', time, value: 52.52 },
          {
            name: 'Vehicle.CurrentLocation.Longitude',
            unit: 'degrees',
            time,
            value: 13.405 + s * 1e-4,
          },
        );
      }
      const events: BatchEvent[] = [];
      if (seq === 5)
        events.push({
          type: 'harsh-braking',
          priority: 'normal',
          start: FLEET.t0 + 50_000,
          end: FLEET.t0 + 52_000,
          data: { peak: -4.2 },
        });
      if (crash && seq === 9)
        events.push({
          type: 'crash',
          priority: 'critical',
          start: FLEET.t0 + 95_000,
          end: FLEET.t0 + 95_100,
          data: { deltaVKmh: 28 },
        });
      const bytes = signBatch(
        buildBatchPayload({ deviceId: key.deviceId, vin, seq, prev, kind: events.some((e) => e.type === 'crash') ? 'trace' : 'routine', clock: { source: 'gnss', jumps: [] }, samples, events }),
        key,
      ); // prettier-ignore
      prev = batchHash(bytes);
      const outcome = await node.ingestor.ingest(key.deviceId, bytes);
      if (outcome.status !== 'accepted') throw new Error(`fixture batch ${seq}: ${outcome.status}`);
    }
    return key;
  };
  const device = await drive(FLEET.vin, FLEET.owner.username, true);
  await drive(FLEET.otherVin, FLEET.otherOwner.username, false);
  await node.checkpointNow();
  return { node, dataDir, users, device, close: () => node.stop() };
}

/** A logged-in HTTP client keeping its session cookie, as a browser would. */
export async function login(baseUrl: string, who: { username: string; password: string }) {
  const res = await fetch(`${baseUrl}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  if (res.status !== 200)
    throw new Error(`login ${who.username}: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return (path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), cookie },
    });
}
