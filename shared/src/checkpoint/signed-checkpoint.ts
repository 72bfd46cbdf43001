/** Checkpoints as signed notes: what an ingest node publishes and what witnesses and insurers check. */
import {
  formatCheckpoint,
  parseCheckpoint,
  type Checkpoint,
  type CheckpointInput,
} from './checkpoint.js';
import { CheckpointError } from './errors.js';
import type { NoteSigner, NoteVerifier } from './note-keys.js';
import { requireSignatures, signNote, type OpenedNote } from './note.js';

export function signCheckpoint(
  checkpoint: CheckpointInput,
  signers: readonly NoteSigner[],
): string {
  return signNote(formatCheckpoint(checkpoint), signers);
}

export interface OpenCheckpointOptions {
  /** The origin of the log the caller expects; a checkpoint of any other log is refused. */
  readonly origin: string;
  /** Distinct known keys that must have signed (k of the n verifiers); default 1. */
  readonly minSignatures?: number;
}

/**
 * Verifies a signed checkpoint: at least `minSignatures` known keys signed it, its body parses
 * strictly and its origin is the expected one.
 */
export function openCheckpoint(
  signedNote: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: OpenCheckpointOptions,
): { checkpoint: Checkpoint; note: OpenedNote } {
  if (typeof options?.origin !== 'string')
    throw new CheckpointError('bad-input', 'options.origin: expected a string');
  const note = requireSignatures(signedNote, verifiers, options.minSignatures ?? 1);
  const checkpoint = parseCheckpoint(note.text);
  if (checkpoint.origin !== options.origin)
    throw new CheckpointError(
      'origin-mismatch',
      `origin: checkpoint is for ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(options.origin)}`,
    );
  return { checkpoint, note };
}
