import { ObdError } from './errors.js';

/**
 * The ELM327 `ATRV` reply (`12.6V`, `12.60V`, `14.2 V`) in volts. The ELM measures pin 16 of
 * the OBD connector, i.e. the 12 V battery, with or without the ignition.
 */
export function parseBatteryVoltage(reply: string): number {
  if (typeof reply !== 'string') throw new ObdError('bad-input', 'reply must be a string');
  const m = /^\s*(\d{1,2}(?:\.\d{1,3})?)\s*V?\s*$/i.exec(reply);
  if (!m) throw new ObdError('bad-voltage', `ATRV reply ${JSON.stringify(reply)} is not a voltage`);
  return Number(m[1]);
}
