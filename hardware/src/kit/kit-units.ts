import { readFileSync } from 'node:fs';
import { hardwareKitPath } from '../data-path.js';

/** The agent's systemd unit in the installer kit. */
export function agentUnitPath(): string {
  return hardwareKitPath('systemd/enginechain-agent.service');
}

/**
 * The NODE_OPTIONS the unit runs the agent with. The memory benchmark and the end-to-end test
 * that runs the agent in real time take them from here, so what is measured is what is shipped.
 */
export function agentUnitNodeOptions(unitText = readFileSync(agentUnitPath(), 'utf8')): string {
  const m = /^Environment="?NODE_OPTIONS=([^"\n]*)"?\s*$/m.exec(unitText);
  if (!m?.[1]) throw new Error(`${agentUnitPath()} sets no NODE_OPTIONS`);
  return m[1].trim();
}
