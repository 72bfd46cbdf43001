import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './errors.js';
import {
  formatVerifierKey,
  generateSignerKey,
  noteKeyHash,
  parseSignerKey,
  parseVerifierKey,
} from './note-keys.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/signed-note/vectors.json', import.meta.url), 'utf8'),
) as {
  verifierKeys: Record<string, string>;
  signerKeys: Record<string, string>;
  badVerifierKeys: { key: string; why: string }[];
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CheckpointError) return e.code;
    throw e;
  }
  return undefined;
}

describe('signed-note keys (golang.org/x/mod sumdb/note vectors)', () => {
  it('parses both verifier keys, with the published key hashes', () => {
    const peter = parseVerifierKey(vectors.verifierKeys.PeterNeumann as string);
    expect(peter.name).toBe('PeterNeumann');
    expect(peter.keyHash).toBe(0xc74f20a3);
    expect(peter.publicKey).toHaveLength(32);
    const enoch = parseVerifierKey(vectors.verifierKeys.EnochRoot as string);
    expect(enoch.keyHash).toBe(0xaf0cfe78);
    expect(formatVerifierKey(enoch.name, enoch.publicKey)).toBe(vectors.verifierKeys.EnochRoot);
  });

  it('derives the verifier key from the signer key', () => {
    const signer = parseSignerKey(vectors.signerKeys.PeterNeumann as string);
    expect(signer.verifierKey).toBe(vectors.verifierKeys.PeterNeumann);
    expect(signer.keyHash).toBe(0xc74f20a3);
  });

  const expectedCodes = ['bad-key-length', 'unsupported-key-algorithm', 'key-hash-mismatch'];
  it.each(vectors.badVerifierKeys.map((bad, i) => [bad.why, bad.key, expectedCodes[i]] as const))(
    'refuses a verifier key with %s',
    (why, key, code) => {
      expect(codeOf(() => parseVerifierKey(key))).toBe(code);
      expect(() => parseVerifierKey(key)).toThrow(/verifierKey: /);
      expect(why.length).toBeGreaterThan(0);
    },
  );

  it('refuses malformed key strings with a clear code', () => {
    const good = vectors.verifierKeys.PeterNeumann as string;
    const [name, hash, key] = good.split('+') as [string, string, string];
    const cases: [string, string][] = [
      ['', 'malformed-key'],
      [`${name}+${hash}`, 'malformed-key'],
      [`${name}+${hash}+${key}+extra`, 'malformed-key'],
      [`${name}+c74f20a+${key}`, 'malformed-key'],
      [`${name}+c74f20g3+${key}`, 'malformed-key'],
      [`${name}+${hash}+${key.slice(1)}`, 'malformed-key'],
      [`${name}+${hash}+`, 'malformed-key'],
      [`Peter Neumann+${hash}+${key}`, 'bad-name'],
      [`+${hash}+${key}`, 'bad-name'],
      [`${name}+${hash}+${key}+extra`.replace('+extra', 'A+'), 'malformed-key'],
      [`${name}+${hash.toUpperCase()}+${key}`, 'ok'],
    ];
    for (const [input, code] of cases)
      expect(codeOf(() => parseVerifierKey(input)) ?? 'ok').toBe(code);
    expect(codeOf(() => parseVerifierKey(42 as unknown as string))).toBe('bad-input');
    const signerKey = vectors.signerKeys.PeterNeumann as string;
    expect(codeOf(() => parseSignerKey(signerKey.replace('PRIVATE+KEY+', '')))).toBe(
      'malformed-key',
    );
    expect(codeOf(() => parseSignerKey(signerKey.replace('c74f20a3', 'c74f20a4')))).toBe(
      'key-hash-mismatch',
    );
    expect(codeOf(() => parseSignerKey(good))).toBe('malformed-key');
  });

  it('computes the key hash as SHA-256(name ‖ "\\n" ‖ 0x01 ‖ key)[:4]', () => {
    const peter = parseVerifierKey(vectors.verifierKeys.PeterNeumann as string);
    const key = new Uint8Array([1, ...peter.publicKey]);
    expect(noteKeyHash('PeterNeumann', key)).toBe(0xc74f20a3);
    expect(codeOf(() => noteKeyHash('a+b', key))).toBe('bad-name');
  });

  it('generates fresh Ed25519 keys that round-trip and sign', () => {
    const a = generateSignerKey('ingest.example/enginechain/log');
    const b = generateSignerKey('ingest.example/enginechain/log');
    expect(a.signerKey).not.toBe(b.signerKey);
    expect(a.signerKey).toMatch(
      /^PRIVATE\+KEY\+ingest\.example\/enginechain\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/,
    );
    const signer = parseSignerKey(a.signerKey);
    const verifier = parseVerifierKey(a.verifierKey);
    expect(signer.verifierKey).toBe(a.verifierKey);
    const message = new TextEncoder().encode('hello\n');
    const signature = signer.sign(message);
    expect(verifier.verify(message, signature)).toBe(true);
    expect(verifier.verify(new TextEncoder().encode('hellO\n'), signature)).toBe(false);
    expect(verifier.verify(message, signature.subarray(1))).toBe(false);
    expect(parseVerifierKey(b.verifierKey).verify(message, signature)).toBe(false);
    expect(codeOf(() => generateSignerKey('two words'))).toBe('bad-name');
    expect(codeOf(() => generateSignerKey(''))).toBe('bad-name');
  });
});
