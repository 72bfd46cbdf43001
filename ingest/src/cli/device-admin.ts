import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { isLoopbackHost } from '../broker/listeners.js';
import type { DeviceSummary, Revocation } from '../devices/device-admin.js';
import { OPERATOR_TOKEN_FILE, readOperatorTokenFile } from '../devices/operator-token.js';

/**
 * The `enginechain device list|revoke` failures found before or without the node's answer (the
 * node's own codes are DEVICE_ADMIN_ERRORS); docs/errors.md lists both.
 */
export const OPERATOR_CLIENT_ERROR_CODES = {
  'bad-input': '--node is not an http(s) URL',
  'plaintext-refused': 'The operator token would cross the network in clear (http off loopback)',
  unreachable: 'The node did not answer',
  'bad-response': 'The node answered with something that is not its JSON',
} as const;

/** A failure talking to the operator routes: the node's `{ code, message }`, or a local one. */
export class OperatorClientError extends Error {
  override readonly name = 'OperatorClientError';
  constructor(
    /** The node's code (`unauthorized`, `unknown-device`, …) or `plaintext-refused`, `unreachable`, `bad-response`. */
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type ListedDevice = DeviceSummary & { readonly connected: boolean };

export interface OperatorClient {
  list(status?: 'active' | 'revoked'): Promise<ListedDevice[]>;
  revoke(deviceId: string, reason: string): Promise<Revocation>;
}

/**
 * The operator's side of /v1/operator. The bearer token goes to https, or to http on loopback;
 * plain http elsewhere would hand the token to anyone on the path, so it needs `allowPlaintext`.
 */
export function operatorClient(
  nodeUrl: string,
  token: string,
  options: { allowPlaintext?: boolean } = {},
): OperatorClient {
  let base: URL;
  try {
    base = new URL(nodeUrl);
  } catch {
    throw new OperatorClientError('bad-input', `--node: cannot parse ${JSON.stringify(nodeUrl)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new OperatorClientError(
      'bad-input',
      `--node: expected an http(s) URL, got ${base.protocol}`,
    );
  if (base.protocol === 'http:' && !isLoopbackHost(base.hostname) && !options.allowPlaintext)
    throw new OperatorClientError(
      'plaintext-refused',
      `--node ${nodeUrl}: the operator token would cross the network in clear; use https or --allow-plaintext`,
    );
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, base), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new OperatorClientError('unreachable', `${base.origin}: ${cause}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new OperatorClientError('bad-response', `${res.status} from ${base.origin}: not JSON`, res.status); // prettier-ignore
    }
    if (!res.ok) {
      const e = json as { code?: unknown; message?: unknown };
      throw new OperatorClientError(
        typeof e.code === 'string' ? e.code : 'bad-response',
        typeof e.message === 'string' ? e.message : `HTTP ${res.status}`,
        res.status,
      );
    }
    return json as T;
  }
  return {
    async list(status) {
      const q = status ? `?status=${status}` : '';
      return (await call<{ devices: ListedDevice[] }>('GET', `/v1/operator/devices${q}`)).devices;
    },
    revoke: (deviceId, reason) =>
      call<Revocation>('POST', `/v1/operator/devices/${encodeURIComponent(deviceId)}/revoke`, {
        reason,
      }),
  };
}

interface CommonOptions {
  node: string;
  operatorTokenFile: string;
  allowPlaintext?: boolean;
  json?: boolean;
}

function defaultTokenFile(): string {
  return join(resolve(process.env.ENGINECHAIN_DATA ?? './enginechain-data'), OPERATOR_TOKEN_FILE);
}

function withCommon(cmd: Command): Command {
  return cmd
    .option(
      '--node <url>',
      'the node HTTP API',
      process.env.ENGINECHAIN_NODE ?? 'http://127.0.0.1:8080',
    )
    .option(
      '--operator-token-file <file>',
      "the node operator token (created at the node's first start)",
      defaultTokenFile(),
    ) // prettier-ignore
    .option('--allow-plaintext', 'allow http:// to a node that is not on this machine')
    .option('--json', 'print JSON');
}

async function run(o: CommonOptions, action: (client: OperatorClient) => Promise<string>) {
  try {
    const token = await readOperatorTokenFile(o.operatorTokenFile);
    const client = operatorClient(o.node, token, { allowPlaintext: o.allowPlaintext ?? false });
    process.stdout.write(await action(client));
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`enginechain: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    process.exitCode = e.code === 'bad-input' || e.code === 'plaintext-refused' ? 2 : 1;
  }
}

function table(devices: readonly ListedDevice[]): string {
  const rows = [
    ['DEVICE', 'VIN', 'STATUS', 'CONNECTED', 'NEXT SEQ', 'REGISTERED', 'OWNER'],
    ...devices.map((d) => [
      d.deviceId,
      d.vin,
      d.status,
      d.connected ? 'yes' : 'no',
      String(d.nextSeq),
      new Date(d.registeredAt).toISOString(),
      d.owner ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n'; // prettier-ignore
}

/** Adds `revoke` and `list` to the `enginechain device` command; both use the operator routes. */
export function registerDeviceAdmin(device: Command): void {
  withCommon(
    device
      .command('revoke')
      .description(
        'Revoke a device: logged, its MQTT session closed, its batches refused from now on',
      )
      .requiredOption('--device <id>', 'device id (32 hex digits)')
      .requiredOption(
        '--reason <text>',
        'why (public: it goes into the log; one line, ≤ 200 bytes)',
      ),
  ).action((o: CommonOptions & { device: string; reason: string }) =>
    run(o, async (client) => {
      const r = await client.revoke(o.device.toLowerCase(), o.reason);
      return o.json
        ? JSON.stringify(r) + '\n'
        : `revoked ${r.deviceId} at ${new Date(r.revokedAt).toISOString()} (log leaf ${r.leafIndex}, ${r.sessionsClosed} session(s) closed)\n`;
    }),
  );
  withCommon(
    device
      .command('list')
      .description('List the devices registered with a node')
      .option('--status <status>', 'only active or only revoked devices'),
  ).action((o: CommonOptions & { status?: string }) =>
    run(o, async (client) => {
      if (o.status !== undefined && o.status !== 'active' && o.status !== 'revoked')
        throw Object.assign(new Error('--status: expected active or revoked'), {
          code: 'bad-input',
        });
      const devices = await client.list(o.status as 'active' | 'revoked' | undefined);
      return o.json ? JSON.stringify(devices) + '\n' : table(devices);
    }),
  );
}
