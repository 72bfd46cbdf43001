import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './errors.js';
import {
  generateSignerKey,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
} from './note-keys.js';
import { cosignNote, openNote, parseNote, requireSignatures, signNote } from './note.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/signed-note/vectors.json', import.meta.url), 'utf8'),
) as {
  text: string;
  verifierKeys: { PeterNeumann: string; EnochRoot: string };
  signerKeys: { PeterNeumann: string };
  signatureLines: { PeterNeumann: string; EnochRoot: string };
  signedNotePeter: string;
};

const peter = parseVerifierKey(vectors.verifierKeys.PeterNeumann);
const enoch = parseVerifierKey(vectors.verifierKeys.EnochRoot);
const peterSigner = parseSignerKey(vectors.signerKeys.PeterNeumann);
const bothSigned = `${vectors.text}\n${vectors.signatureLines.PeterNeumann}${vectors.signatureLines.EnochRoot}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckpointError) return e.code;
    throw e;
  }
  return undefined;
}

describe('signed-note vectors (golang.org/x/mod sumdb/note TestSign, TestOpen)', () => {
  it('reproduces the signed note from the signer key byte for byte', () => {
    const signed = signNote(vectors.text, [peterSigner]);
    expect(signed).toBe(vectors.signedNotePeter);
    expect(Buffer.from(signed, 'utf8').equals(Buffer.from(vectors.signedNotePeter, 'utf8'))).toBe(
      true,
    );
    expect(signed.endsWith(vectors.signatureLines.PeterNeumann)).toBe(true);
  });

  it('verifies both published signature lines', () => {
    const opened = openNote(bothSigned, [peter, enoch]);
    expect(opened.text).toBe(vectors.text);
    expect(opened.signatures.map((s) => [s.name, s.keyHash])).toEqual([
      ['PeterNeumann', 0xc74f20a3],
      ['EnochRoot', 0xaf0cfe78],
    ]);
    expect(opened.unverified).toEqual([]);
    expect(
      openNote(`${vectors.text}\n${vectors.signatureLines.EnochRoot}`, [enoch]).signatures,
    ).toHaveLength(1);
  });

  it('skips unknown signers but fails a note no known key signed', () => {
    const opened = openNote(bothSigned, [enoch]);
    expect(opened.signatures.map((s) => s.name)).toEqual(['EnochRoot']);
    expect(opened.unverified.map((s) => s.name)).toEqual(['PeterNeumann']);
    const stranger = parseVerifierKey(generateSignerKey('Stranger').verifierKey);
    expect(codeOf(() => openNote(bothSigned, [stranger]))).toBe('no-known-signature');
    expect(codeOf(() => openNote(bothSigned, []))).toBe('no-known-signature');
  });

  it('rejects the whole note when a known key signature fails (tampered text, swapped lines)', () => {
    const tampered = bothSigned.replace('cryptography', 'cryptographY');
    expect(codeOf(() => openNote(tampered, [peter]))).toBe('bad-signature');
    // Peter's signature carried under Enoch's name and key hash.
    const blob = Buffer.from(
      vectors.signatureLines.PeterNeumann.trim().split(' ')[2] as string,
      'base64',
    );
    Buffer.from('af0cfe78', 'hex').copy(blob, 0);
    const forged = `${vectors.text}\n— EnochRoot ${blob.toString('base64')}\n`;
    expect(codeOf(() => openNote(forged, [enoch]))).toBe('bad-signature');
    // A flipped bit anywhere in the signature.
    const sig = Buffer.from(
      vectors.signatureLines.PeterNeumann.trim().split(' ')[2] as string,
      'base64',
    );
    for (const at of [4, 30, 67]) {
      const flipped = Buffer.from(sig);
      flipped[at] = (flipped[at] as number) ^ 1;
      const note = `${vectors.text}\n— PeterNeumann ${flipped.toString('base64')}\n`;
      expect(codeOf(() => openNote(note, [peter]))).toBe('bad-signature');
    }
  });

  it('refuses malformed notes', () => {
    const line = vectors.signatureLines.PeterNeumann;
    const cases: [string, string | Uint8Array][] = [
      ['no blank line', `${vectors.text}${line}`],
      ['no signatures', `${vectors.text}\n`],
      ['signature block without final newline', `${vectors.text}\n${line.trimEnd()}`],
      ['hyphen instead of em dash', `${vectors.text}\n${line.replace('—', '-')}`],
      ['en dash instead of em dash', `${vectors.text}\n${line.replace('—', '–')}`],
      ['no space after dash', `${vectors.text}\n${line.replace('— ', '—')}`],
      ['missing signature', `${vectors.text}\n— PeterNeumann\n`],
      ['bad base64', `${vectors.text}\n— PeterNeumann x08go/ZJ!kuBS9UG==\n`],
      ['signature shorter than 5 bytes', `${vectors.text}\n— PeterNeumann x08gow==\n`],
      ['control character in text', `If you\tthink\n\n${line}`],
      ['carriage return', `${vectors.text}\n${line.replace('\n', '\r\n')}`],
      ['invalid UTF-8', new Uint8Array([0x61, 0xff, 0x0a, 0x0a, ...Buffer.from(line)])],
      ['too many signatures', `${vectors.text}\n${line.repeat(101)}`],
    ];
    for (const [why, note] of cases)
      expect(
        codeOf(() => openNote(note, [peter])),
        why,
      ).toBe('malformed-note');
    expect(codeOf(() => openNote(42 as unknown as string, [peter]))).toBe('bad-input');
    expect(codeOf(() => openNote(bothSigned, [{} as never]))).toBe('bad-input');
    expect(codeOf(() => openNote(bothSigned, [peter, peter]))).toBe('bad-input');
    expect(openNote(new Uint8Array(Buffer.from(vectors.signedNotePeter)), [peter]).text).toBe(
      vectors.text,
    );
  });

  it('refuses text it cannot sign', () => {
    expect(codeOf(() => signNote('no newline', [peterSigner]))).toBe('malformed-note');
    expect(codeOf(() => signNote('bell \x07\n', [peterSigner]))).toBe('malformed-note');
    expect(codeOf(() => signNote(vectors.text, []))).toBe('bad-input');
    expect(codeOf(() => signNote(vectors.text, [peterSigner, peterSigner]))).toBe(
      'duplicate-signer',
    );
    const badName: NoteSigner = { name: 'a b', keyHash: 1, sign: () => new Uint8Array(64) };
    expect(codeOf(() => signNote(vectors.text, [badName]))).toBe('bad-name');
    // Blank lines inside the text survive: the split is at the last blank line.
    const text = 'first\n\nthird\n';
    expect(openNote(signNote(text, [peterSigner]), [peter]).text).toBe(text);
  });
});

describe('cosigning and k-of-n', () => {
  const keys = ['log.example/a', 'witness.example/b', 'witness.example/c'].map((n) =>
    generateSignerKey(n),
  );
  const signers = keys.map((k) => parseSignerKey(k.signerKey));
  const verifiers = keys.map((k) => parseVerifierKey(k.verifierKey));
  const text = 'log.example/a\n42\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';

  it('adds cosignatures to a signed note and counts them against a policy', () => {
    const signed = signNote(text, [signers[0] as NoteSigner]);
    const cosigned = cosignNote(signed, [signers[1] as NoteSigner]);
    expect(cosigned.startsWith(signed)).toBe(true);
    expect(parseNote(cosigned).signatures.map((s) => s.name)).toEqual([
      'log.example/a',
      'witness.example/b',
    ]);
    expect(requireSignatures(cosigned, verifiers, 2).signatures).toHaveLength(2);
    expect(codeOf(() => requireSignatures(cosigned, verifiers, 3))).toBe('too-few-signatures');
    const all = cosignNote(cosigned, [signers[2] as NoteSigner]);
    expect(requireSignatures(all, verifiers, 3).signatures).toHaveLength(3);
    expect(codeOf(() => cosignNote(all, [signers[1] as NoteSigner]))).toBe('duplicate-signer');
  });

  it('counts a signer that appears twice once', () => {
    const signed = signNote(text, [signers[0] as NoteSigner, signers[1] as NoteSigner]);
    const secondLine = signed.split('\n').at(-2) as string;
    const doubled = `${signed}${secondLine}\n${secondLine}\n`;
    expect(parseNote(doubled).signatures).toHaveLength(4);
    expect(requireSignatures(doubled, verifiers, 2).signatures).toHaveLength(2);
    expect(codeOf(() => requireSignatures(doubled, verifiers, 3))).toBe('too-few-signatures');
  });

  it('fails k-of-n on a tampered body, and on nonsense k', () => {
    const signed = signNote(text, signers);
    expect(requireSignatures(signed, verifiers, 3).text).toBe(text);
    expect(codeOf(() => requireSignatures(signed.replace('\n42\n', '\n43\n'), verifiers, 1))).toBe(
      'bad-signature',
    );
    for (const k of [0, -1, 1.5, 4, Number.NaN])
      expect(codeOf(() => requireSignatures(signed, verifiers, k))).toBe('bad-input');
    // Signatures from keys outside the policy do not count towards k.
    const outsider = parseSignerKey(generateSignerKey('outsider.example').signerKey);
    const withOutsider = cosignNote(signNote(text, [signers[0] as NoteSigner]), [outsider]);
    expect(codeOf(() => requireSignatures(withOutsider, verifiers, 2))).toBe('too-few-signatures');
  });
});
