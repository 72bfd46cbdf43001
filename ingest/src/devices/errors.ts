/**
 * Errors of device administration by the node's operator, one table (after fastify's
 * lib/errors.js): code → HTTP status and message. The operator routes answer `{ code, message }`
 * with that status; the `enginechain device` commands print the message. A code never changes
 * meaning.
 */
export const DEVICE_ADMIN_ERRORS = {
  'bad-input': { status: 400, message: 'The request does not match its schema' },
  unauthorized: {
    status: 401,
    message: 'Send the operator token as Authorization: Bearer (see <data>/operator.token)',
  },
  'unknown-device': { status: 404, message: 'No device with this id is registered' },
  'already-revoked': { status: 409, message: 'The device is already revoked' },
} as const;

export type DeviceAdminErrorCode = keyof typeof DEVICE_ADMIN_ERRORS;

export class DeviceAdminError extends Error {
  override readonly name = 'DeviceAdminError';
  readonly statusCode: number;
  constructor(
    readonly code: DeviceAdminErrorCode,
    message?: string,
  ) {
    super(message ?? DEVICE_ADMIN_ERRORS[code].message);
    this.statusCode = DEVICE_ADMIN_ERRORS[code].status;
  }
}
