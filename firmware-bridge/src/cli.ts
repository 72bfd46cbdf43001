import type { Command } from 'commander';
import { registerCanCommands } from './cli/can.js';
import { registerObdCommand } from './cli/obd.js';

export function register(program: Command): void {
  registerObdCommand(program);
  registerCanCommands(program);
}
