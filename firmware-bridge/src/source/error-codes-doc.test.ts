/**
 * docs/install.md's table of adapter error codes is what an installer reads when
 * `enginechain obd --json` prints `{ error, code }`: it must name every code the firmware-bridge
 * can give there (`ADAPTER_ERROR_CODES`, `OBD_ERROR_CODES`) and no other, each with what to
 * check.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OBD_ERROR_CODES } from '../obd/errors.js';
import { ADAPTER_ERROR_CODES } from './errors.js';

const INSTALL = fileURLToPath(new URL('../../../docs/install.md', import.meta.url));

function documentedCodes(): Map<string, string> {
  const text = readFileSync(INSTALL, 'utf8');
  const start = text.indexOf('### Adapter error codes');
  expect(start, 'docs/install.md has a "### Adapter error codes" section').toBeGreaterThan(0);
  const rows = new Map<string, string>();
  for (const line of text.slice(start).split('\n')) {
    const m = /^\| `([a-z-]+)` \|([^|]+)\|([^|]+)\|$/.exec(line);
    if (m) rows.set(m[1]!, m[3]!.trim());
  }
  return rows;
}

describe('docs/install.md adapter error codes', () => {
  it('lists exactly the codes of ADAPTER_ERROR_CODES and OBD_ERROR_CODES, each with a check', () => {
    const rows = documentedCodes();
    const codes = new Set([...Object.keys(ADAPTER_ERROR_CODES), ...Object.keys(OBD_ERROR_CODES)]);
    expect([...rows.keys()].sort()).toEqual([...codes].sort());
    for (const [code, check] of rows) expect(check.length, code).toBeGreaterThan(10);
  });
});
