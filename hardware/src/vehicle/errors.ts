/**
 * One table of simulator error codes (after fastify's lib/errors.js). A code never changes
 * meaning.
 */
export const SIMULATOR_ERROR_CODES = {
  'bad-input': 'The caller passed an invalid argument',
  'bad-cycle': 'The drive-cycle CSV is malformed (expected `t_s,speed_kmh` rows)',
  'cycle-not-found': 'No drive cycle with that name or path',
} as const;

export type SimulatorErrorCode = keyof typeof SIMULATOR_ERROR_CODES;

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  constructor(
    readonly code: SimulatorErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? SIMULATOR_ERROR_CODES[code], options);
  }
}
