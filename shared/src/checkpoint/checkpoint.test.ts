import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leafHash, MerkleLog, verifyConsistency } from '../merkle/index.js';
import { formatCheckpoint, parseCheckpoint } from './checkpoint.js';
import { CheckpointError } from './errors.js';
import { generateSignerKey, parseSignerKey, parseVerifierKey } from './note-keys.js';
import { cosignNote, openNote, signNote } from './note.js';
import { openCheckpoint, signCheckpoint } from './signed-checkpoint.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/signed-note/vectors.json', import.meta.url), 'utf8'),
) as { checkpointBody: { text: string; origin: string; treeSize: string; rootHashBase64: string } };
const body = vectors.checkpointBody;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckpointError) return e.code;
    throw e;
  }
  return undefined;
}

describe('tlog-checkpoint body (golang.org/x/mod sumdb/tlog TestFormatTree)', () => {
  it('parses and re-formats the vector byte for byte', () => {
    const checkpoint = parseCheckpoint(body.text);
    expect(checkpoint.origin).toBe(body.origin);
    expect(checkpoint.treeSize).toBe(BigInt(body.treeSize));
    expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(body.rootHashBase64);
    expect(checkpoint.extensions).toEqual([]);
    expect(formatCheckpoint(checkpoint)).toBe(body.text);
  });

  it('has the documented root: SHA-256(0x00 ‖ "hello world")', () => {
    const root = leafHash(new TextEncoder().encode('hello world'));
    expect(formatCheckpoint({ origin: body.origin, treeSize: 123456789012, rootHash: root })).toBe(
      body.text,
    );
  });

  it('keeps extension lines', () => {
    const text = `${body.text}ext one\n— not a signature, an extension\n`;
    const checkpoint = parseCheckpoint(text);
    expect(checkpoint.extensions).toEqual(['ext one', '— not a signature, an extension']);
    expect(formatCheckpoint(checkpoint)).toBe(text);
  });

  it('refuses every malformed body with a typed code', () => {
    const [origin, size, root] = [body.origin, body.treeSize, body.rootHashBase64];
    const cases: [string, string, string][] = [
      ['no final newline', `${origin}\n${size}\n${root}`, 'malformed-checkpoint'],
      ['two lines', `${origin}\n${size}\n`, 'malformed-checkpoint'],
      ['empty', '', 'malformed-checkpoint'],
      ['empty origin', `\n${size}\n${root}\n`, 'bad-origin'],
      ['tab in origin', `go.sum\tdb\n${size}\n${root}\n`, 'bad-origin'],
      ['leading zero', `${origin}\n0${size}\n${root}\n`, 'bad-tree-size'],
      ['sign', `${origin}\n+${size}\n${root}\n`, 'bad-tree-size'],
      ['negative', `${origin}\n-1\n${root}\n`, 'bad-tree-size'],
      ['hex size', `${origin}\n0x10\n${root}\n`, 'bad-tree-size'],
      ['2^64', `${origin}\n18446744073709551616\n${root}\n`, 'bad-tree-size'],
      ['space after size', `${origin}\n${size} \n${root}\n`, 'bad-tree-size'],
      [
        '31-byte root',
        `${origin}\n${size}\n${Buffer.alloc(31).toString('base64')}\n`,
        'bad-root-hash',
      ],
      [
        '33-byte root',
        `${origin}\n${size}\n${Buffer.alloc(33).toString('base64')}\n`,
        'bad-root-hash',
      ],
      ['unpadded root', `${origin}\n${size}\n${root.replace('=', '')}\n`, 'bad-root-hash'],
      ['url-safe alphabet', `${origin}\n${size}\n${root.replace('+', '-')}\n`, 'bad-root-hash'],
      [
        'non-zero padding bits',
        `${origin}\n${size}\n${root.replace('0=', '1=')}\n`,
        'bad-root-hash',
      ],
      ['empty extension line', `${origin}\n${size}\n${root}\n\n`, 'bad-extension'],
    ];
    for (const [why, text, code] of cases)
      expect(
        codeOf(() => parseCheckpoint(text)),
        why,
      ).toBe(code);
    expect(parseCheckpoint(`${origin}\n18446744073709551615\n${root}\n`).treeSize).toBe(
      (1n << 64n) - 1n,
    );
    expect(parseCheckpoint(`${origin}\n0\n${root}\n`).treeSize).toBe(0n);
    expect(codeOf(() => parseCheckpoint(undefined as unknown as string))).toBe('bad-input');
  });

  it('refuses to format what it could not parse back', () => {
    const rootHash = new Uint8Array(32);
    expect(codeOf(() => formatCheckpoint({ origin: '', treeSize: 1n, rootHash }))).toBe(
      'bad-origin',
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'a\nb', treeSize: 1n, rootHash }))).toBe(
      'bad-origin',
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'o', treeSize: -1n, rootHash }))).toBe(
      'bad-tree-size',
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'o', treeSize: 1n << 64n, rootHash }))).toBe(
      'bad-tree-size',
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'o', treeSize: 1.5, rootHash }))).toBe(
      'bad-tree-size',
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'o', treeSize: 2 ** 53, rootHash }))).toBe(
      'bad-tree-size',
    );
    expect(
      codeOf(() => formatCheckpoint({ origin: 'o', treeSize: '5' as unknown as bigint, rootHash })),
    ).toBe('bad-input');
    expect(
      codeOf(() => formatCheckpoint({ origin: 'o', treeSize: 1n, rootHash: new Uint8Array(31) })),
    ).toBe('bad-root-hash');
    expect(
      codeOf(() => formatCheckpoint({ origin: 'o', treeSize: 1n, rootHash, extensions: [''] })),
    ).toBe('bad-extension');
    expect(codeOf(() => formatCheckpoint(null as never))).toBe('bad-input');
  });
});

describe('signed checkpoints of a real log', () => {
  const origin = 'ingest.example/enginechain/sidechain';
  const logKey = generateSignerKey(origin);
  const witnessKey = generateSignerKey('witness.example/enginechain/witness');
  const logSigner = parseSignerKey(logKey.signerKey);
  const verifiers = [
    parseVerifierKey(logKey.verifierKey),
    parseVerifierKey(witnessKey.verifierKey),
  ];

  it('signs, cosigns and opens checkpoints, whose roots then prove consistency', () => {
    const log = new MerkleLog();
    for (let i = 0; i < 10; i++) log.append(new TextEncoder().encode(`batch ${i}`));
    const first = signCheckpoint({ origin, treeSize: log.size, rootHash: log.root() }, [logSigner]);
    for (let i = 10; i < 25; i++) log.append(new TextEncoder().encode(`batch ${i}`));
    const second = cosignNote(
      signCheckpoint({ origin, treeSize: log.size, rootHash: log.root() }, [logSigner]),
      [parseSignerKey(witnessKey.signerKey)],
    );
    const a = openCheckpoint(first, verifiers, { origin }).checkpoint;
    const b = openCheckpoint(second, verifiers, { origin, minSignatures: 2 }).checkpoint;
    expect(a.treeSize).toBe(10n);
    expect(b.treeSize).toBe(25n);
    expect(() =>
      verifyConsistency(
        a.treeSize,
        b.treeSize,
        a.rootHash,
        b.rootHash,
        log.consistencyProof(10, 25),
      ),
    ).not.toThrow();
    expect(codeOf(() => openCheckpoint(first, verifiers, { origin, minSignatures: 2 }))).toBe(
      'too-few-signatures',
    );
    expect(codeOf(() => openCheckpoint(first, verifiers, { origin: 'other.example/log' }))).toBe(
      'origin-mismatch',
    );
    expect(
      codeOf(() => openCheckpoint(first.replace('\n10\n', '\n11\n'), verifiers, { origin })),
    ).toBe('bad-signature');
    expect(codeOf(() => openCheckpoint(first, verifiers, undefined as never))).toBe('bad-input');
  });

  it('refuses a validly signed note whose body is not a checkpoint', () => {
    const signedJunk = signNote('just text\n', [logSigner]);
    expect(() => openNote(signedJunk, verifiers)).not.toThrow();
    expect(codeOf(() => openCheckpoint(signedJunk, verifiers, { origin }))).toBe(
      'malformed-checkpoint',
    );
  });
});
