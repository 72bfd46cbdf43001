/**
 * C2SP tlog-checkpoint body: the origin line, the tree size in decimal, the root hash in
 * standard base64, then optional extension lines; every line ends in "\n". Parsing is strict
 * (one canonical text per checkpoint), because the text is what signatures cover.
 */
import { CheckpointError } from './errors.js';
import { decodeBase64, encodeBase64, isCleanText } from './text.js';

const U64_LIMIT = 1n << 64n;
const ROOT_HASH_SIZE = 32;

export interface Checkpoint {
  /** Names the log; ours is the log's schema-less URL (docs/merkle-log.md). */
  readonly origin: string;
  readonly treeSize: bigint;
  readonly rootHash: Uint8Array;
  /** Extra lines after the root hash, each non-empty, without the newline. */
  readonly extensions: readonly string[];
}

export interface CheckpointInput {
  readonly origin: string;
  /** bigint, or a safe integer (the log builder counts leaves in numbers). */
  readonly treeSize: bigint | number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}

export function formatCheckpoint(checkpoint: CheckpointInput): string {
  if (typeof checkpoint !== 'object' || checkpoint === null)
    throw new CheckpointError('bad-input', 'checkpoint: expected an object');
  const { origin, rootHash, extensions = [] } = checkpoint;
  checkLine('bad-origin', 'origin', origin);
  const treeSize = toTreeSize(checkpoint.treeSize);
  if (!(rootHash instanceof Uint8Array))
    throw new CheckpointError('bad-input', 'rootHash: expected a Uint8Array');
  if (rootHash.length !== ROOT_HASH_SIZE)
    throw new CheckpointError(
      'bad-root-hash',
      `rootHash: expected 32 bytes, got ${rootHash.length}`,
    );
  if (!Array.isArray(extensions))
    throw new CheckpointError('bad-input', 'extensions: expected an array of lines');
  extensions.forEach((line, i) => checkLine('bad-extension', `extensions[${i}]`, line));
  return [origin, treeSize.toString(10), encodeBase64(rootHash), ...extensions]
    .map((l) => `${l}\n`)
    .join('');
}

export function parseCheckpoint(body: string): Checkpoint {
  if (typeof body !== 'string') throw new CheckpointError('bad-input', 'body: expected a string');
  if (!body.endsWith('\n'))
    throw new CheckpointError('malformed-checkpoint', 'body: must end in a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3)
    throw new CheckpointError(
      'malformed-checkpoint',
      `body: needs origin, tree size and root hash lines, has ${lines.length}`,
    );
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine('bad-origin', 'origin', origin);
  if (!/^(0|[1-9][0-9]*)$/.test(size))
    throw new CheckpointError(
      'bad-tree-size',
      `tree size: ${JSON.stringify(size)} is not a canonical decimal`,
    );
  const treeSize = BigInt(size);
  if (treeSize >= U64_LIMIT)
    throw new CheckpointError('bad-tree-size', `tree size: ${size} is not below 2^64`);
  const rootHash = decodeBase64(root, true);
  if (rootHash === undefined || rootHash.length !== ROOT_HASH_SIZE)
    throw new CheckpointError(
      'bad-root-hash',
      `root hash: ${JSON.stringify(root)} is not canonical base64 of 32 bytes`,
    );
  extensions.forEach((line, i) => checkLine('bad-extension', `extension line ${i + 1}`, line));
  return { origin, treeSize, rootHash, extensions };
}

function checkLine(code: 'bad-origin' | 'bad-extension', field: string, line: string): void {
  if (typeof line !== 'string')
    throw new CheckpointError('bad-input', `${field}: expected a string`);
  if (line.length === 0 || line.includes('\n') || !isCleanText(line))
    throw new CheckpointError(
      code,
      `${field}: must be a non-empty line without control characters`,
    );
}

function toTreeSize(value: bigint | number): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new CheckpointError(
        'bad-tree-size',
        `treeSize: ${value} is not a non-negative safe integer`,
      );
    return BigInt(value);
  }
  if (typeof value !== 'bigint')
    throw new CheckpointError('bad-input', 'treeSize: expected a bigint or number');
  if (value < 0n || value >= U64_LIMIT)
    throw new CheckpointError('bad-tree-size', `treeSize: ${value} is not unsigned 64-bit`);
  return value;
}
