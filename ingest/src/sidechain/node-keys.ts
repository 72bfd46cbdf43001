import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateSignerKey,
  KeyFileError,
  parseSignerKey,
  rawEd25519PublicKey,
  readSecretFile,
  writeFileAtomic,
  type Ed25519NoteSigner,
} from '@enginechain/shared';

/** The node's two keys: the super-node checkpoint key and the receipt key (both Ed25519). */
export interface NodeKeys {
  /** Signs checkpoints (C2SP signed-note signer). */
  readonly checkpointSigner: Ed25519NoteSigner;
  /** `name+hash+base64` verifier key others use to check our checkpoints. */
  readonly checkpointVerifierKey: string;
  /** Signs receipts and resend requests (COSE_Sign1, EdDSA). */
  readonly receiptKey: KeyObject;
  /** Raw 32-byte receipt public key, base64, as served and kept in agent configs. */
  readonly receiptPublicKey: string;
  /** True when this call created them (first start). */
  readonly created: boolean;
}

/**
 * Why the node's keys could not be loaded (the node does not start), one table (after
 * fastify's lib/errors.js); docs/errors.md lists them. A code never changes meaning.
 */
export const NODE_KEY_ERROR_CODES = {
  'insecure-permissions': 'A node key file can be read by others than its owner (chmod 600 it)',
  malformed: 'A node key file does not parse, or the receipt key is not Ed25519',
  partial: 'Only one of checkpoint.key and receipt.key is there; restore the other',
} as const;

export type NodeKeyErrorCode = keyof typeof NODE_KEY_ERROR_CODES;

export class NodeKeyError extends Error {
  override readonly name = 'NodeKeyError';
  constructor(
    readonly code: NodeKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const CHECKPOINT_KEY = 'checkpoint.key';
const RECEIPT_KEY = 'receipt.key';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The shared secret-file check, reported in this area's own error table. */
async function readSecret(path: string): Promise<string> {
  try {
    return await readSecretFile(path);
  } catch (err) {
    if (err instanceof KeyFileError && err.code === 'insecure-permissions') {
      throw new NodeKeyError(
        'insecure-permissions',
        err.message.replace('the private key', 'the node key'),
      );
    }
    throw err;
  }
}

/**
 * Loads the node keys from `dir`, creating both (mode 0600) on first start. A folder with one
 * key but not the other is refused rather than half-regenerated: a new checkpoint key would
 * orphan every checkpoint already published.
 */
export async function loadOrCreateNodeKeys(dir: string, keyName: string): Promise<NodeKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const checkpointPath = join(dir, CHECKPOINT_KEY);
  const receiptPath = join(dir, RECEIPT_KEY);
  const [haveCheckpoint, haveReceipt] = await Promise.all([
    exists(checkpointPath),
    exists(receiptPath),
  ]);
  let created = false;
  if (!haveCheckpoint && !haveReceipt) {
    const { signerKey } = generateSignerKey(keyName);
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFileAtomic(checkpointPath, signerKey + '\n', 0o600);
    await writeFileAtomic(
      receiptPath,
      privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      0o600,
    );
    created = true;
  } else if (!haveCheckpoint || !haveReceipt) {
    throw new NodeKeyError(
      'partial',
      `${dir} holds only one of ${CHECKPOINT_KEY} and ${RECEIPT_KEY}; restore the other`,
    );
  }
  let checkpointSigner: Ed25519NoteSigner;
  let receiptKey: KeyObject;
  try {
    checkpointSigner = parseSignerKey((await readSecret(checkpointPath)).trim());
    receiptKey = createPrivateKey(await readSecret(receiptPath));
  } catch (err) {
    if (err instanceof NodeKeyError) throw err;
    throw new NodeKeyError(
      'malformed',
      `node keys in ${dir} cannot be read: ${(err as Error).message}`,
    );
  }
  if (receiptKey.asymmetricKeyType !== 'ed25519') {
    throw new NodeKeyError('malformed', `${receiptPath} is not an Ed25519 key`);
  }
  const receiptPublicKey = Buffer.from(rawEd25519PublicKey(createPublicKey(receiptKey))).toString(
    'base64',
  );
  return {
    checkpointSigner,
    checkpointVerifierKey: checkpointSigner.verifierKey,
    receiptKey,
    receiptPublicKey,
    created,
  };
}
