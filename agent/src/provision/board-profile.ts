import { readFileSync } from 'node:fs';
// agent-config sets zod's English messages for every agent schema.
import * as z from 'zod/mini';
import { ConfigError, type AgentConfigInput } from '../config/agent-config.js';

/**
 * A board profile of the installer kit (hardware/kit/profiles/*.json): the gateway's sources
 * and, per source, the signals it reads with a rate in Hz. `provision --profile FILE` turns it
 * into the agent config's sources, so each kind of board starts with rates its adapters can
 * sustain instead of every installer working them out again.
 */
const VSS_NAME = /^Vehicle(\.[A-Z][A-Za-z0-9]*)+$/;
const signals = z
  .array(
    z.strictObject({
      name: z.string().check(z.regex(VSS_NAME, 'must be a COVESA VSS path')),
      rateHz: z.number().check(z.positive(), z.maximum(100)),
    }),
  )
  .check(z.minLength(1));
const serialDevice = z
  .string()
  .check(z.regex(/^\/dev\/enginechain\/[a-z0-9-]+$/, 'must be a /dev/enginechain/* udev name'));
const positiveInt = z.int().check(z.positive());
const profileSource = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('socketcan'),
    interface: z.string().check(z.regex(/^v?can\d+$/, 'must be a CAN interface name')),
    bitrate: z.union([z.literal(125000), z.literal(250000), z.literal(500000), z.literal(1000000)]),
    signals,
  }),
  z.strictObject({
    kind: z.literal('slcan'),
    device: serialDevice,
    bitrate: positiveInt,
    signals,
  }),
  z.strictObject({
    kind: z.literal('elm327-serial'),
    device: serialDevice,
    baudRate: positiveInt,
    signals,
  }),
  z.strictObject({
    kind: z.literal('elm327-tcp'),
    host: z.union([z.ipv4(), z.string().check(z.regex(/^[a-z0-9.-]+$/))]),
    port: z.int().check(z.minimum(1), z.maximum(65_535)),
    signals,
  }),
  z.strictObject({
    kind: z.literal('nmea'),
    device: serialDevice,
    baudRate: positiveInt,
    signals,
  }),
  z.strictObject({
    kind: z.literal('imu'),
    device: serialDevice,
    baudRate: positiveInt,
    signals,
  }),
]);

const nonEmptyString = z.string().check(z.minLength(1));
export const boardProfileSchema = z.strictObject({
  id: z.string().check(z.regex(/^[a-z0-9-]+$/)),
  name: nonEmptyString,
  board: nonEmptyString,
  os: nonEmptyString,
  bootConfig: z.array(z.string().check(z.regex(/^(dtparam|dtoverlay)=\S+$/))),
  notes: z.string(),
  sources: z.array(profileSource).check(z.minLength(1)),
});

export type BoardProfile = z.output<typeof boardProfileSchema>;

/** What a CAN source needs beyond the profile: the vehicle's DBC and its VSS mapping. */
export interface CanDecoding {
  readonly dbc?: string;
  readonly mapping?: string;
}

/** Reads and validates a board profile file; problems name the file and the key. */
export function loadBoardProfile(path: string): BoardProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read board profile ${path}: ${(err as Error).message}`);
  }
  const parsed = boardProfileSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''), // prettier-ignore
    message: i.message,
  }));
  throw new ConfigError(
    `board profile ${path} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    issues,
  );
}

/** The agent config sources a profile describes, with its per-signal rates. */
export function sourcesFromProfile(
  profile: BoardProfile,
  can: CanDecoding = {},
): AgentConfigInput['sources'] {
  return profile.sources.map((s): AgentConfigInput['sources'][number] => {
    const rates = Object.fromEntries(s.signals.map((x) => [x.name, x.rateHz]));
    switch (s.kind) {
      case 'elm327-serial':
        return { type: 'elm327', port: s.device, baud: s.baudRate, signals: rates };
      case 'elm327-tcp':
        return { type: 'elm327', port: `tcp://${s.host}:${s.port}`, signals: rates };
      case 'nmea':
        return { type: 'nmea', port: s.device, baud: s.baudRate, signals: rates };
      case 'imu':
        return { type: 'imu', port: s.device, baud: s.baudRate, signals: rates };
      case 'socketcan':
        return { type: 'socketcan', interface: s.interface, ...canDecoding(profile, can), signals: rates }; // prettier-ignore
      case 'slcan':
        return { type: 'slcan', port: s.device, bitrate: s.bitrate, ...canDecoding(profile, can), signals: rates }; // prettier-ignore
    }
  });
}

function canDecoding(profile: BoardProfile, can: CanDecoding): { dbc: string; mapping: string } {
  if (can.dbc === undefined || can.mapping === undefined) {
    throw new ConfigError(
      `board profile ${profile.id} reads the CAN bus: give the vehicle's DBC (--dbc FILE) and ` +
        'which of its signals are which VSS signals (--mapping toyota or --mapping FILE)',
    );
  }
  return { dbc: can.dbc, mapping: can.mapping };
}
