/**
 * C2SP signed-note: text (ending in "\n"), a blank line, then one signature line per key,
 *   — name base64(4-byte key hash ‖ signature)
 * with U+2014 EM DASH. Opening follows golang.org/x/mod/sumdb/note Open: split at the last
 * blank line, skip signatures from unknown keys, count a key's first signature line only, and
 * reject the whole note if a known key's signature fails (a forged line is an attack, not noise).
 */
import { CheckpointError } from './errors.js';
import type { NoteSigner, NoteVerifier } from './note-keys.js';
import { decodeBase64, encodeBase64, isCleanText, isValidKeyName, utf8 } from './text.js';

const SIGNATURE_PREFIX = '\u2014 ';
/** sumdb/note's cap: parsing a note with thousands of signatures is a denial of service. */
export const MAX_NOTE_SIGNATURES = 100;

export interface NoteSignature {
  readonly name: string;
  readonly keyHash: number;
  /** base64(key hash ‖ signature), exactly as on the signature line. */
  readonly base64: string;
}

/** A note split into text and signature lines, none of them verified yet. */
export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface OpenedNote {
  /** The signed text, trustworthy only because `signatures` is not empty. */
  readonly text: string;
  /** Verified signatures, one per known key, in note order. */
  readonly signatures: readonly NoteSignature[];
  /** Signatures from keys not in the verifier set, left unchecked. */
  readonly unverified: readonly NoteSignature[];
}

/** Signs `text` with every signer: text, blank line, one signature line per signer, in order. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  return text + '\n' + signatureLines(text, signers, []);
}

/**
 * Adds signatures to an already signed note (cosigning: a witness or second node signs the
 * same text). Existing lines are kept as they are and not verified; a signer whose key already
 * signed is refused as a duplicate.
 */
export function cosignNote(signedNote: string, signers: readonly NoteSigner[]): string {
  const parsed = parseNote(signedNote);
  return signedNote + signatureLines(parsed.text, signers, parsed.signatures);
}

/** Splits a signed note into text and well-formed signature lines, without verifying anything. */
export function parseNote(signedNote: string | Uint8Array): ParsedNote {
  const note = decodeNote(signedNote);
  if (!isCleanText(note))
    throw new CheckpointError(
      'malformed-note',
      'note: holds control characters or is not valid UTF-8',
    );
  const split = note.lastIndexOf('\n\n');
  if (split < 0)
    throw new CheckpointError('malformed-note', 'note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n'))
    throw new CheckpointError(
      'malformed-note',
      'note: the signature block is empty or does not end in a newline',
    );
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new CheckpointError(
      'malformed-note',
      `note: more than ${MAX_NOTE_SIGNATURES} signatures`,
    );
  const signatures = lines.map((line, i) => parseSignatureLine(line, i));
  return { text, signatures };
}

/**
 * Verifies a signed note against the known keys. Returns the text with the signatures that
 * verified; throws CheckpointError 'no-known-signature' when no known key signed it and
 * 'bad-signature' when a known key's signature does not verify.
 */
export function openNote(
  signedNote: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const opened = openAny(signedNote, verifiers);
  if (opened.signatures.length === 0)
    throw new CheckpointError(
      'no-known-signature',
      `note: none of its ${opened.unverified.length} signatures is from a known key`,
    );
  return opened;
}

/**
 * k-of-n policy: opens the note and requires valid signatures from at least `k` distinct keys of
 * `verifiers` (a key that signed twice counts once). Throws 'too-few-signatures' otherwise.
 */
export function requireSignatures(
  signedNote: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  k: number,
): OpenedNote {
  if (!Number.isInteger(k) || k < 1 || k > (Array.isArray(verifiers) ? verifiers.length : 0))
    throw new CheckpointError(
      'bad-input',
      `k: expected an integer from 1 to the ${verifiers?.length ?? 0} verifiers, got ${String(k)}`,
    );
  const opened = openAny(signedNote, verifiers);
  if (opened.signatures.length < k)
    throw new CheckpointError(
      'too-few-signatures',
      `note: signed by ${opened.signatures.length} of the known keys, policy needs ${k}`,
    );
  return opened;
}

function openAny(signedNote: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = indexVerifiers(verifiers);
  const { text, signatures } = parseNote(signedNote);
  const message = utf8.encode(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const signature of signatures) {
    const id = keyId(signature.name, signature.keyHash);
    const verifier = known.get(id);
    if (verifier === undefined) {
      const line = `${signature.name} ${signature.base64}`;
      if (!seenUnverified.has(line)) unverified.push(signature);
      seenUnverified.add(line);
      continue;
    }
    if (seen.has(id)) continue;
    seen.add(id);
    const bytes = decodeBase64(signature.base64, false) as Uint8Array;
    if (!verifier.verify(message, bytes.subarray(4)))
      throw new CheckpointError(
        'bad-signature',
        `note: the signature by ${signature.name} does not verify`,
      );
    verified.push(signature);
  }
  return { text, signatures: verified, unverified };
}

function signatureLines(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[],
): string {
  if (!Array.isArray(signers) || signers.length === 0)
    throw new CheckpointError('bad-input', 'signers: expected at least one signer');
  const message = utf8.encode(text);
  const have = new Set(existing.map((s) => keyId(s.name, s.keyHash)));
  let lines = '';
  signers.forEach((signer, i) => {
    if (typeof signer?.sign !== 'function')
      throw new CheckpointError('bad-input', `signers[${i}]: expected a NoteSigner`);
    if (!isValidKeyName(signer.name))
      throw new CheckpointError(
        'bad-name',
        `signers[${i}]: ${JSON.stringify(signer.name)} is not a valid key name`,
      );
    const id = keyId(signer.name, signer.keyHash);
    if (have.has(id))
      throw new CheckpointError(
        'duplicate-signer',
        `signers[${i}]: ${signer.name} already signed this note`,
      );
    have.add(id);
    const signature = signer.sign(message);
    const blob = new Uint8Array(4 + signature.length);
    new DataView(blob.buffer).setUint32(0, signer.keyHash);
    blob.set(signature, 4);
    lines += `${SIGNATURE_PREFIX}${signer.name} ${encodeBase64(blob)}\n`;
  });
  return lines;
}

function parseSignatureLine(line: string, i: number): NoteSignature {
  const bad = (why: string) =>
    new CheckpointError('malformed-note', `signature line ${i + 1}: ${why}`);
  if (!line.startsWith(SIGNATURE_PREFIX))
    throw bad('does not start with "— " (U+2014 EM DASH, space)');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const base64 = space < 0 ? '' : rest.slice(space + 1);
  if (!isValidKeyName(name)) throw bad(`${JSON.stringify(name)} is not a valid key name`);
  const bytes = decodeBase64(base64, false);
  if (bytes === undefined || bytes.length < 5)
    throw bad('signature is not base64 of a key hash and a signature');
  return { name, keyHash: new DataView(bytes.buffer).getUint32(0), base64 };
}

function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  if (!Array.isArray(verifiers))
    throw new CheckpointError('bad-input', 'verifiers: expected an array of NoteVerifier');
  const known = new Map<string, NoteVerifier>();
  verifiers.forEach((verifier, i) => {
    if (typeof verifier?.verify !== 'function' || typeof verifier.keyHash !== 'number')
      throw new CheckpointError('bad-input', `verifiers[${i}]: expected a NoteVerifier`);
    const id = keyId(verifier.name, verifier.keyHash);
    // Two entries for one key would let a k-of-n policy count one signer twice.
    if (known.has(id))
      throw new CheckpointError('bad-input', `verifiers[${i}]: ${verifier.name} is listed twice`);
    known.set(id, verifier);
  });
  return known;
}

function checkText(text: string): void {
  if (typeof text !== 'string') throw new CheckpointError('bad-input', 'text: expected a string');
  if (!text.endsWith('\n'))
    throw new CheckpointError('malformed-note', 'text: must end in a newline');
  if (!isCleanText(text))
    throw new CheckpointError(
      'malformed-note',
      'text: holds control characters or is not valid Unicode',
    );
}

function decodeNote(signedNote: string | Uint8Array): string {
  if (typeof signedNote === 'string') return signedNote;
  if (!(signedNote instanceof Uint8Array))
    throw new CheckpointError('bad-input', 'note: expected a string or Uint8Array');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(signedNote);
  } catch {
    throw new CheckpointError('malformed-note', 'note: is not valid UTF-8');
  }
}

function keyId(name: string, keyHash: number): string {
  return `${name}+${keyHash}`;
}
