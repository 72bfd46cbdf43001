import type { Command } from 'commander';
import { decodeVin, VinError } from '../vin/vin.js';

export function registerVinCommand(program: Command): void {
  program
    .command('vin')
    .description('Check a VIN (ISO 3779, 49 CFR 565 check digit) and print what it says')
    .argument('<vin>', 'the 17-character vehicle identification number')
    .option('--json', 'print one JSON object')
    .action((input: string, options: { json?: boolean }) => {
      try {
        const v = decodeVin(input);
        if (options.json) {
          process.stdout.write(JSON.stringify({ valid: true, ...v }) + '\n');
          return;
        }
        const lines = [
          `VIN            ${v.vin}  (valid)`,
          `check digit    ${v.checkDigit === 'valid' ? 'matches' : 'does not match (not required in this region)'}`,
          `manufacturer   ${v.manufacturer ?? 'unknown'} (WMI ${v.wmi})`,
          `region         ${v.region}${v.country ? `, ${v.country}` : ''}`,
          `model year     ${v.modelYears.length ? v.modelYears.join(' or ') : 'unknown'}`,
          `descriptor     ${v.vds}`,
          `serial number  ${v.serialNumber}`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
      } catch (err) {
        if (!(err instanceof VinError)) throw err;
        if (options.json) {
          process.stdout.write(
            JSON.stringify({ valid: false, code: err.code, error: err.message }) + '\n',
          );
        } else {
          process.stderr.write(`enginechain vin: ${err.message}\n`);
        }
        process.exitCode = 1;
      }
    });
}
