/**
 * A node whose evidence files are capped below what the crash's window holds: the evidence
 * route answers 422 `evidence-too-large` with the sizes, the event itself still reads, and a
 * node cannot be configured above what a verifier reads.
 */
import { MAX_EVIDENCE_BYTES } from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestNode } from '../node/ingest-node.js';
import { FLEET, login, startTestFleet } from './test-fleet.fixture.js';

let fleet: Awaited<ReturnType<typeof startTestFleet>>;
let owner: (path: string, init?: RequestInit) => Promise<Response>;

beforeAll(async () => {
  fleet = await startTestFleet({ maxEvidenceBytes: 4_000 });
  owner = await login(fleet.node.httpUrl, FLEET.owner);
}, 60_000);
afterAll(() => fleet?.close());

describe('evidence beyond the node’s maxEvidenceBytes', () => {
  it('is refused with 422 evidence-too-large, saying how much the window holds', async () => {
    const events = (await (await owner(`/v1/vehicles/${FLEET.vin}/events`)).json()) as { events: { id: number; type: string }[] };
    const crash = events.events.find((e) => e.type === 'crash');
    expect(crash).toBeDefined();
    const res = await owner(`/v1/vehicles/${FLEET.vin}/events/${crash!.id}/evidence`);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('evidence-too-large');
    expect(body.message).toMatch(/event \d+ \(crash\) holds \d+ batches of \d+ bytes; .* at most 50000 batches and 4000 bytes/);
    // The event and its trace are not evidence files: they still answer.
    expect((await owner(`/v1/vehicles/${FLEET.vin}/events/${crash!.id}`)).status).toBe(200);
  }); // prettier-ignore

  it('cannot be set above what a verifier reads, or below one byte', async () => {
    for (const maxEvidenceBytes of [MAX_EVIDENCE_BYTES + 1, 0, 1.5])
      await expect(IngestNode.start({ dataDir: fleet.dataDir, maxEvidenceBytes })).rejects.toThrow(/maxEvidenceBytes/);
  }); // prettier-ignore
});
