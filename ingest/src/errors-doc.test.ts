import { readFileSync } from 'node:fs';
import { EVIDENCE_ERROR_CODES, WIRE_FORMAT_ERROR_CODES } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { BROKER_ERROR_CODES } from './broker/errors.js';
import { BROKER_REFUSALS, MQTT_AUTH_REFUSAL_CODES } from './broker/refusals.js';
import { OPERATOR_CLIENT_ERROR_CODES } from './cli/device-admin.js';
import { DEVICE_ADMIN_ERRORS } from './devices/errors.js';
import { EVIDENCE_REQUEST_ERROR_CODES } from './evidence/evidence-builder.js';
import { HTTP_ERRORS } from './http/errors.js';
import { INGEST_REJECTION_CODES, isWireFormatCode } from './pipeline/rejections.js';
import { NODE_KEY_ERROR_CODES } from './sidechain/node-keys.js';
import { SIDECHAIN_ERROR_CODES } from './sidechain/sidechain.js';

/** docs/errors.md's big table: area → code → its answer column. */
function documented(): Map<string, Map<string, string>> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const out = new Map<string, Map<string, string>>();
  for (const m of text.matchAll(/^\| ([a-z-]+) \| `([a-z-]+)` \| ([^|]+) \|/gm)) {
    const [, area, code, answer] = m as unknown as [string, string, string, string];
    if (!out.has(area)) out.set(area, new Map());
    expect(out.get(area)!.has(code), `${area} ${code} twice`).toBe(false);
    out.get(area)!.set(code, answer.trim());
  }
  return out;
}

// One table per area in the code; the page must name exactly those codes, area by area.
const areas: Record<string, readonly string[]> = {
  wire: Object.keys(WIRE_FORMAT_ERROR_CODES),
  pipeline: Object.keys(INGEST_REJECTION_CODES).filter((c) => !isWireFormatCode(c)),
  'mqtt-auth': Object.keys(MQTT_AUTH_REFUSAL_CODES),
  broker: BROKER_REFUSALS,
  'broker-config': Object.keys(BROKER_ERROR_CODES),
  http: Object.keys(HTTP_ERRORS),
  operator: Object.keys(DEVICE_ADMIN_ERRORS),
  'operator-cli': Object.keys(OPERATOR_CLIENT_ERROR_CODES),
  evidence: Object.keys(EVIDENCE_REQUEST_ERROR_CODES),
  verify: Object.keys(EVIDENCE_ERROR_CODES),
  'node-keys': Object.keys(NODE_KEY_ERROR_CODES),
  sidechain: Object.keys(SIDECHAIN_ERROR_CODES),
};

describe('docs/errors.md', () => {
  const doc = documented();

  it('lists every code of every area, and no other', () => {
    expect([...doc.keys()].sort()).toEqual(Object.keys(areas).sort());
    for (const [area, codes] of Object.entries(areas))
      expect([...doc.get(area)!.keys()].sort(), area).toEqual([...codes].sort());
  });

  it('gives the HTTP status each HTTP code is sent with', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS))
      expect(doc.get('http')!.get(code), code).toBe(String(status));
    for (const [code, { status }] of Object.entries(DEVICE_ADMIN_ERRORS))
      expect(doc.get('operator')!.get(code), code).toBe(String(status));
  });
});
