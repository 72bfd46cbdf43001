/// <reference lib="dom" />
/**
 * The Verify button: runs the same `verifyEvidence` as `enginechain verify`, in the page, on
 * the evidence bytes (downloaded from the node, or a local file), trusting the checkpoint key
 * the node publishes at /v1/node. The bundle gives it the noble crypto backend.
 */
import { EvidenceError, verifyEvidence, type VerifiedEvidence } from '@enginechain/shared';
import { h, replace, fmtTime, table } from './dom.js';

export type EvidenceVerdict =
  | { readonly ok: true; readonly result: VerifiedEvidence; readonly ms: number }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/** Never throws for bad evidence: a verdict with the verifier's code and reason. */
export function verdictOf(file: Uint8Array, trustedKey: string | undefined): EvidenceVerdict {
  const started = performance.now();
  try {
    const result = verifyEvidence(file, trustedKey ? { trustedKeys: [trustedKey] } : {});
    return { ok: true, result, ms: performance.now() - started };
  } catch (err) {
    if (err instanceof EvidenceError) return { ok: false, code: err.code, reason: err.message };
    return { ok: false, code: 'malformed', reason: (err as Error).message };
  }
}

export function renderVerdict(into: HTMLElement, v: EvidenceVerdict, fileName: string): void {
  if (!v.ok) {
    replace(
      into,
      h('p', { class: 'verdict bad', 'data-testid': 'verdict' }, 'NOT VERIFIED'),
      h('p', { 'data-testid': 'verdict-reason' }, `${v.code}: ${v.reason}`),
      h('p', { class: 'muted' }, fileName),
    );
    return;
  }
  const r = v.result;
  const dropped = r.gaps.length
    ? r.gaps
        .map((g) => `${g.from}–${g.to}${g.declaredDropped ? ' (declared dropped)' : ''}`)
        .join(', ')
    : 'none';
  replace(
    into,
    h('p', { class: 'verdict ok', 'data-testid': 'verdict' }, 'VERIFIED'),
    h(
      'p',
      { 'data-testid': 'verdict-reason' },
      r.trusted
        ? `Signed by the node's checkpoint key (${r.checkpoint.signers.join(', ')}), every batch signed by device ${r.deviceId} and included in the log.`
        : 'Consistent, but checked only against the key inside the file.',
    ),
    table(
      ['', ''],
      [
        ['File', fileName],
        ['VIN', r.vin],
        ['Request', r.request],
        ['Log', `${r.origin}, tree size ${String(r.checkpoint.treeSize)}`],
        ['Earlier checkpoint', `tree size ${String(r.earlierTreeSize)} (consistency proven)`],
        ['Batches', `${r.batches.length} (seq ${r.batches.map((b) => b.seq).join(', ')})`],
        ['Missing seqs', dropped],
        ['Samples', `${r.samples.length}, ${fmtTime(r.start)} to ${fmtTime(r.end)}`],
        ['Events', r.events.map((e) => e.type).join(', ') || 'none'],
        ['Checked in', `${v.ms.toFixed(0)} ms, in this browser`],
      ],
      { class: 'kv' },
    ),
  );
}

/** A Verify button (for bytes fetched on click) and a verdict area. */
export function verifyButton(
  load: () => Promise<{ bytes: Uint8Array; name: string }>,
  trustedKey: () => Promise<string | undefined>,
): HTMLElement {
  const out = h('div', { class: 'verdict-box', 'data-testid': 'verdict-box' });
  const button = h('button', { type: 'button', 'data-testid': 'verify' }, 'Verify');
  button.addEventListener('click', () => {
    button.disabled = true;
    replace(out, h('p', { class: 'muted' }, 'Downloading and verifying…'));
    void (async () => {
      try {
        const [{ bytes, name }, key] = await Promise.all([load(), trustedKey()]);
        renderVerdict(out, verdictOf(bytes, key), name);
      } catch (err) {
        replace(
          out,
          h('p', { class: 'verdict bad', 'data-testid': 'verdict' }, 'NOT VERIFIED'),
          h('p', { 'data-testid': 'verdict-reason' }, `download failed: ${(err as Error).message}`),
        );
      } finally {
        button.disabled = false;
      }
    })();
  });
  return h('div', {}, button, out);
}

/** A file picker that verifies a local evidence file (say, one an insurer was sent). */
export function verifyFileInput(trustedKey: () => Promise<string | undefined>): HTMLElement {
  const out = h('div', { class: 'verdict-box', 'data-testid': 'file-verdict-box' });
  const input = h('input', {
    type: 'file',
    accept: '.cbor,application/cbor',
    'data-testid': 'evidence-file',
  });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    void (async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      renderVerdict(out, verdictOf(bytes, await trustedKey()), file.name);
    })();
  });
  return h('div', {}, h('label', {}, 'Evidence file ', input), out);
}
