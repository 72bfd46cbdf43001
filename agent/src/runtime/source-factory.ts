import { readFileSync } from 'node:fs';
import {
  CandumpReplaySource,
  DbcSignalSource,
  Elm327Source,
  ImuSource,
  NmeaSource,
  SlcanSource,
  SocketCanSource,
  TOYOTA_VSS_MAPPING,
  parseDbc,
  type SignalSource,
  type VssSignalMapping,
} from '@enginechain/firmware-bridge';
import * as z from 'zod/mini';
import { ConfigError, type SourceConfig } from '../config/agent-config.js';

const nonEmptyString = z.string().check(z.minLength(1));
const mappingFileSchema = z.array(
  z.strictObject({
    message: nonEmptyString,
    signals: z.union([nonEmptyString, z.array(nonEmptyString).check(z.minLength(1))]),
    name: z.string().check(z.regex(/^Vehicle(\.[A-Z][A-Za-z0-9]*)+$/)),
    unit: z.string(),
    scale: z.optional(z.number()),
  }),
);

function loadMapping(mapping: string): readonly VssSignalMapping[] {
  if (mapping === 'toyota') return TOYOTA_VSS_MAPPING;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(mapping, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read VSS mapping ${mapping}: ${(err as Error).message}`);
  }
  const parsed = mappingFileSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(`VSS mapping ${mapping} is invalid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function loadDbc(path: string) {
  try {
    return parseDbc(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot load DBC ${path}: ${(err as Error).message}`);
  }
}

/** Builds the firmware-bridge source a config entry describes. */
export function createSource(config: SourceConfig): SignalSource {
  switch (config.type) {
    case 'nmea':
      return new NmeaSource({ path: config.port, baudRate: config.baud });
    case 'imu':
      return new ImuSource({ path: config.port, baudRate: config.baud });
    case 'slcan':
      return new DbcSignalSource({
        frames: new SlcanSource({
          path: config.port,
          baudRate: config.baud,
          bitrate: config.bitrate,
        }),
        database: loadDbc(config.dbc),
        mapping: loadMapping(config.mapping),
      });
    case 'socketcan':
      return new DbcSignalSource({
        frames: new SocketCanSource({ interface: config.interface }),
        database: loadDbc(config.dbc),
        mapping: loadMapping(config.mapping),
      });
    case 'candump':
      return new DbcSignalSource({
        frames: new CandumpReplaySource({ path: config.file, speed: config.speed }),
        database: loadDbc(config.dbc),
        mapping: loadMapping(config.mapping),
      });
    case 'elm327':
      return new Elm327Source({
        port: config.port,
        baudRate: config.baud,
        protocol: config.protocol,
        signals: config.signals,
      });
  }
}
