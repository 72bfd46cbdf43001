/**
 * Test support (not exported from the package): the EPA schedules in hardware/data, read as
 * 1 Hz speeds. The ingest package does not depend on @enginechain/hardware, whose
 * loadDriveCycle the other packages use; its tests read the same CSV files directly.
 */
import { readFileSync } from 'node:fs';

/** km/h at t = 0, 1, 2, … s of a bundled schedule (`udds`, `hwfet`, `us06`, `nycc`). */
export function loadCycle(name: string): number[] {
  const url = new URL(`../../../hardware/data/drive-cycles/${name}.csv`, import.meta.url);
  return readFileSync(url, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[1]));
}
