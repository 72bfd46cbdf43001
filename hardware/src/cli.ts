import type { Command } from 'commander';
import { registerSimulateCommand } from './cli/simulate.js';
import { registerDemoCommand } from './demo/demo-command.js';

export function register(program: Command): void {
  registerSimulateCommand(program);
  registerDemoCommand(program);
}
