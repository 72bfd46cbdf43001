/**
 * Test support (not exported from the package): a real node on loopback with ephemeral ports,
 * a device enrolled over its HTTP API the way `enginechain provision` does it, and that device
 * connected to its embedded broker, collecting the receipts it verifies.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import {
  createMqttToken,
  ed25519PublicKeyFromRaw,
  enrolmentRequestBody,
  generateDeviceKey,
  verifyNodeMessage,
  type DeviceKey,
  type NodeMessage,
} from '@enginechain/shared';
import { IngestNode, type IngestNodeOptions } from './ingest-node.js';

/** Checkpoints every 100 ms so receipts come quickly; one verifier thread; `more` on top. */
export function startTestNode(
  dataDir = mkdtempSync(join(tmpdir(), 'enginechain-node-')),
  more: Partial<IngestNodeOptions> = {},
): Promise<IngestNode> {
  return IngestNode.start({
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    checkpointIntervalMs: 100,
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
    ...more,
  });
}

/** POST /v1/devices with a new key and a fresh token; the caller checks the answer. */
export async function postEnrolment(node: IngestNode, vin: string, owner = 'fleet') {
  const key = generateDeviceKey();
  const { token } = await node.enrolment.issueToken(vin, owner);
  const res = await fetch(`${node.httpUrl}/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(enrolmentRequestBody(token, vin, key)),
  });
  return { key, token, res };
}

/**
 * Connects as `deviceId` with a token signed by `signer`, subscribed to its receipts. `node`: an
 * IngestNode, or what a node started by the CLI announces (`{ brokerUrl, keys: announced }`).
 */
export async function connectDevice(
  node: { readonly brokerUrl: string; readonly keys: { readonly receiptPublicKey: string } },
  deviceId: string,
  signer: DeviceKey,
): Promise<{ client: MqttClient; receipts: NodeMessage[] }> {
  const client = await mqtt.connectAsync(node.brokerUrl, {
    username: deviceId,
    password: Buffer.from(createMqttToken(deviceId, signer.privateKey)),
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const receipts: NodeMessage[] = [];
  const receiptKey = ed25519PublicKeyFromRaw(Buffer.from(node.keys.receiptPublicKey, 'base64'));
  client.on('message', (_t, payload) => {
    const v = verifyNodeMessage(new Uint8Array(payload), receiptKey);
    if (v.ok) receipts.push(v.value);
  });
  await client.subscribeAsync(`ec/v1/${deviceId}/receipt`, { qos: 1 });
  return { client, receipts };
}
