import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClock, BatchSigner, MqttBatchTransport, OutboxStore } from '@enginechain/agent';
import { IngestNode } from '@enginechain/ingest';
import {
  createMqttToken,
  ed25519PublicKeyFromRaw,
  enrolmentRequestBody,
  generateDeviceKey,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyInclusion,
  verifyNodeMessage,
  type Receipt,
} from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/run-cli.js';

const VIN = '1HGCM82633A004352';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startNode(dataDir: string, mqttPort: number, httpPort: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(repoRoot, 'bin/enginechain.js'), 'ingest', '--data', dataDir,
      '--mqtt', `127.0.0.1:${mqttPort}`, '--http', `127.0.0.1:${httpPort}`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  ); // prettier-ignore
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`ingest exited with ${code}`)));
  });
}

// Issue 6: the node is SIGKILLed mid-stream, three times; the device keeps its outbox and
// resends. No receipted batch may be missing afterwards and the log must reopen consistent.
describe('ingest node killed with SIGKILL mid-stream', () => {
  it('loses no receipted batch and reopens a consistent log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'enginechain-kill-node-'));
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    let node = await startNode(dataDir, mqttPort, httpPort);

    const info = (await (await fetch(`http://127.0.0.1:${httpPort}/v1/node`)).json()) as {
      receiptPublicKey: string;
      checkpointVerifierKey: string;
      logOrigin: string;
    };
    const key = generateDeviceKey();
    const enrol = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(repoRoot, 'bin/enginechain.js'),
        'device',
        'enroll',
        '--data',
        dataDir,
        '--vin',
        VIN,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const token = await new Promise<string>((resolve) =>
      enrol.stdout?.on('data', (d: Buffer) =>
        resolve((JSON.parse(d.toString()) as { token: string }).token),
      ),
    );
    const reg = await fetch(`http://127.0.0.1:${httpPort}/v1/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(enrolmentRequestBody(token, VIN, key)),
    });
    expect(reg.status).toBe(201);

    // The real delivery stack of the agent: outbox (SQLite) + MQTT transport + verified receipts.
    const outbox = OutboxStore.open({
      path: join(mkdtempSync(join(tmpdir(), 'enginechain-kill-agent-')), 'outbox.db'),
      deviceId: key.deviceId,
      quotaBytes: 1 << 28,
      resendAfterMs: 2_000,
    });
    const signer = new BatchSigner(key, VIN, outbox, new AgentClock());
    const receiptKey = ed25519PublicKeyFromRaw(
      new Uint8Array(Buffer.from(info.receiptPublicKey, 'base64')),
    );
    const receipts: Receipt[] = [];
    const transport = new MqttBatchTransport({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      deviceId: key.deviceId,
      password: () => createMqttToken(key.deviceId, key.privateKey),
      outbox,
      subscribeControl: false,
      backoff: { baseMs: 100, capMs: 1_000 },
      onReceiptMessage: (bytes) => {
        const v = verifyNodeMessage(bytes, receiptKey);
        if (!v.ok) return;
        if (v.value.type === 'resend') return outbox.releaseInFlight(v.value.seqs);
        if (outbox.markReceipted(v.value.seq, v.value.batchHash, bytes, { logIndex: v.value.leafIndex }) === 'receipted') receipts.push(v.value);
      },
    }); // prettier-ignore
    transport.start();

    const total = 120;
    let produced = 0;
    const t0 = Date.now();
    const produce = setInterval(() => {
      if (produced >= total) return clearInterval(produce);
      const t = t0 + produced * 1_000;
      signer.sign({ kind: 'routine', start: t, end: t + 900, events: [], readings: [0, 300, 600].map((dt) => ({ name: 'Vehicle.Speed', unit: 'km/h', value: produced, time: t + dt, sourceTime: t + dt, source: 'test' })) });
      produced++;
      transport.wake();
    }, 25); // prettier-ignore

    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 600));
      node.kill('SIGKILL');
      await new Promise((r) => node.once('exit', r));
      node = await startNode(dataDir, mqttPort, httpPort);
    }
    await expect.poll(() => outbox.stats().depth, { timeout: 60_000, interval: 200 }).toBe(0);
    expect(produced).toBe(total);
    await transport.stop();
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));

    // Every receipt the device holds names a batch the node still has, with its bytes' hash,
    // included in the checkpoint the receipt carried; and the log reopens consistent.
    const { store, sidechain, close } = await IngestNode.openData(dataDir);
    try {
      const verifier = parseVerifierKey(info.checkpointVerifierKey);
      const seqs = new Set<number>();
      for (const r of receipts) {
        const row = await store.getBatch(key.deviceId, r.seq);
        expect(row?.hash).toEqual(r.batchHash);
        const { checkpoint } = openCheckpoint(r.checkpoint, [verifier], { origin: info.logOrigin });
        const entry = await store.logEntry(r.leafIndex);
        verifyInclusion(
          BigInt(r.leafIndex),
          checkpoint.treeSize,
          leafHash(entry!.entry),
          [...r.inclusionProof],
          checkpoint.rootHash,
        );
        seqs.add(r.seq);
      }
      expect(seqs.size).toBe(total);
      expect((await store.getDevice(key.deviceId))?.nextSeq).toBe(total);
      expect(await store.logSize()).toBe(total + 1);
      expect(sidechain.latestCheckpoint?.treeSize).toBe(total + 1);
    } finally {
      await close();
      outbox.close();
    }
  }, 120_000);
});
