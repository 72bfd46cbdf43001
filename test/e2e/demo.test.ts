import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

interface Summary {
  trip: { distanceKm: number };
  batches: { sent: number; receipted: number; waiting: number };
  events: { type: string }[];
  evidence: { file: string; verified: boolean; batches: number; samples: number };
  log: { size: number; checkpointVerifierKey: string };
  logins: {
    owner: { username: string; password: string };
    insurer: { username: string; password: string };
  };
}

// The main job end to end, with real processes: `enginechain demo` starts `enginechain ingest`,
// `enginechain simulate` and `enginechain agent`, each its own process, over MQTT and ptys.
describe('enginechain demo (simulator → agent → broker → ingest → evidence → verify)', () => {
  it('receipts every batch, records the crash and writes evidence that verifies offline; tampering fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enginechain-e2e-'));
    const r = await runCli(['demo', '--crash-at', '110', '--speedup', '10', '--json', '--dir', dir], {
      timeoutMs: 150_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Summary;
    expect(s.batches.sent).toBeGreaterThan(5);
    expect(s.batches.receipted).toBe(s.batches.sent);
    expect(s.batches.waiting).toBe(0);
    expect(s.events.filter((e) => e.type === 'crash')).toHaveLength(1);
    // UDDS up to the crash at 110 s is 0.950 km (trapezoid of udds.csv); the car then stands
    // still. Sampled at ~5 Hz of simulated time over SLCAN, within 2 %.
    expect(Math.abs(s.trip.distanceKm - 0.95) / 0.95).toBeLessThan(0.02);
    expect(s.evidence.verified).toBe(true);
    // The log holds the device registration, the owner's grant to the insurer, and each batch.
    expect(s.log.size).toBe(s.batches.sent + 2);
    expect(s.logins.owner.username).toBe('owner@demo.fleet');
    expect(s.logins.insurer.password.length).toBeGreaterThanOrEqual(10);

    const csv = join(dir, 'trace.csv');
    const ok = await runCli(['verify', s.evidence.file, '--trust', s.log.checkpointVerifierKey, '--csv', csv, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ verified: true, trusted: true, events: expect.arrayContaining([expect.objectContaining({ type: 'crash' })]) });
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^time,/);
    expect(lines[0]).toContain('Vehicle.Speed [km/h]');
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,/);

    const tampered = join(dir, 'tampered.cbor');
    const bytes = readFileSync(s.evidence.file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(tampered, bytes);
    const bad = await runCli(['verify', tampered, '--trust', s.log.checkpointVerifierKey]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('NOT VERIFIED');
  }, 180_000); // prettier-ignore
});
