import type { Command } from 'commander';
import { generateDeviceKey } from '../crypto/device-key.js';
import { KeyFileError } from '../crypto/key-error.js';
import { writeDeviceKey, type DeviceKeyPaths } from '../crypto/key-file.js';

export interface KeygenResult extends DeviceKeyPaths {
  readonly deviceId: string;
  /** Compressed SEC1 public key, hex. */
  readonly publicKey: string;
}

/** The logic behind `enginechain keygen`: a fresh device key written into `outDir`. */
export async function runKeygen(
  outDir: string,
  options: { force?: boolean } = {},
): Promise<KeygenResult> {
  const key = generateDeviceKey();
  const paths = await writeDeviceKey(outDir, key, options);
  return {
    deviceId: key.deviceId,
    publicKey: Buffer.from(key.publicKey).toString('hex'),
    ...paths,
  };
}

export function registerKeygenCommand(program: Command): void {
  program
    .command('keygen')
    .description(
      'Create a device key pair (secp256k1): device.key (PKCS#8 PEM, 0600) and device.pub',
    )
    .requiredOption(
      '--out <dir>',
      'directory for device.key and device.pub (created 0700 if missing)',
    )
    .option('--force', 'replace an existing key (the old device identity is lost)')
    .option('--json', 'print one JSON object')
    .action(async (options: { out: string; force?: boolean; json?: boolean }) => {
      try {
        const r = await runKeygen(options.out, { force: options.force === true });
        if (options.json) {
          process.stdout.write(JSON.stringify(r) + '\n');
          return;
        }
        process.stdout.write(
          [
            `device id    ${r.deviceId}`,
            `public key   ${r.publicKey}`,
            `private key  ${r.privateKeyPath}  (mode 0600, keep it on the device)`,
            `public file  ${r.publicKeyPath}  (enrol this with the ingestion node)`,
          ].join('\n') + '\n',
        );
      } catch (err) {
        if (!(err instanceof KeyFileError)) throw err;
        if (options.json)
          process.stdout.write(JSON.stringify({ error: err.message, code: err.code }) + '\n');
        else process.stderr.write(`enginechain keygen: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
