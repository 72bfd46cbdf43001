import { readFileSync } from 'node:fs';
import { hardwareKitPath } from '../data-path.js';

/** The systemd units of the kit: the agent on a gateway board, the ingestion node on a server. */
export type KitUnit = 'enginechain-agent' | 'enginechain-ingest';

/** Where the kit keeps `unit`'s systemd unit file. */
export function kitUnitPath(unit: KitUnit): string {
  return hardwareKitPath(`systemd/${unit}.service`);
}

/**
 * The NODE_OPTIONS `unit` runs node with. The benchmarks and the end-to-end tests that run
 * the agent or the node as a process take them from here, so what is measured is what is
 * shipped.
 */
export function kitUnitNodeOptions(
  unit: KitUnit,
  unitText = readFileSync(kitUnitPath(unit), 'utf8'),
): string {
  const m = /^Environment="?NODE_OPTIONS=([^"\n]*)"?\s*$/m.exec(unitText);
  if (!m?.[1]) throw new Error(`${kitUnitPath(unit)} sets no NODE_OPTIONS`);
  return m[1].trim();
}
