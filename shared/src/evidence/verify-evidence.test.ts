/**
 * One verifier, two crypto backends: the evidence verifier is loaded twice, once on the
 * node:crypto backend and once with backend.ts swapped for backend.browser.ts (what the
 * dashboard bundle does), and both must give the same verdict on the same bytes.
 */
import { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type * as VerifierModule from './verify-evidence.js';
import type * as FixtureModule from './evidence-fixture.js';
import type * as ParseModule from './evidence-format.js';

interface Loaded {
  readonly verifier: typeof VerifierModule;
  readonly fixture: typeof FixtureModule;
  readonly backend: 'node' | 'browser';
  /** Whether the verifier's modules hold device keys as node:crypto KeyObjects. */
  readonly nodeKeys: boolean;
}

async function load(backend: 'node' | 'browser'): Promise<Loaded> {
  vi.resetModules();
  if (backend === 'browser')
    vi.doMock('../crypto/backend.js', () => import('../crypto/backend.browser.js'));
  else vi.doUnmock('../crypto/backend.js');
  const verifier = await import('./verify-evidence.js');
  const fixture = await import('./evidence-fixture.js');
  const { CRYPTO_BACKEND } = await import('../crypto/backend.js');
  const { secp256k1PublicKeyObject } = await import('../crypto/secp256k1.js');
  const { deviceKeyFromPrivateKey } = await import('../crypto/device-key.js');
  const device = deviceKeyFromPrivateKey(new Uint8Array(32).fill(7));
  const nodeKeys = secp256k1PublicKeyObject(device.publicKey) instanceof KeyObject;
  return { verifier, fixture, backend: CRYPTO_BACKEND, nodeKeys };
}

const nodeSide = await load('node');
const browserSide = await load('browser');
vi.doUnmock('../crypto/backend.js');

// Built once on each backend: Ed25519 and RFC 6979 ECDSA are deterministic, so equal bytes
// show that signing agrees too.
const fileFromNode = nodeSide.fixture.buildEvidenceFixture();
const fileFromBrowser = browserSide.fixture.buildEvidenceFixture();

function flipByte(file: Uint8Array, at: number): Uint8Array {
  const out = file.slice();
  out[at] = (out[at] as number) ^ 0x01;
  return out;
}

type Verdict = { ok: true; samples: number; events: string[] } | { ok: false; code: string };

function verdict(side: Loaded, file: Uint8Array, trustedKeys?: string[]): Verdict {
  try {
    const v = side.verifier.verifyEvidence(file, trustedKeys ? { trustedKeys } : {});
    return { ok: true, samples: v.samples.length, events: v.events.map((e) => e.type) };
  } catch (err) {
    if (err instanceof side.verifier.EvidenceError) return { ok: false, code: err.code };
    throw err;
  }
}

describe('verifyEvidence on the node:crypto and the browser (noble) backends', () => {
  it('loads two different backends', () => {
    expect(nodeSide.backend).toBe('node');
    expect(browserSide.backend).toBe('browser');
    expect(nodeSide.verifier).not.toBe(browserSide.verifier);
    expect(nodeSide.nodeKeys).toBe(true);
    expect(browserSide.nodeKeys).toBe(false);
  });

  it('both backends build byte-identical evidence from the same inputs', () => {
    expect(fileFromBrowser).toEqual(fileFromNode);
  });

  const key = () => nodeSide.fixture.FIXTURE_VERIFIER_KEY;
  const cases: {
    name: string;
    file: () => Uint8Array;
    trust?: () => string[];
    expected: Verdict;
  }[] = [
    {
      name: 'the untouched file, trusting the checkpoint key',
      file: () => fileFromNode,
      trust: () => [key()],
      expected: { ok: true, samples: 60, events: ['crash'] },
    },
    {
      name: 'the untouched file, trusting only the key inside it',
      file: () => fileFromNode,
      expected: { ok: true, samples: 60, events: ['crash'] },
    },
    {
      name: 'a flipped bit in the last batch (inside the signed envelope)',
      file: () => flipByte(fileFromNode, fileFromNode.length - 900),
      trust: () => [key()],
      expected: { ok: false, code: 'bad-signature' },
    },
    {
      name: 'a flipped bit in the envelope signature',
      file: () => flipByte(fileFromNode, fileFromNode.length - 1),
      trust: () => [key()],
      expected: { ok: false, code: 'bad-signature' },
    },
    {
      name: 'a key that did not sign it',
      file: () => fileFromNode,
      trust: () => [nodeSide.fixture.FIXTURE_OTHER_KEY],
      expected: { ok: false, code: 'bad-signature' },
    },
    {
      name: 'a truncated file',
      file: () => fileFromNode.subarray(0, fileFromNode.length - 10),
      trust: () => [key()],
      expected: { ok: false, code: 'malformed' },
    },
  ];
  for (const c of cases) {
    it(`same verdict: ${c.name}`, () => {
      const n = verdict(nodeSide, c.file(), c.trust?.());
      const b = verdict(browserSide, c.file(), c.trust?.());
      expect(n).toEqual(c.expected);
      expect(b).toEqual(c.expected);
    });
  }
});

/** Inner checks, past the envelope: re-signed by the checkpoint key after a named mutation. */
describe('named mutations behind a valid envelope, on both backends', async () => {
  const format: typeof ParseModule = await import('./evidence-format.js');
  const { signEvidence } = await import('./sign-evidence.js');
  const { parseSignerKey } = await import('../checkpoint/note-keys.js');
  const vectors = JSON.parse(
    readFileSync(new URL('../../vectors/signed-note/vectors.json', import.meta.url), 'utf8'),
  ) as { signerKeys: { PeterNeumann: string } };
  const signer = parseSignerKey(vectors.signerKeys.PeterNeumann);
  const key = () => nodeSide.fixture.FIXTURE_VERIFIER_KEY;
  const { bundle } = nodeSide.verifier.parseEvidence(fileFromNode);
  const resign = (b: ParseModule.EvidenceBundle) => signEvidence(b, signer);
  const flip = (b: Uint8Array) => flipByte(b, b.length - 5);
  const mutations: { name: string; bundle: ParseModule.EvidenceBundle; code: string }[] = [
    {
      name: 'another VIN',
      bundle: { ...bundle, vin: '1M8GDM9AXKP042788' },
      code: 'bad-registration',
    },
    {
      name: 'a batch whose signed bytes changed',
      bundle: {
        ...bundle,
        batches: bundle.batches.map((b, i) => (i === 1 ? { ...b, bytes: flip(b.bytes) } : b)),
      },
      code: 'bad-batch',
    },
    {
      name: 'a truncated inclusion proof',
      bundle: {
        ...bundle,
        batches: bundle.batches.map((b, i) =>
          i === 0 ? { ...b, inclusionProof: b.inclusionProof.slice(1) } : b,
        ),
      },
      code: 'bad-proof',
    },
    {
      name: 'swapped checkpoints',
      bundle: {
        ...bundle,
        checkpoint: bundle.earlierCheckpoint,
        earlierCheckpoint: bundle.checkpoint,
      },
      code: 'bad-proof',
    },
    {
      name: 'the consistency proof cut short',
      bundle: { ...bundle, consistencyProof: bundle.consistencyProof.slice(0, -1) },
      code: 'bad-proof',
    },
  ];
  expect(format.EVIDENCE_VERSION).toBe(1);
  for (const m of mutations) {
    it(`${m.name}: ${m.code}`, () => {
      const file = resign(m.bundle);
      expect(verdict(nodeSide, file, [key()])).toEqual({ ok: false, code: m.code });
      expect(verdict(browserSide, file, [key()])).toEqual({ ok: false, code: m.code });
    });
  }
});

/** A device that rotated its key before seq 2: batches 0–1 verify with the first key, 2 with the new. */
describe('evidence across a key rotation, on both backends', async () => {
  const { signEvidence } = await import('./sign-evidence.js');
  const { parseSignerKey } = await import('../checkpoint/note-keys.js');
  const { decodeLogEntry, encodeLogEntry } = await import('../log-entry/log-entry.js');
  const vectors = JSON.parse(
    readFileSync(new URL('../../vectors/signed-note/vectors.json', import.meta.url), 'utf8'),
  ) as { signerKeys: { PeterNeumann: string } };
  const signer = parseSignerKey(vectors.signerKeys.PeterNeumann);
  const key = () => nodeSide.fixture.FIXTURE_VERIFIER_KEY;
  const rotated = nodeSide.fixture.buildEvidenceFixture({ rotateAtSeq: 2 });
  const { bundle } = nodeSide.verifier.parseEvidence(rotated);

  it('verifies each batch with the key valid for its seq and says where the key changed', () => {
    expect(browserSide.fixture.buildEvidenceFixture({ rotateAtSeq: 2 })).toEqual(rotated);
    for (const side of [nodeSide, browserSide]) {
      const v = side.verifier.verifyEvidence(rotated, { trustedKeys: [key()] });
      expect(v.batches.map((b) => b.seq)).toEqual([0, 1, 2]);
      expect(v.keyRotations).toEqual([{ fromSeq: 2, leafIndex: bundle.rotations[0]!.leafIndex }]);
    }
    // Without rotations the file is the same bytes as before rotations existed.
    expect(nodeSide.fixture.buildEvidenceFixture({})).toEqual(fileFromNode);
  });

  it('refuses the file when the rotation is left out (batch 2 does not verify with the first key)', () => {
    const file = nodeSide.fixture.buildEvidenceFixture({ rotateAtSeq: 2, omitRotation: true });
    expect(verdict(nodeSide, file, [key()])).toEqual({ ok: false, code: 'bad-batch' });
    expect(verdict(browserSide, file, [key()])).toEqual({ ok: false, code: 'bad-batch' });
  });

  const entry = decodeLogEntry(bundle.rotations[0]!.entry);
  if (entry.type !== 'key-rotation') throw new Error('fixture: expected a key-rotation entry');
  const withRotation = (r: Partial<(typeof bundle.rotations)[number]>) =>
    signEvidence({ ...bundle, rotations: [{ ...bundle.rotations[0]!, ...r }] }, signer);
  const mutations: { name: string; file: () => Uint8Array; code: string }[] = [
    {
      name: 'the rotation entry naming a later seq (batch 2 then needs the first key)',
      file: () => withRotation({ entry: encodeLogEntry({ ...entry, fromSeq: 3 }) }),
      code: 'bad-proof',
    },
    {
      name: 'the rotation of another device',
      file: () => withRotation({ entry: encodeLogEntry({ ...entry, deviceId: '00'.repeat(16) }) }),
      code: 'bad-registration',
    },
    {
      name: 'the rotation proof cut short',
      file: () => withRotation({ inclusionProof: bundle.rotations[0]!.inclusionProof.slice(1) }),
      code: 'bad-proof',
    },
  ];
  for (const m of mutations) {
    it(`${m.name}: ${m.code}`, () => {
      expect(verdict(nodeSide, m.file(), [key()])).toEqual({ ok: false, code: m.code });
      expect(verdict(browserSide, m.file(), [key()])).toEqual({ ok: false, code: m.code });
    });
  }

  it('every single byte of the rotation entry flipped: refused', () => {
    const bytes = bundle.rotations[0]!.entry;
    for (let i = 0; i < bytes.length; i++) {
      const flipped = bytes.slice();
      flipped[i] = (flipped[i] as number) ^ 0x01;
      const v = verdict(nodeSide, withRotation({ entry: flipped }), [key()]);
      expect(v.ok, `byte ${i}`).toBe(false);
    }
  });
});
