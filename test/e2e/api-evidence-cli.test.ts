/**
 * The API's evidence download is the same evidence `enginechain evidence` writes: the CLI run
 * by an operator on the node's data folder and the owner's download over HTTP carry the same
 * signed batches, device, checkpoint and events, and both verify against the node's key. Only
 * the moment the file was made differs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEvidence, verifyEvidence } from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET, login, startTestFleet } from '../../ingest/src/http/test-fleet.fixture.js';
import { runCli } from '../support/run-cli.js';

let fleet: Awaited<ReturnType<typeof startTestFleet>>;
const out = mkdtempSync(join(tmpdir(), 'enginechain-api-evidence-'));

beforeAll(async () => {
  fleet = await startTestFleet();
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('evidence: API download and CLI', () => {
  it('carry the same signed batches, device, checkpoint and events', async () => {
    const owner = await login(fleet.node.httpUrl, FLEET.owner);
    const events = (await (await owner(`/v1/vehicles/${FLEET.vin}/events`)).json()) as {
      events: { id: number; type: string }[];
    };
    const crash = events.events.find((e) => e.type === 'crash');
    expect(crash).toBeDefined();
    const res = await owner(`/v1/vehicles/${FLEET.vin}/events/${crash?.id}/evidence`);
    expect(res.status).toBe(200);
    const fromApi = new Uint8Array(await res.arrayBuffer());

    const file = join(out, 'crash.cbor');
    const cli = await runCli(
      ['evidence', '--data', fleet.dataDir, '--vin', FLEET.vin, '--event', String(crash?.id), '--out', file],
      { timeoutMs: 30_000 },
    ); // prettier-ignore
    expect(cli.code, cli.stderr).toBe(0);
    const fromCli = new Uint8Array(readFileSync(file));

    const key = (
      (await (await fetch(`${fleet.node.httpUrl}/v1/node`)).json()) as {
        checkpointVerifierKey: string;
      }
    ).checkpointVerifierKey;
    const [a, b] = [fromApi, fromCli].map((f) => verifyEvidence(f, { trustedKeys: [key] }));
    expect(a?.trusted && b?.trusted).toBe(true);
    const { createdAt: _a, ...restA } = a!;
    const { createdAt: _b, ...restB } = b!;
    expect(restA).toEqual(restB);
    const [pa, pb] = [fromApi, fromCli].map((f) => parseEvidence(f));
    expect(pa?.bundle.batches).toEqual(pb?.bundle.batches);
    expect(pa?.bundle.device).toEqual(pb?.bundle.device);
    expect(pa?.bundle.checkpoint).toBe(pb?.bundle.checkpoint);
  }, 60_000);
});
