import { Elm327Source } from '@enginechain/firmware-bridge';
import { signalInfo } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { EVENT_INPUTS } from '../events/event-detector.js';
import { ELM327_DEFAULT_SIGNALS } from './provision.js';

describe('provisioning defaults', () => {
  it('polls only signals the ELM327 driver knows, within what an adapter answers with six PIDs a request', () => {
    for (const name of Object.keys(ELM327_DEFAULT_SIGNALS))
      expect(signalInfo(name), name).toBeDefined();
    const total = Object.values(ELM327_DEFAULT_SIGNALS).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(30);
  });

  it('polls what every ELM327-fed event needs: speed, battery voltage, stored DTCs', () => {
    for (const input of [EVENT_INPUTS.speed, EVENT_INPUTS.battery, EVENT_INPUTS.dtcs])
      expect(ELM327_DEFAULT_SIGNALS[input], input).toBeGreaterThan(0);
    // The ELM327 driver takes every default as it is (it refuses what it cannot poll).
    expect(
      () => new Elm327Source({ port: 'tcp://127.0.0.1:35000', signals: ELM327_DEFAULT_SIGNALS }),
    ).not.toThrow();
  });
});
