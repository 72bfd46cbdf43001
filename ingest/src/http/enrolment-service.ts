import { createHash, randomBytes } from 'node:crypto';
import {
  compressPublicKey,
  decodeVin,
  deviceIdFromPublicKey,
  encodeLogEntry,
  enrolmentProofMessage,
  newVinSalt,
  verifyEs256k,
  vinCommitment,
} from '@enginechain/shared';
import type { IngestStore } from '../storage/ingest-store.js';
import { HttpError } from './errors.js';

export interface EnrolmentResult {
  readonly deviceId: string;
  readonly registrationLeafIndex: number;
}

const TOKEN_TTL_MS = 24 * 3_600_000;

export function tokenHashOf(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}

/**
 * Enrolment (docs/protocol.md §1): single-use tokens issued per VIN, redeemed by a device
 * that proves possession of the key it registers. The registration is a log entry.
 */
export class EnrolmentService {
  constructor(
    private readonly store: IngestStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Issues a token; only its hash is stored, so a database leak does not leak tokens. */
  async issueToken(vin: string, owner?: string): Promise<{ token: string; expiresAt: number }> {
    const v = decodeVin(vin);
    const token = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const expiresAt = createdAt + TOKEN_TTL_MS;
    await this.store.addEnrolmentToken({
      tokenHash: tokenHashOf(token),
      vin: v.vin,
      owner,
      createdAt,
      expiresAt,
    });
    return { token, expiresAt };
  }

  async register(req: {
    token: string;
    vin: string;
    publicKey: Uint8Array;
    proof: Uint8Array;
  }): Promise<EnrolmentResult> {
    let publicKey: Uint8Array;
    try {
      publicKey = compressPublicKey(req.publicKey);
    } catch {
      throw new HttpError('bad-key');
    }
    if (!verifyEs256k(enrolmentProofMessage(req.token, publicKey), req.proof, publicKey)) {
      throw new HttpError('bad-proof');
    }
    const deviceId = deviceIdFromPublicKey(publicKey);
    const vinSalt = newVinSalt();
    const at = this.now();
    let vinOk = true;
    const result = await this.store
      .registerDevice({
        tokenHash: tokenHashOf(req.token),
        deviceId,
        publicKey,
        vinSalt,
        now: at,
        logEntry: (vin) => {
          vinOk = vin === req.vin.trim().toUpperCase();
          if (!vinOk) throw new HttpError('vin-mismatch');
          return encodeLogEntry({
            type: 'registration',
            deviceId,
            publicKey,
            vinCommitment: vinCommitment(vin, vinSalt),
            at,
          });
        },
      })
      .catch((err: unknown) => {
        if (err instanceof HttpError) return { error: err.code };
        throw err;
      });
    if ('error' in result) throw new HttpError(result.error);
    return { deviceId, registrationLeafIndex: result.leafIndex };
  }
}
