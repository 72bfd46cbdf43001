import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file under hardware/<folder>/, found by walking up from this module: sources sit in
 * hardware/src/<folder>/ and the bundle's chunks in hardware/dist/, so a fixed `../..` is
 * right for one of them only.
 */
function hardwarePath(folder: 'data' | 'kit', relative: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, folder, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir)
      throw new Error(
        `hardware/${folder}/${relative} not found above ${fileURLToPath(import.meta.url)}`,
      );
  }
}

/** A file under hardware/data/ (drive cycles, the simulated vehicle's DBC). */
export function hardwareDataPath(relative: string): string {
  return hardwarePath('data', relative);
}

/** A file of the installer kit, hardware/kit/ (profiles, systemd units, udev rules). */
export function hardwareKitPath(relative: string): string {
  return hardwarePath('kit', relative);
}
