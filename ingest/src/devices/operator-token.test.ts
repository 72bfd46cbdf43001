import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadOrCreateOperatorToken,
  operatorTokenVerifier,
  readOperatorTokenFile,
  OPERATOR_TOKEN_HASH_FILE,
} from './operator-token.js';

describe('operator token', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'operator-token-'));
    dirs.push(d);
    return d;
  };

  it('is made once at first start, 0600, and only its hash is needed afterwards', async () => {
    const dir = tmp();
    const first = await loadOrCreateOperatorToken(dir);
    expect(first.created).toBe(true);
    expect(statSync(first.tokenFile).mode & 0o777).toBe(0o600);
    const hashFile = join(dir, OPERATOR_TOKEN_HASH_FILE);
    expect(statSync(hashFile).mode & 0o777).toBe(0o600);
    const token = await readOperatorTokenFile(first.tokenFile);
    expect(token).toMatch(/^ecop_[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(hashFile, 'utf8').trim()).toBe(
      createHash('sha256').update(token).digest('hex'),
    );
    expect(readFileSync(hashFile, 'utf8')).not.toContain(token);
    expect(first.verifier.verify(token)).toBe(true);

    // The operator takes the token away; the node still checks it from the hash.
    rmSync(first.tokenFile);
    const again = await loadOrCreateOperatorToken(dir);
    expect(again.created).toBe(false);
    expect(again.verifier.verify(token)).toBe(true);
    for (const wrong of ['', token.slice(0, -1), `${token}x`, token.toUpperCase(), 'Bearer'])
      expect(again.verifier.verify(wrong)).toBe(false);
    expect(again.verifier.verify(42 as unknown as string)).toBe(false);
  });

  it('keeps a token file whose hash was not yet written (crash between the two writes)', async () => {
    const dir = tmp();
    const first = await loadOrCreateOperatorToken(dir);
    const token = await readOperatorTokenFile(first.tokenFile);
    rmSync(join(dir, OPERATOR_TOKEN_HASH_FILE));
    const again = await loadOrCreateOperatorToken(dir);
    expect(again.created).toBe(false);
    expect(await readOperatorTokenFile(again.tokenFile)).toBe(token);
    expect(again.verifier.verify(token)).toBe(true);
  });

  it('refuses a readable token file, a malformed one and a bad hash file', async () => {
    const dir = tmp();
    const { tokenFile } = await loadOrCreateOperatorToken(dir);
    chmodSync(tokenFile, 0o644);
    await expect(readOperatorTokenFile(tokenFile)).rejects.toMatchObject({
      code: 'insecure-permissions',
    });
    const junk = join(dir, 'junk.token');
    writeFileSync(junk, 'password123\n', { mode: 0o600 });
    await expect(readOperatorTokenFile(junk)).rejects.toThrow(/not an operator token/);
    await expect(readOperatorTokenFile(join(dir, 'missing'))).rejects.toMatchObject({
      code: 'not-found',
    });
    writeFileSync(join(dir, OPERATOR_TOKEN_HASH_FILE), 'nope\n');
    await expect(loadOrCreateOperatorToken(dir)).rejects.toThrow(/hex SHA-256/);
    expect(() => operatorTokenVerifier(new Uint8Array(31))).toThrow(/tokenHash/);
  });
});
