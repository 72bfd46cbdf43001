import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfigInput } from '@enginechain/agent';
import {
  generateDeviceKey,
  generateReceiptKey,
  generateSignerKey,
  rawEd25519PublicKey,
  writeDeviceKey,
} from '@enginechain/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

// Issue 5: `enginechain agent` with a missing key, or a key others can read, stops at start
// with a message naming the file and what to do, exits non-zero, and touches nothing else
// (no outbox is created, no adapter is opened).
const dir = mkdtempSync(join(tmpdir(), 'enginechain-agent-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, keyDir: string): { configPath: string; outboxPath: string } {
  const outboxPath = join(dir, name, 'outbox.db');
  const config: AgentConfigInput = {
    device: { keyDir, vin: '1HGCM82633A004352' },
    ingest: {
      url: 'mqtt://127.0.0.1:1',
      receiptPublicKey: Buffer.from(rawEd25519PublicKey(generateReceiptKey().publicKey)).toString('base64'), // prettier-ignore
      checkpointVerifierKey: generateSignerKey('enginechain.local-sidechain').verifierKey,
      logOrigin: 'enginechain.local/sidechain',
    },
    // A port that does not exist: were the key check to come after the sources, the error
    // would be about the adapter instead.
    sources: [{ type: 'nmea', port: join(dir, name, 'no-such-gnss') }],
    outbox: { path: outboxPath },
    metrics: { port: 0 },
  };
  const configPath = join(dir, `${name}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  return { configPath, outboxPath };
}

describe('enginechain agent: device key problems at start', () => {
  it('a missing key file: names the file, says to run provision, exits 1', async () => {
    const keyDir = join(dir, 'missing', 'keys');
    const { configPath, outboxPath } = writeConfig('missing', keyDir);
    const r = await runCli(['agent', '--config', configPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(keyDir, 'device.key'));
    expect(r.stderr).toContain('enginechain provision');
    expect(r.stderr).toContain(`--out ${keyDir}`);
    expect(r.stderr).toContain('device.keyDir');
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(outboxPath)).toBe(false);
  });

  it('a key file group and others can read: names the file and its mode, says chmod 600, exits 1', async () => {
    const keyDir = join(dir, 'open', 'keys');
    const { privateKeyPath } = await writeDeviceKey(keyDir, generateDeviceKey());
    chmodSync(privateKeyPath, 0o644);
    const { configPath, outboxPath } = writeConfig('open', keyDir);
    const r = await runCli(['agent', '--config', configPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(privateKeyPath);
    expect(r.stderr).toContain('0644');
    expect(r.stderr).toContain('chmod 600');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(outboxPath)).toBe(false);
  });
});
