import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateReceiptKey, generateSignerKey, rawEd25519PublicKey } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, parseAgentConfig } from './agent-config.js';

const RECEIPT_KEY = Buffer.from(rawEd25519PublicKey(generateReceiptKey().publicKey)).toString('base64'); // prettier-ignore
const LOG_KEY = generateSignerKey('ingest.example-enginechain-sidechain').verifierKey;

const valid = () => ({
  device: { keyDir: '/var/lib/enginechain/keys', vin: '1HGCM82633A004352' },
  ingest: {
    url: 'mqtts://ingest.example:8883',
    receiptPublicKey: RECEIPT_KEY,
    checkpointVerifierKey: LOG_KEY,
    logOrigin: 'ingest.example/enginechain/sidechain',
  },
  sources: [
    { type: 'elm327', port: '/dev/enginechain/elm327', signals: { 'Vehicle.Speed': 5 } },
    { type: 'nmea', port: '/dev/enginechain/gnss' },
  ],
  outbox: { path: '/var/lib/enginechain/outbox.db' },
});

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseAgentConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('agent config', () => {
  it('accepts a minimal config and fills in documented defaults', () => {
    const c = parseAgentConfig(valid());
    expect(c.batching).toEqual({ maxAgeMs: 10_000, maxSamples: 5_000 });
    expect(c.events.harshAccelerationMs2).toBe(2.5);
    expect(c.events.harshBrakingMs2).toBe(-3.0);
    expect(c.crash).toEqual({ preMs: 20_000, postMs: 10_000 });
    expect(c.metrics).toEqual({ host: '127.0.0.1', port: 9_464, allowRemote: false });
    expect(c.sources[0]).toMatchObject({ type: 'elm327', baud: 38_400, protocol: 'auto' });
    expect(c.outbox.quotaBytes).toBe(256 * 1_048_576);
    expect(c.ingest.reconnect).toEqual({ baseMs: 1_000, capMs: 60_000 });
  });

  it('takes a reconnect backoff and refuses a cap below the base, naming the key', () => {
    const ok = valid();
    const c = parseAgentConfig({ ...ok, ingest: { ...ok.ingest, reconnect: { capMs: 5_000 } } });
    expect(c.ingest.reconnect).toEqual({ baseMs: 1_000, capMs: 5_000 });
    const bad = { ...ok, ingest: { ...ok.ingest, reconnect: { baseMs: 2_000, capMs: 500 } } };
    expect(issuesOf(bad)).toEqual([
      expect.objectContaining({
        path: 'ingest.reconnect.capMs',
        message: 'capMs must be ≥ baseMs',
      }),
    ]);
    const typo = { ...ok, ingest: { ...ok.ingest, reconnect: { capMS: 5_000 } } };
    expect(issuesOf(typo).map((i) => i.path)).toEqual(['ingest.reconnect.capMS']);
  });

  it('names the path of an unknown key', () => {
    const bad = valid() as Record<string, unknown>;
    (bad.outbox as Record<string, unknown>).quotaByte = 5;
    expect(issuesOf(bad)).toEqual([expect.objectContaining({ path: 'outbox.quotaByte' })]);
  });

  it('names the path of a wrong type and of a bad value', () => {
    const bad = valid();
    (bad.sources[0] as Record<string, unknown>).baud = '38400';
    (bad.sources[0] as { signals: Record<string, number> }).signals['Vehicle.Speed'] = 1_000;
    bad.device.vin = '1HGCM82633A004353';
    const paths = issuesOf(bad).map((i) => i.path);
    expect(paths).toContain('sources[0].baud');
    expect(paths).toContain('sources[0].signals.Vehicle.Speed');
    expect(paths).toContain('device.vin');
  });

  it('rejects an unknown source type and a signal that is not a VSS name', () => {
    const bad = valid();
    (bad.sources[1] as Record<string, unknown>).type = 'obd3';
    (bad.sources[0] as { signals: Record<string, number> }).signals = { speed: 1 };
    const issues = issuesOf(bad);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['sources[1].type', 'sources[0].signals.speed']),
    );
  });

  it('refuses thresholds with the wrong sign and a crash window shorter than the rule', () => {
    const bad = { ...valid(), events: { harshBrakingMs2: 3 }, crash: { preMs: 5_000 } };
    expect(issuesOf(bad).map((i) => i.path)).toEqual(['events.harshBrakingMs2', 'crash.preMs']);
  });

  it('refuses node keys that are not keys, naming them', () => {
    const ok = valid();
    const bad = {
      ...ok,
      ingest: { ...ok.ingest, receiptPublicKey: 'k', checkpointVerifierKey: 'v+1+AAAA' },
    };
    expect(issuesOf(bad).map((i) => i.path)).toEqual([
      'ingest.receiptPublicKey',
      'ingest.checkpointVerifierKey',
    ]);
  });

  it('takes TLS files, and refuses a client certificate without its key', () => {
    const ok = valid();
    const tls = { ca: '/etc/enginechain/ca.pem', cert: '/etc/enginechain/device.crt', key: '/etc/enginechain/device.key.pem' }; // prettier-ignore
    expect(parseAgentConfig({ ...ok, ingest: { ...ok.ingest, ...tls } }).ingest).toMatchObject(tls);
    const half = { ...ok, ingest: { ...ok.ingest, cert: tls.cert } };
    expect(issuesOf(half)).toEqual([
      expect.objectContaining({
        path: 'ingest.key',
        message: 'mutual TLS needs both cert and key',
      }),
    ]);
  });

  it('loads a file and reports unreadable or non-JSON files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enginechain-config-'));
    const good = join(dir, 'agent.json');
    writeFileSync(good, JSON.stringify(valid()));
    expect(loadAgentConfig(good).device.vin).toBe('1HGCM82633A004352');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "device": ');
    expect(() => loadAgentConfig(broken)).toThrow(/not valid JSON/);
    expect(() => loadAgentConfig(join(dir, 'missing.json'))).toThrow(/cannot read config/);
  });
});
