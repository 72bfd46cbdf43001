export { CHECKPOINT_ERROR_CODES, CheckpointError, type CheckpointErrorCode } from './errors.js';
export {
  formatCheckpoint,
  parseCheckpoint,
  type Checkpoint,
  type CheckpointInput,
} from './checkpoint.js';
export {
  ED25519_ALGORITHM,
  formatVerifierKey,
  generateSignerKey,
  noteKeyHash,
  parseSignerKey,
  parseVerifierKey,
  type Ed25519NoteSigner,
  type Ed25519NoteVerifier,
  type NoteSigner,
  type NoteVerifier,
} from './note-keys.js';
export {
  MAX_NOTE_SIGNATURES,
  cosignNote,
  openNote,
  parseNote,
  requireSignatures,
  signNote,
  type NoteSignature,
  type OpenedNote,
  type ParsedNote,
} from './note.js';
export { openCheckpoint, signCheckpoint, type OpenCheckpointOptions } from './signed-checkpoint.js';
