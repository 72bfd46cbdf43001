import { mkdir, writeFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  decodeVin,
  enrolmentProofMessage,
  generateDeviceKey,
  signEs256k,
  writeDeviceKey,
} from '@enginechain/shared';
import {
  parseAgentConfig,
  type AgentConfig,
  type AgentConfigInput,
} from '../config/agent-config.js';

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Per-signal default rates (Hz) for an ELM327: together < 20 requests/s, what adapters sustain. */
export const ELM327_DEFAULT_SIGNALS: Readonly<Record<string, number>> = {
  'Vehicle.Speed': 10,
  'Vehicle.Powertrain.CombustionEngine.Speed': 10,
  'Vehicle.OBD.ThrottlePosition': 2,
  'Vehicle.OBD.EngineLoad': 2,
  'Vehicle.OBD.MAF': 1,
  'Vehicle.Powertrain.CombustionEngine.ECT': 0.2,
  'Vehicle.Powertrain.FuelSystem.RelativeLevel': 0.1,
  'Vehicle.OBD.ControlModuleVoltage': 0.5,
};

export interface ProvisionOptions {
  /** Base URL of the ingestion node's HTTP API, e.g. http://127.0.0.1:8080. */
  readonly ingest: string;
  readonly token: string;
  readonly vin: string;
  /** Folder for the key pair, the config and the outbox. */
  readonly out: string;
  /** Sources for the config; at least one. */
  readonly sources: AgentConfigInput['sources'];
  /** Override the broker URL the node announces (e.g. behind NAT). */
  readonly brokerUrl?: string;
  readonly force?: boolean;
  readonly fetch?: typeof fetch;
}

export interface ProvisionResult {
  readonly deviceId: string;
  readonly configPath: string;
  readonly config: AgentConfig;
}

/**
 * `enginechain provision` (docs/protocol.md §1): makes the device key (0600), registers it with
 * the node against a single-use enrolment token, and writes the agent config with the node's
 * broker and keys. Nothing is written if registration fails, except the new key pair, which a
 * retry with a fresh token reuses.
 */
export async function provisionDevice(o: ProvisionOptions): Promise<ProvisionResult> {
  const vin = decodeVin(o.vin).vin;
  const out = resolve(o.out);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const configPath = join(out, 'agent.json');
  if (!o.force && (await exists(configPath))) {
    throw new ProvisionError(
      'exists',
      `${configPath} exists: this folder is already provisioned (use --force to redo it)`,
    );
  }
  const key = generateDeviceKey();
  await writeDeviceKey(out, key, { force: o.force ?? false });
  const body = {
    token: o.token,
    vin,
    publicKey: Buffer.from(key.publicKey).toString('base64'),
    proof: Buffer.from(
      signEs256k(enrolmentProofMessage(o.token, key.publicKey), key.privateKey),
    ).toString('base64'),
  };
  const url = new URL('/v1/devices', o.ingest).href;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new ProvisionError(
      'unreachable',
      `cannot reach the ingestion node at ${url}: ${(err as Error).message}`,
    );
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status !== 201) {
    throw new ProvisionError(
      String(answer.code ?? `http-${res.status}`),
      `the node refused the registration: ${String(answer.message ?? res.statusText)}`,
    );
  }
  const config = parseAgentConfig(
    {
      device: { keyDir: out, vin },
      ingest: {
        url: o.brokerUrl ?? String(answer.brokerUrl),
        receiptPublicKey: String(answer.receiptPublicKey),
        checkpointVerifierKey: String(answer.checkpointVerifierKey),
        logOrigin: String(answer.logOrigin),
      },
      sources: o.sources,
      outbox: { path: join(out, 'outbox.db') },
    },
    'provisioned config',
  );
  await writeFile(configPath, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  if (answer.deviceId !== key.deviceId) {
    throw new ProvisionError(
      'mismatch',
      `the node registered ${String(answer.deviceId)}, expected ${key.deviceId}`,
    );
  }
  return { deviceId: key.deviceId, configPath, config };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
