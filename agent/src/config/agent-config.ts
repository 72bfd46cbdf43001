import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isValidVin, parseVerifierKey } from '@enginechain/shared';

/**
 * The agent's configuration file (JSON). Validated at start: an unknown key, a wrong type or a
 * bad value stops the agent with the path of the offending key, because a gateway that runs
 * for years on a typo ("signls") would silently record nothing.
 */

const vssName = z.string().regex(/^Vehicle(\.[A-Z][A-Za-z0-9]*)+$/, 'must be a COVESA VSS path');
/** Per-signal sampling rates in Hz (0.01–100). */
const signalRates = z.record(vssName, z.number().min(0.01).max(100));
const serialPort = z.string().min(1);

const elm327 = z.strictObject({
  type: z.literal('elm327'),
  /** A serial device path, or tcp://host:port for Wi-Fi adapters. */
  port: serialPort,
  baud: z.number().int().positive().default(38_400),
  /** ATSP protocol number; `auto` lets the adapter search (ATSP0). */
  protocol: z.union([z.literal('auto'), z.string().regex(/^[1-9A-C]$/)]).default('auto'),
  signals: signalRates,
});
/**
 * Which DBC signals mean which VSS signals: `toyota` (the opendbc Toyota mapping checked on a
 * real RAV4 capture) or a JSON file of `{ message, signals, name, unit, scale? }` entries.
 */
const vssMapping = z.string().min(1);
const slcan = z.strictObject({
  type: z.literal('slcan'),
  port: serialPort,
  baud: z.number().int().positive().default(115_200),
  bitrate: z.number().int().positive().default(500_000),
  dbc: z.string().min(1),
  mapping: vssMapping,
  signals: signalRates,
});
const socketcan = z.strictObject({
  type: z.literal('socketcan'),
  interface: z.string().regex(/^[a-z0-9_-]{1,15}$/, 'must be a network interface name'),
  dbc: z.string().min(1),
  mapping: vssMapping,
  signals: signalRates,
});
const candump = z.strictObject({
  type: z.literal('candump'),
  file: z.string().min(1),
  dbc: z.string().min(1),
  mapping: vssMapping,
  /** Replay speed: 1 = real time. */
  speed: z.number().positive().default(1),
  signals: signalRates,
});
/**
 * GNSS receivers and IMUs send at their own rate; `signals` thins what goes into routine
 * batches (the crash trace keeps every reading). A signal not listed is kept as it arrives.
 */
const nmea = z.strictObject({
  type: z.literal('nmea'),
  port: serialPort,
  baud: z.number().int().positive().default(9_600),
  signals: signalRates.default({}),
});
const imu = z.strictObject({
  type: z.literal('imu'),
  port: serialPort,
  baud: z.number().int().positive().default(115_200),
  signals: signalRates.default({}),
});

export const agentConfigSchema = z.strictObject({
  device: z.strictObject({
    /** Folder holding device.key (0600) and device.pub. */
    keyDir: z.string().min(1),
    vin: z.string().refine(isValidVin, 'must be a valid 17-character VIN'),
  }),
  ingest: z
    .strictObject({
      /** mqtt://, mqtts://, ws:// or wss:// URL of the ingestion node's broker. */
      url: z.string().regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'must be an mqtt(s):// or ws(s):// URL'),
      /** The node's receipt key (Ed25519, base64) learned at provisioning. */
      receiptPublicKey: z
        .string()
        .refine(
          (k) => /^[A-Za-z0-9+/]{43}=$/.test(k),
          'must be a 32-byte Ed25519 public key in base64',
        ),
      /** The node's checkpoint verifier key (C2SP note verifier key). */
      checkpointVerifierKey: z
        .string()
        .refine(isNoteVerifierKey, 'must be a C2SP note verifier key'),
      /** The log origin line of the node's checkpoints. */
      logOrigin: z.string().min(1),
      /** PEM file of the CA(s) that signed the broker's certificate (default: the system's). */
      ca: z.string().min(1).optional(),
      /** Mutual TLS: PEM files of this device's client certificate and its key (mode 0600). */
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      /** Plain MQTT to anything but loopback must be asked for explicitly. */
      allowPlaintext: z.boolean().default(false),
      /**
       * Reconnect backoff, ms: attempt n waits random(0, min(capMs, baseMs·2ⁿ)) (full jitter).
       * The cap bounds how long a gateway may stay away after the broker is back; a fleet of
       * many gateways wants it large so they do not all return at once.
       */
      reconnect: z
        .strictObject({
          baseMs: z.number().int().min(10).max(60_000).default(1_000),
          capMs: z.number().int().min(10).max(3_600_000).default(60_000),
        })
        .refine((r) => r.capMs >= r.baseMs, { message: 'capMs must be ≥ baseMs', path: ['capMs'] })
        .prefault({}),
    })
    .superRefine((ingest, ctx) => {
      if ((ingest.cert === undefined) !== (ingest.key === undefined))
        ctx.addIssue({
          code: 'custom',
          path: [ingest.cert === undefined ? 'cert' : 'key'],
          message: 'mutual TLS needs both cert and key',
        });
    }),
  sources: z
    .array(z.discriminatedUnion('type', [elm327, slcan, socketcan, candump, nmea, imu]))
    .min(1, 'needs at least one source'),
  batching: z
    .strictObject({
      /** A batch is cut after this long … */
      maxAgeMs: z.number().int().min(100).max(3_600_000).default(10_000),
      /** … or this many samples, whichever comes first. */
      maxSamples: z.number().int().min(1).max(50_000).default(5_000),
    })
    .prefault({}),
  outbox: z.strictObject({
    path: z.string().min(1),
    /** Disk quota for stored batches, bytes. */
    quotaBytes: z
      .number()
      .int()
      .min(1_048_576)
      .default(256 * 1_048_576),
  }),
  events: z
    .strictObject({
      harshAccelerationMs2: z.number().positive().default(2.5),
      harshBrakingMs2: z.number().negative().default(-3.0),
      accelWindowMs: z.number().int().positive().default(1_000),
      speedLimitKmh: z.number().positive().optional(),
      speedingMinMs: z.number().int().nonnegative().default(5_000),
      lowBatteryV: z.number().positive().default(11.8),
      lowBatteryMinMs: z.number().int().nonnegative().default(10_000),
      crashDeltaVKmh: z.number().positive().default(8),
      crashWindowMs: z.number().int().positive().default(150),
      crashAccelMs2: z.number().positive().default(40),
    })
    .prefault({}),
  /**
   * Rate of the agent clock against real time. 1 on a vehicle; a simulator that plays a drive
   * cycle N× faster needs N here, or every acceleration would look N× harsher.
   */
  clockRate: z.number().min(1).max(1_000).default(1),
  crash: z
    .strictObject({
      preMs: z.number().int().min(20_000).default(20_000),
      postMs: z.number().int().min(10_000).default(10_000),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(9_464),
      allowRemote: z.boolean().default(false),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    })
    .prefault({}),
});

function isNoteVerifierKey(key: string): boolean {
  try {
    parseVerifierKey(key);
    return true;
  } catch {
    return false;
  }
}

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
export type SourceConfig = AgentConfig['sources'][number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** One entry per problem: the dotted path of the key and what is wrong with it. */
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Validates an already-parsed config object. */
export function parseAgentConfig(input: unknown, origin = 'config'): AgentConfig {
  const result = agentConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? i.keys : [];
    const base = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const path = keys.length > 0 ? keys.map((k) => `${base}.${k}`).join(', ') : base || '.';
    return { path: path.replace(/^\./, '').replace(/\.\[/g, '['), message: i.message };
  });
  const lines = issues.map((i) => `  ${i.path || '(top level)'}: ${i.message}`);
  throw new ConfigError(`${origin} is invalid:\n${lines.join('\n')}`, issues);
}

/** Reads and validates a JSON config file. */
export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseAgentConfig(json, `config ${path}`);
}
