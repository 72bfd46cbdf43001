import { readFileSync } from 'node:fs';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { isValidVin, parseVerifierKey } from '@enginechain/shared';

/**
 * The agent's configuration file (JSON). Validated at start: an unknown key, a wrong type or a
 * bad value stops the agent with the path of the offending key, because a gateway that runs
 * for years on a typo ("signls") would silently record nothing.
 *
 * zod/mini rather than classic zod: the agent bundle then carries only the checks it uses, not
 * all of zod and its locales (the bundle 1.19 MB → 767 KB, its load peak RSS −12 MB), which the
 * board's RAM budget needs. Mini ships no locale, so English is set here, once, for every agent
 * schema (they all import this module).
 */
z.config(en());

const vssName = z
  .string()
  .check(z.regex(/^Vehicle(\.[A-Z][A-Za-z0-9]*)+$/, 'must be a COVESA VSS path'));
/** Per-signal sampling rates in Hz (0.01–100). */
const signalRates = z.record(vssName, z.number().check(z.minimum(0.01), z.maximum(100)));
const nonEmptyString = z.string().check(z.minLength(1));
const serialPort = nonEmptyString;
const positiveInt = z.int().check(z.positive());

const elm327 = z.strictObject({
  type: z.literal('elm327'),
  /** A serial device path, or tcp://host:port for Wi-Fi adapters. */
  port: serialPort,
  baud: z._default(positiveInt, 38_400),
  /** ATSP protocol number; `auto` lets the adapter search (ATSP0). */
  protocol: z._default(
    z.union([z.literal('auto'), z.string().check(z.regex(/^[1-9A-C]$/))]),
    'auto',
  ),
  signals: signalRates,
});
/**
 * Which DBC signals mean which VSS signals: `toyota` (the opendbc Toyota mapping checked on a
 * real RAV4 capture) or a JSON file of `{ message, signals, name, unit, scale? }` entries.
 */
const vssMapping = nonEmptyString;
const slcan = z.strictObject({
  type: z.literal('slcan'),
  port: serialPort,
  baud: z._default(positiveInt, 115_200),
  bitrate: z._default(positiveInt, 500_000),
  dbc: nonEmptyString,
  mapping: vssMapping,
  signals: signalRates,
});
const socketcan = z.strictObject({
  type: z.literal('socketcan'),
  interface: z.string().check(z.regex(/^[a-z0-9_-]{1,15}$/, 'must be a network interface name')),
  dbc: nonEmptyString,
  mapping: vssMapping,
  signals: signalRates,
});
const candump = z.strictObject({
  type: z.literal('candump'),
  file: nonEmptyString,
  dbc: nonEmptyString,
  mapping: vssMapping,
  /** Replay speed: 1 = real time. */
  speed: z._default(z.number().check(z.positive()), 1),
  signals: signalRates,
});
/**
 * GNSS receivers and IMUs send at their own rate; `signals` thins what goes into routine
 * batches (the crash trace keeps every reading). A signal not listed is kept as it arrives.
 */
const nmea = z.strictObject({
  type: z.literal('nmea'),
  port: serialPort,
  baud: z._default(positiveInt, 9_600),
  signals: z._default(signalRates, {}),
});
const imu = z.strictObject({
  type: z.literal('imu'),
  port: serialPort,
  baud: z._default(positiveInt, 115_200),
  signals: z._default(signalRates, {}),
});

/** An integer within [min, max]. */
const intBetween = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

export const agentConfigSchema = z.strictObject({
  device: z.strictObject({
    /** Folder holding device.key (0600) and device.pub. */
    keyDir: nonEmptyString,
    vin: z.string().check(z.refine(isValidVin, 'must be a valid 17-character VIN')),
  }),
  ingest: z
    .strictObject({
      /** mqtt://, mqtts://, ws:// or wss:// URL of the ingestion node's broker. */
      url: z
        .string()
        .check(z.regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'must be an mqtt(s):// or ws(s):// URL')),
      /** The node's receipt key (Ed25519, base64) learned at provisioning. */
      receiptPublicKey: z
        .string()
        .check(
          z.refine(
            (k: string) => /^[A-Za-z0-9+/]{43}=$/.test(k),
            'must be a 32-byte Ed25519 public key in base64',
          ),
        ),
      /** The node's checkpoint verifier key (C2SP note verifier key). */
      checkpointVerifierKey: z
        .string()
        .check(z.refine(isNoteVerifierKey, 'must be a C2SP note verifier key')),
      /** The log origin line of the node's checkpoints. */
      logOrigin: nonEmptyString,
      /** PEM file of the CA(s) that signed the broker's certificate (default: the system's). */
      ca: z.optional(nonEmptyString),
      /** Mutual TLS: PEM files of this device's client certificate and its key (mode 0600). */
      cert: z.optional(nonEmptyString),
      key: z.optional(nonEmptyString),
      /** Plain MQTT to anything but loopback must be asked for explicitly. */
      allowPlaintext: z._default(z.boolean(), false),
      /**
       * Reconnect backoff, ms: attempt n waits random(0, min(capMs, baseMs·2ⁿ)) (full jitter).
       * The cap bounds how long a gateway may stay away after the broker is back; a fleet of
       * many gateways wants it large so they do not all return at once.
       */
      reconnect: z.prefault(
        z
          .strictObject({
            baseMs: z._default(intBetween(10, 60_000), 1_000),
            capMs: z._default(intBetween(10, 3_600_000), 60_000),
          })
          .check(
            z.refine((r: { baseMs: number; capMs: number }) => r.capMs >= r.baseMs, {
              message: 'capMs must be ≥ baseMs',
              path: ['capMs'],
            }),
          ),
        {},
      ),
    })
    .check(
      z.superRefine((ingest, ctx) => {
        if ((ingest.cert === undefined) !== (ingest.key === undefined))
          ctx.addIssue({
            code: 'custom',
            path: [ingest.cert === undefined ? 'cert' : 'key'],
            message: 'mutual TLS needs both cert and key',
          });
      }),
    ),
  sources: z
    .array(z.discriminatedUnion('type', [elm327, slcan, socketcan, candump, nmea, imu]))
    .check(z.minLength(1, 'needs at least one source')),
  batching: z.prefault(
    z.strictObject({
      /** A batch is cut after this long … */
      maxAgeMs: z._default(intBetween(100, 3_600_000), 10_000),
      /** … or this many samples, whichever comes first. */
      maxSamples: z._default(intBetween(1, 50_000), 5_000),
    }),
    {},
  ),
  outbox: z.strictObject({
    path: nonEmptyString,
    /** Disk quota for stored batches, bytes. */
    quotaBytes: z._default(z.int().check(z.minimum(1_048_576)), 256 * 1_048_576),
  }),
  events: z.prefault(
    z.strictObject({
      harshAccelerationMs2: z._default(z.number().check(z.positive()), 2.5),
      harshBrakingMs2: z._default(z.number().check(z.negative()), -3.0),
      accelWindowMs: z._default(positiveInt, 1_000),
      speedLimitKmh: z.optional(z.number().check(z.positive())),
      speedingMinMs: z._default(z.int().check(z.nonnegative()), 5_000),
      lowBatteryV: z._default(z.number().check(z.positive()), 11.8),
      lowBatteryMinMs: z._default(z.int().check(z.nonnegative()), 10_000),
      crashDeltaVKmh: z._default(z.number().check(z.positive()), 8),
      crashWindowMs: z._default(positiveInt, 150),
      crashAccelMs2: z._default(z.number().check(z.positive()), 40),
    }),
    {},
  ),
  /**
   * Rate of the agent clock against real time. 1 on a vehicle; a simulator that plays a drive
   * cycle N× faster needs N here, or every acceleration would look N× harsher.
   */
  clockRate: z._default(z.number().check(z.minimum(1), z.maximum(1_000)), 1),
  crash: z.prefault(
    z.strictObject({
      preMs: z._default(z.int().check(z.minimum(20_000)), 20_000),
      postMs: z._default(z.int().check(z.minimum(10_000)), 10_000),
    }),
    {},
  ),
  metrics: z.prefault(
    z.strictObject({
      host: z._default(z.string(), '127.0.0.1'),
      port: z._default(intBetween(0, 65_535), 9_464),
      allowRemote: z._default(z.boolean(), false),
    }),
    {},
  ),
  log: z.prefault(
    z.strictObject({
      level: z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']), 'info'),
    }),
    {},
  ),
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
