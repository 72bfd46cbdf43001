import { encodeLogEntry } from '@enginechain/shared';
import type { IngestStore } from '../storage/ingest-store.js';
import { DeviceAdminError } from './errors.js';

/** What device administration needs from the store (any `IngestStore`). */
export type DeviceAdminStore = Pick<IngestStore, 'getDevice' | 'listDevices' | 'revokeDevice'>;

export interface DeviceAdminOptions {
  readonly store: DeviceAdminStore;
  /**
   * Ends the device's live MQTT sessions once the revocation is committed and refuses it from
   * then on (`EmbeddedBroker.evictDevice`); returns how many sessions it closed. Absent with
   * an external broker, which must be told separately (its own ACL); the node's pipeline
   * refuses the device's batches either way.
   */
  readonly evict?: (deviceId: string) => number;
  readonly now?: () => number;
}

/** One device as the operator sees it. */
export interface DeviceSummary {
  readonly deviceId: string;
  readonly vin: string;
  readonly owner: string | undefined;
  readonly status: 'active' | 'revoked';
  readonly registeredAt: number;
  readonly registrationLeaf: number;
  /** The next seq the node expects from the device (= batches accepted, plus declared drops). */
  readonly nextSeq: number;
}

export interface Revocation {
  readonly deviceId: string;
  readonly revokedAt: number;
  readonly reason: string;
  /** Leaf index of the revocation entry in the log. */
  readonly leafIndex: number;
  /** Live MQTT sessions closed. */
  readonly sessionsClosed: number;
}

const DEVICE_ID = /^[0-9a-f]{32}$/;
/** The reason is public (it goes into the log): short, one line, no personal data. */
export const MAX_REVOCATION_REASON_BYTES = 200;

/**
 * The operator's device administration. A revocation is itself a log entry, committed in the
 * same transaction as the status change, so the public log and the node never disagree on
 * whether a device was revoked, even after a SIGKILL between the two.
 */
export class DeviceAdmin {
  private readonly now: () => number;

  constructor(private readonly o: DeviceAdminOptions) {
    if (typeof o?.store?.revokeDevice !== 'function')
      throw new TypeError('store: expected a DeviceAdminStore');
    this.now = o.now ?? Date.now;
  }

  async list(filter: { status?: 'active' | 'revoked' } = {}): Promise<DeviceSummary[]> {
    const devices = await this.o.store.listDevices();
    return devices
      .filter((d) => filter.status === undefined || d.status === filter.status)
      .map((d) => ({
        deviceId: d.deviceId,
        vin: d.vin,
        owner: d.owner,
        status: d.status,
        registeredAt: d.registeredAt,
        registrationLeaf: d.registrationLeaf,
        nextSeq: d.nextSeq,
      }));
  }

  /**
   * Revokes a device: status revoked plus a `revocation` log entry, atomically; then its MQTT
   * sessions are closed. Its later connections and batches are refused.
   */
  async revoke(deviceId: string, reason: string): Promise<Revocation> {
    if (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId))
      throw new DeviceAdminError('bad-input', 'deviceId: expected 32 lower-case hex digits');
    if (typeof reason !== 'string' || reason.trim() === '')
      throw new DeviceAdminError('bad-input', 'reason: expected a non-empty string');
    if (Buffer.byteLength(reason, 'utf8') > MAX_REVOCATION_REASON_BYTES || /[\r\n]/.test(reason))
      throw new DeviceAdminError(
        'bad-input',
        `reason: one line of at most ${MAX_REVOCATION_REASON_BYTES} UTF-8 bytes (it is public, in the log)`,
      );
    const device = await this.o.store.getDevice(deviceId);
    if (!device) throw new DeviceAdminError('unknown-device', `no device ${deviceId}`);
    if (device.status === 'revoked')
      throw new DeviceAdminError('already-revoked', `device ${deviceId} is already revoked`);

    const revokedAt = this.now();
    const entry = encodeLogEntry({ type: 'revocation', deviceId, at: revokedAt, reason });
    // The check above raced with any other revocation; the store's, inside the transaction,
    // does not: a second revocation is refused there and appends no leaf.
    const outcome = await this.o.store.revokeDevice({ deviceId, logEntry: entry });
    if ('error' in outcome)
      throw new DeviceAdminError(outcome.error, `device ${deviceId}: ${outcome.error}`);
    const { leafIndex } = outcome;
    const sessionsClosed = this.o.evict?.(deviceId) ?? 0;
    return { deviceId, revokedAt, reason, leafIndex, sessionsClosed };
  }
}
