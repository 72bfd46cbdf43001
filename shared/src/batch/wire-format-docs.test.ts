import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WIRE_FORMAT_ERROR_CODES } from '../cbor/wire-format-error.js';
import { KEY_ERROR_CODES } from '../crypto/key-error.js';

const doc = readFileSync(new URL('../../../docs/wire-format.md', import.meta.url), 'utf8');

function documentedCodes(heading: string): string[] {
  const section = doc.slice(doc.indexOf(heading));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| code |')));
  return [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1] as string);
}

describe('docs/wire-format.md lists every error code (fastify-style check)', () => {
  it('WireFormatError codes', () => {
    expect(documentedCodes('`WireFormatError.code`')).toEqual(Object.keys(WIRE_FORMAT_ERROR_CODES));
  });
  it('KeyFileError codes', () => {
    expect(documentedCodes('`KeyFileError.code`')).toEqual(Object.keys(KEY_ERROR_CODES));
  });
});
