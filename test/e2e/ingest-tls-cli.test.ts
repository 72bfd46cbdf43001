import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { createMqttToken, enrolmentRequestBody, generateDeviceKey } from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../../ingest/src/broker/test-pki.js';
import { repoRoot, runCli } from '../support/run-cli.js';

const VIN = '1HGCM82633A004352';

let pki: TestPki;
let work: string;
beforeAll(() => {
  pki = makeTestPki();
  work = mkdtempSync(join(tmpdir(), 'ingest-tls-cli-'));
});
afterAll(() => {
  pki.remove();
  rmSync(work, { recursive: true, force: true });
});

/** `enginechain ingest …` as a real process; resolves with the JSON line it prints once up. */
function startIngest(
  args: string[],
): Promise<{ child: ChildProcess; info: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `${repoRoot}bin/enginechain.js`, 'ingest', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }); // prettier-ignore
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingest did not start:\n${stderr}`)), 45_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as Record<string, unknown> });
    });
    child.once('exit', (code) => reject(new Error(`ingest exited ${code}:\n${stderr}`)));
  });
}

describe('enginechain ingest with TLS/WebSocket listeners, and enginechain device revoke|list', () => {
  it('refuses plaintext off loopback and a TLS key of another certificate (exit 2)', async () => {
    const data = join(work, 'refused');
    const plain = await runCli(['ingest', '--data', data, '--mqtt', '0.0.0.0:0', '--http', '127.0.0.1:0']); // prettier-ignore
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/plaintext off loopback.*--allow-plaintext/);
    const badKey = await runCli(['ingest', '--data', data, '--mqtts', '127.0.0.1:0', '--tls-cert', pki.files.serverCert, '--tls-key', pki.files.clientKey]); // prettier-ignore
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/does not belong to certificate/);
  }, 90_000);

  it('starts mqtts and wss listeners, writes the operator token, and revokes a device from the CLI', async () => {
    const data = join(work, 'node');
    const { child, info } = await startIngest([
      '--data', data, '--mqtt', '127.0.0.1:0', '--http', '127.0.0.1:0',
      '--mqtts', '127.0.0.1:0', '--mqtt-wss', '127.0.0.1:0',
      '--tls-cert', pki.files.serverCert, '--tls-key', pki.files.serverKey,
      '--advertise-broker', 'mqtts://localhost:8883',
    ]); // prettier-ignore
    try {
      const urls = info.brokerUrls as string[];
      expect(urls.map((u) => u.split(':')[0])).toEqual(['mqtt', 'mqtts', 'wss']);
      const tokenFile = info.operatorTokenFile as string;
      expect(tokenFile).toBe(join(data, 'operator.token'));
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const httpUrl = info.httpUrl as string;
      expect(((await (await fetch(`${httpUrl}/v1/node`)).json()) as { brokerUrl: string }).brokerUrl).toBe('mqtts://localhost:8883'); // prettier-ignore

      // Enrol a device and connect it over wss with its token.
      const enrolled = await runCli(['device', 'enroll', '--vin', VIN, '--data', data, '--json']);
      const { token } = JSON.parse(enrolled.stdout) as { token: string };
      const key = generateDeviceKey();
      const reg = await fetch(`${httpUrl}/v1/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(enrolmentRequestBody(token, VIN, key)),
      }); // prettier-ignore
      expect(reg.status).toBe(201);
      const client = await mqtt.connectAsync(urls[2]!, { username: key.deviceId, password: Buffer.from(createMqttToken(key.deviceId, key.privateKey)), protocolVersion: 4, reconnectPeriod: 0, ca: pki.pem.caCert }); // prettier-ignore
      const closed = new Promise<void>((r) => client.once('close', () => r()));

      const common = ['--node', httpUrl, '--operator-token-file', tokenFile];
      const list = await runCli(['device', 'list', ...common, '--json']);
      expect(list.stderr).toBe('');
      expect(JSON.parse(list.stdout)).toMatchObject([{ deviceId: key.deviceId, status: 'active', connected: true }]); // prettier-ignore
      const revoked = await runCli(['device', 'revoke', ...common, '--device', key.deviceId, '--reason', 'gateway stolen']); // prettier-ignore
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`^revoked ${key.deviceId} at .* \\(log leaf 1, 1 session\\(s\\) closed\\)`)); // prettier-ignore
      await closed;
      const again = await runCli(['device', 'revoke', ...common, '--device', key.deviceId, '--reason', 'x']); // prettier-ignore
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already-revoked/);
      const table = await runCli(['device', 'list', ...common]);
      expect(table.stdout).toMatch(new RegExp(`${key.deviceId}\\s+${VIN}\\s+revoked\\s+no`));
      const noToken = await runCli(['device', 'list', '--node', httpUrl, '--operator-token-file', join(work, 'missing')]); // prettier-ignore
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toMatch(/not-found/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 120_000);
});
