import type { Command } from 'commander';
import { registerSimulateCommand } from './cli/simulate.js';

export function register(program: Command): void {
  registerSimulateCommand(program);
}
