import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createKeyRotationRequest,
  deviceKeyPaths,
  generateDeviceKey,
  loadDeviceKey,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyToPem,
  readSecretFile,
  writeFileAtomic,
  type DeviceKey,
} from '@enginechain/shared';
import { loadAgentConfig } from '../config/agent-config.js';
import { OutboxStore } from '../outbox/outbox-store.js';

/** The device id, beside the keys once a rotation made it differ from the key's own id. */
export const DEVICE_ID_FILE = 'device.id';
/** The new key between creating it and the node's answer: a retry reuses it, never loses it. */
export const PENDING_KEY_FILE = 'device.key.next';
/** Every rotation this folder made: from which seq each key signs (JSON lines). */
export const ROTATIONS_FILE = 'rotations.jsonl';

export class RotateKeyError extends Error {
  override readonly name = 'RotateKeyError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RotateKeyOptions {
  /** The agent config (`agent.json`): the key folder, the outbox. */
  readonly configPath: string;
  /** Base URL of the ingestion node's HTTP API, e.g. http://127.0.0.1:8080. */
  readonly ingest: string;
  readonly fetch?: typeof fetch;
}

export interface RotateKeyResult {
  readonly deviceId: string;
  /** The first seq the new key signs. */
  readonly fromSeq: number;
  /** Leaf index of the key-rotation entry in the node's log. */
  readonly leafIndex: number;
  readonly publicKey: Uint8Array;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The device's id: the file a rotation wrote, else the current key's own (never rotated). */
export async function readDeviceId(keyDir: string, key: DeviceKey): Promise<string> {
  const path = join(keyDir, DEVICE_ID_FILE);
  if (!(await exists(path))) return key.deviceId;
  const id = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{32}$/.test(id))
    throw new RotateKeyError('bad-device-id', `${path}: expected 32 lower-case hex digits`);
  return id;
}

/**
 * `enginechain rotate-key` (docs/protocol.md, key rotation), with the agent stopped: makes a
 * new key, asks the node to rotate to it from the outbox's next seq (signed by the current
 * and the new key), and only once the node has logged the rotation replaces device.key (0600)
 * and device.pub. Batches already in the outbox keep the old key's signature, which the node
 * accepts for their seqs. The new key is on disk before the request goes out, so a crash or a
 * lost answer never leaves the node with a key the device does not have.
 */
export async function rotateDeviceKey(o: RotateKeyOptions): Promise<RotateKeyResult> {
  const config = loadAgentConfig(o.configPath);
  const keyDir = config.device.keyDir;
  const current = await loadDeviceKey(keyDir);
  const deviceId = await readDeviceId(keyDir, current);
  const outbox = OutboxStore.open({
    path: config.outbox.path,
    deviceId,
    quotaBytes: config.outbox.quotaBytes,
  });
  const fromSeq = outbox.chainHead().nextSeq;
  outbox.close();

  const pendingPath = join(keyDir, PENDING_KEY_FILE);
  let next: DeviceKey;
  if (await exists(pendingPath)) {
    next = privateKeyFromPem(await readSecretFile(pendingPath), pendingPath);
  } else {
    next = generateDeviceKey();
    await writeFileAtomic(pendingPath, privateKeyToPem(next), 0o600);
  }

  const send = async (signedBy: DeviceKey) => {
    const url = new URL(`/v1/devices/${deviceId}/key-rotations`, o.ingest).href;
    const request = createKeyRotationRequest({
      deviceId,
      currentKey: signedBy,
      newKey: next,
      fromSeq,
    });
    let res: Response;
    try {
      res = await (o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ request: Buffer.from(request).toString('base64') }),
      });
    } catch (err) {
      throw new RotateKeyError(
        'unreachable',
        `cannot reach the ingestion node at ${url}: ${(err as Error).message} (the new key waits in ${pendingPath}; run rotate-key again)`,
      );
    }
    return {
      status: res.status,
      answer: (await res.json().catch(() => ({}))) as Record<string, unknown>,
    };
  };

  const { status, answer } = await send(current);
  if (status === 403 && answer.code === 'bad-signature') {
    // An earlier attempt may have been logged without its answer arriving: then the node's
    // current key is the pending one, which it refuses to rotate to again (`same-key`).
    const again = await send(next);
    if (again.answer.code === 'same-key') {
      await install(keyDir, deviceId, next, pendingPath, {
        fromSeq: undefined,
        leafIndex: undefined,
      });
      throw new RotateKeyError(
        'already-rotated',
        `the node already had the new key from an earlier attempt; installed it in ${keyDir}`,
      );
    }
  }
  if (status !== 201) {
    if (status === 409 || status === 403 || status === 400 || status === 404)
      await rm(pendingPath, { force: true });
    throw new RotateKeyError(
      String(answer.code ?? `http-${status}`),
      `the node refused the key rotation: ${String(answer.message ?? status)}`,
    );
  }
  const leafIndex = Number(answer.leafIndex);
  await install(keyDir, deviceId, next, pendingPath, { fromSeq, leafIndex });
  return { deviceId, fromSeq, leafIndex, publicKey: next.publicKey };
}

/** Puts the new key in place of the old one and notes the rotation; each write is atomic. */
async function install(
  keyDir: string,
  deviceId: string,
  next: DeviceKey,
  pendingPath: string,
  logged: { fromSeq: number | undefined; leafIndex: number | undefined },
): Promise<void> {
  const paths = deviceKeyPaths(keyDir);
  const idPath = join(keyDir, DEVICE_ID_FILE);
  if (!(await exists(idPath))) await writeFileAtomic(idPath, `${deviceId}\n`, 0o644);
  await writeFileAtomic(paths.privateKeyPath, privateKeyToPem(next), 0o600);
  await writeFileAtomic(paths.publicKeyPath, publicKeyToPem(next.publicKey), 0o644);
  await rm(pendingPath, { force: true });
  const line = JSON.stringify({
    at: new Date().toISOString(),
    publicKey: Buffer.from(next.publicKey).toString('base64'),
    fromSeq: logged.fromSeq ?? null,
    leafIndex: logged.leafIndex ?? null,
  });
  const rotationsPath = join(keyDir, ROTATIONS_FILE);
  const before = (await exists(rotationsPath)) ? await readFile(rotationsPath, 'utf8') : '';
  await writeFileAtomic(rotationsPath, `${before}${line}\n`, 0o644);
}
