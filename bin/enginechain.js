#!/usr/bin/env node
// The one enginechain CLI. Each package contributes its commands through its `./cli` export;
// run with `node --conditions=source --import tsx` to use the TypeScript sources unbuilt.
//
// Only the package that owns the command being run is loaded: the agent runs for years on a
// small board, and loading the ingest node's and the simulator's code into it would cost it
// tens of MB of RSS for nothing. Help, and any command not in the table, load every package.
import { Command } from 'commander';

const PACKAGES = ['shared', 'firmware-bridge', 'hardware', 'ingest', 'agent'];
const OWNER = {
  keygen: 'shared',
  vin: 'shared',
  verify: 'shared',
  obd: 'firmware-bridge',
  can: 'firmware-bridge',
  simulate: 'hardware',
  demo: 'hardware',
  ingest: 'ingest',
  user: 'ingest',
  device: 'ingest',
  evidence: 'ingest',
  provision: 'agent',
  agent: 'agent',
  'rotate-key': 'agent',
};

const program = new Command('enginechain')
  .description('Vehicle telematics whose data can be trusted in court')
  .version('0.1.0')
  .showHelpAfterError();

const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
const owner = Object.hasOwn(OWNER, command ?? '') ? OWNER[command] : undefined;
for (const pkg of owner ? [owner] : PACKAGES) {
  const { register } = await import(`@enginechain/${pkg}/cli`);
  register(program);
}

await program.parseAsync(process.argv);
