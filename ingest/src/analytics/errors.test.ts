import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ANALYTICS_ERROR_CODES, AnalyticsError, type AnalyticsErrorCode } from './errors.js';

const docs = readFileSync(new URL('../../../docs/scoring.md', import.meta.url), 'utf8');

describe('analytics error table, types and docs stay in step', () => {
  it('documents every AnalyticsError code and no other', () => {
    const section = docs.split('### AnalyticsError')[1]?.split('\n#')[0] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(ANALYTICS_ERROR_CODES));
  });

  it('builds errors from the table', () => {
    for (const code of Object.keys(ANALYTICS_ERROR_CODES) as AnalyticsErrorCode[]) {
      const error = new AnalyticsError(code);
      expect([error.name, error.code, error.message]).toEqual([
        'AnalyticsError',
        code,
        ANALYTICS_ERROR_CODES[code],
      ]);
      expect(error).toBeInstanceOf(Error);
    }
  });
});
