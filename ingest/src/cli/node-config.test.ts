import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeConfigSchema } from './node-config.js';

const operating = readFileSync(new URL('../../../docs/operating.md', import.meta.url), 'utf8');

describe('the node config file and docs/operating.md', () => {
  it('accepts the example the page gives', () => {
    const example = /```json\n([\s\S]*?)```/.exec(operating)?.[1];
    expect(example).toBeDefined();
    const parsed = nodeConfigSchema.safeParse(JSON.parse(example ?? ''));
    expect(parsed.error?.issues).toBeUndefined();
  });

  it('documents every key the node reads, and no other', () => {
    const table = operating.slice(operating.indexOf('| key | default | what |'));
    const rows = table.slice(0, table.indexOf('\n\n'));
    const documented = [...rows.matchAll(/^\| ((?:`\w+`(?:, )?)+) \|/gm)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/`(\w+)`/g)].map((k) => k[1]),
    );
    expect(documented.sort()).toEqual(Object.keys(nodeConfigSchema.shape).sort());
  });

  it('refuses a misspelt key, naming it', () => {
    const parsed = nodeConfigSchema.safeParse({ checkpointIntervalMS: 500 });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('checkpointIntervalMS');
  });
});
