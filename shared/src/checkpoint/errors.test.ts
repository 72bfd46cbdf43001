import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_ERROR_CODES, CheckpointError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/merkle-log.md', import.meta.url), 'utf8');

describe('checkpoint error table, types and docs stay in step', () => {
  it('documents every CheckpointError code and no other', () => {
    const section = docs.split('### CheckpointError')[1]?.split('\n### ')[0] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(CHECKPOINT_ERROR_CODES));
  });

  it('builds errors from the table', () => {
    for (const code of Object.keys(
      CHECKPOINT_ERROR_CODES,
    ) as (keyof typeof CHECKPOINT_ERROR_CODES)[]) {
      const error = new CheckpointError(code);
      expect([error.name, error.code, error.message]).toEqual([
        'CheckpointError',
        code,
        CHECKPOINT_ERROR_CODES[code],
      ]);
    }
  });
});
