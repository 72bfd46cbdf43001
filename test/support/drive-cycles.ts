/**
 * Test support: the EPA schedules in hardware/data, read as 1 Hz speeds, for the tests of
 * packages that @enginechain/hardware (whose loadDriveCycle the simulator uses) depends on:
 * shared, agent and ingest cannot import it back.
 */
import { readFileSync } from 'node:fs';

/** km/h at t = 0, 1, 2, … s of a bundled schedule (`udds`, `hwfet`, `us06`, `nycc`). */
export function loadCycle(name: string): number[] {
  const url = new URL(`../../hardware/data/drive-cycles/${name}.csv`, import.meta.url);
  return readFileSync(url, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[1]));
}
