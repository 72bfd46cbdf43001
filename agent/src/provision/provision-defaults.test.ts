import { signalInfo } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { ELM327_DEFAULT_SIGNALS } from './provision.js';

describe('provisioning defaults', () => {
  it('polls only signals the ELM327 driver knows, within what an adapter answers with six PIDs a request', () => {
    for (const name of Object.keys(ELM327_DEFAULT_SIGNALS))
      expect(signalInfo(name), name).toBeDefined();
    const total = Object.values(ELM327_DEFAULT_SIGNALS).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(30);
  });
});
