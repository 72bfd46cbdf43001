import { existsSync, readFileSync } from 'node:fs';
import { hardwareDataPath } from '../data-path.js';
import { SimulatorError } from './errors.js';

/** The EPA schedules shipped in hardware/data/drive-cycles (see the README there). */
export const DRIVE_CYCLE_NAMES = ['udds', 'hwfet', 'us06', 'nycc'] as const;
export type DriveCycleName = (typeof DRIVE_CYCLE_NAMES)[number];

/** A speed trace: strictly increasing times from 0, speed linear between points. */
export interface DriveCycle {
  readonly name: string;
  readonly timesS: readonly number[];
  readonly speedsKmh: readonly number[];
  readonly durationS: number;
}

/**
 * Parses a `t_s,speed_kmh` CSV (one optional header line, `#` comments and blank lines
 * ignored). Throws `SimulatorError('bad-cycle')` naming the line that is wrong.
 */
export function parseDriveCycleCsv(text: string, name = 'custom'): DriveCycle {
  if (typeof text !== 'string') throw new SimulatorError('bad-input', 'text must be a string');
  const timesS: number[] = [];
  const speedsKmh: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',');
    if (timesS.length === 0 && !/^[-+0-9.]/.test(line)) continue; // the header
    const t = Number(fields[0]);
    const v = Number(fields[1]);
    if (fields.length < 2 || fields[0]?.trim() === '' || !Number.isFinite(t)) {
      throw new SimulatorError('bad-cycle', `${name} line ${i + 1}: bad t_s in "${line}"`);
    }
    if (fields[1]?.trim() === '' || !Number.isFinite(v) || v < 0 || v > 400) {
      throw new SimulatorError('bad-cycle', `${name} line ${i + 1}: bad speed_kmh in "${line}"`);
    }
    const previous = timesS[timesS.length - 1];
    if (previous === undefined ? t !== 0 : t <= previous) {
      throw new SimulatorError(
        'bad-cycle',
        `${name} line ${i + 1}: t_s must start at 0 and strictly increase`,
      );
    }
    timesS.push(t);
    speedsKmh.push(v);
  }
  if (timesS.length < 2) throw new SimulatorError('bad-cycle', `${name}: needs at least 2 rows`);
  return { name, timesS, speedsKmh, durationS: timesS[timesS.length - 1] ?? 0 };
}

function bundledCyclePath(name: DriveCycleName): string | undefined {
  try {
    return hardwareDataPath(`drive-cycles/${name}.csv`);
  } catch {
    return undefined;
  }
}

export function isDriveCycleName(value: string): value is DriveCycleName {
  return (DRIVE_CYCLE_NAMES as readonly string[]).includes(value);
}

/** Loads a bundled cycle by name (`udds`, `hwfet`, `us06`, `nycc`) or any CSV by path. */
export function loadDriveCycle(nameOrPath: string): DriveCycle {
  if (typeof nameOrPath !== 'string' || nameOrPath === '') {
    throw new SimulatorError('bad-input', 'cycle must be a name or a path');
  }
  const path = isDriveCycleName(nameOrPath) ? bundledCyclePath(nameOrPath) : nameOrPath;
  if (path === undefined || !existsSync(path)) {
    throw new SimulatorError(
      'cycle-not-found',
      `no drive cycle "${nameOrPath}" (names: ${DRIVE_CYCLE_NAMES.join(', ')}, or a CSV path)`,
    );
  }
  const name = isDriveCycleName(nameOrPath) ? nameOrPath : nameOrPath;
  return parseDriveCycleCsv(readFileSync(path, 'utf8'), name);
}
