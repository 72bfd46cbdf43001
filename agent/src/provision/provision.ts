import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  decodeVin,
  enrolmentRequestBody,
  generateDeviceKey,
  KeyFileError,
  loadDeviceKey,
  writeDeviceKey,
  writeFileAtomic,
  type DeviceKey,
} from '@enginechain/shared';
import {
  parseAgentConfig,
  type AgentConfig,
  type AgentConfigInput,
} from '../config/agent-config.js';
import { sourcesFromProfile, type BoardProfile, type CanDecoding } from './board-profile.js';

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Per-signal default rates (Hz) for an ELM327: together < 20 requests/s, what adapters sustain
 * (the service 01 PIDs share requests, six at a time on CAN). The battery voltage at the OBD
 * connector (ATRV) and the stored DTCs (service 03) are what the low-battery and DTC events
 * need; the adapter answers ATRV even while the ECUs sleep.
 */
export const ELM327_DEFAULT_SIGNALS: Readonly<Record<string, number>> = {
  'Vehicle.Speed': 10,
  'Vehicle.Powertrain.CombustionEngine.Speed': 10,
  'Vehicle.OBD.ThrottlePosition': 2,
  'Vehicle.OBD.EngineLoad': 2,
  'Vehicle.OBD.MAF': 1,
  'Vehicle.Powertrain.CombustionEngine.ECT': 0.2,
  'Vehicle.Powertrain.FuelSystem.RelativeLevel': 0.1,
  'Vehicle.LowVoltageBattery.CurrentVoltage': 0.5,
  'Vehicle.OBD.DTCList': 0.1,
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
  /** The key of an earlier attempt in the same folder was registered (no new identity). */
  readonly reusedKey: boolean;
}

/**
 * `enginechain provision` (docs/protocol.md §1): makes the device key (0600), registers it with
 * the node against a single-use enrolment token, and writes the agent config (0600) with the
 * node's broker and keys. Nothing is written if registration fails, except the new key pair,
 * which a retry with a fresh token reuses.
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
  const { key, reused } = await deviceKeyFor(out, o.force ?? false);
  const body = enrolmentRequestBody(o.token, vin, key);
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
  // Checked before the config is written: a config naming another device's node keys would
  // start an agent whose batches the node refuses.
  if (answer.deviceId !== key.deviceId) {
    throw new ProvisionError(
      'mismatch',
      `the node registered ${String(answer.deviceId)}, expected ${key.deviceId}`,
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
  await writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n', 0o600);
  return { deviceId: key.deviceId, configPath, config, reusedKey: reused };
}

/**
 * The device key of `out`: a new one, or the one a registration that failed (wrong token,
 * node unreachable) left behind, so that a retry with a fresh token just works. `force` makes
 * a new identity whatever is there.
 */
async function deviceKeyFor(
  out: string,
  force: boolean,
): Promise<{ key: DeviceKey; reused: boolean }> {
  if (!force) {
    try {
      return { key: await loadDeviceKey(out), reused: true };
    } catch (err) {
      if (!(err instanceof KeyFileError && err.code === 'not-found')) throw err;
    }
  }
  const key = generateDeviceKey();
  await writeDeviceKey(out, key, { force });
  return { key, reused: false };
}

/** Where `provision` takes the agent's sources from. */
export interface SourceChoice {
  /** A board profile (hardware/kit/profiles/*.json): its sources and per-signal rates. */
  readonly profile?: BoardProfile;
  /** For a profile that reads the CAN bus: the vehicle's DBC and VSS mapping. */
  readonly can?: CanDecoding;
  /** Ports that replace the profile's (or add a source when the profile has none of the kind). */
  readonly elm327?: string;
  readonly nmea?: string;
  readonly imu?: string;
}

/**
 * The config's sources: the profile's, with the ports given on the command line put in (an
 * installer's adapter may sit elsewhere than the profile's udev name), and a source added for
 * a port of a kind the profile lacks (an ELM327 polls `ELM327_DEFAULT_SIGNALS` then).
 */
export function chooseSources(c: SourceChoice): AgentConfigInput['sources'] {
  const sources = c.profile ? sourcesFromProfile(c.profile, c.can) : [];
  const put = (type: 'elm327' | 'nmea' | 'imu', port: string | undefined) => {
    if (port === undefined) return;
    const i = sources.findIndex((s) => s.type === type);
    const existing = sources[i];
    if (existing && 'port' in existing) sources[i] = { ...existing, port };
    else if (type === 'elm327')
      sources.push({ type, port, signals: { ...ELM327_DEFAULT_SIGNALS } });
    else sources.push({ type, port });
  };
  put('elm327', c.elm327);
  put('nmea', c.nmea);
  put('imu', c.imu);
  if (sources.length === 0)
    throw new ProvisionError('no-sources', 'give a board profile (--profile FILE) or at least one source: --elm327, --nmea or --imu'); // prettier-ignore
  return sources;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
