import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file under hardware/data/, found by walking up from this module: sources sit in
 * hardware/src/<folder>/ and the bundle's chunks in hardware/dist/, so a fixed `../..` is
 * right for one of them only.
 */
export function hardwareDataPath(relative: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'data', relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir)
      throw new Error(
        `hardware/data/${relative} not found above ${fileURLToPath(import.meta.url)}`,
      );
  }
}
