import type { Command } from 'commander';
import { registerKeygenCommand } from './cli/keygen.js';
import { registerVerifyCommand } from './cli/verify.js';
import { registerVinCommand } from './cli/vin.js';

export function register(program: Command): void {
  registerKeygenCommand(program);
  registerVinCommand(program);
  registerVerifyCommand(program);
}
