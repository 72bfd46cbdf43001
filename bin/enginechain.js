#!/usr/bin/env node
// The one enginechain CLI. Each package contributes its commands through its `./cli` export;
// run with `node --conditions=source --import tsx` to use the TypeScript sources unbuilt.
import { Command } from 'commander';
import { register as registerShared } from '@enginechain/shared/cli';
import { register as registerFirmwareBridge } from '@enginechain/firmware-bridge/cli';
import { register as registerHardware } from '@enginechain/hardware/cli';
import { register as registerIngest } from '@enginechain/ingest/cli';
import { register as registerAgent } from '@enginechain/agent/cli';

const program = new Command('enginechain')
  .description('Vehicle telematics whose data can be trusted in court')
  .version('0.1.0')
  .showHelpAfterError();

registerShared(program);
registerFirmwareBridge(program);
registerHardware(program);
registerIngest(program);
registerAgent(program);

await program.parseAsync(process.argv);
