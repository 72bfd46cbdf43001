import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../broker/test-pki.js';
import { brokerListenerSpecs } from './broker-listeners.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.remove());

describe('brokerListenerSpecs (enginechain ingest flags)', () => {
  it('builds mqtts, ws and wss listeners sharing one checked TLS configuration', async () => {
    const specs = await brokerListenerSpecs({
      mqtts: { host: '0.0.0.0', port: 8883 },
      mqttWs: { host: '127.0.0.1', port: 8081 },
      mqttWss: { host: '0.0.0.0', port: 8884 },
      tls: { cert: pki.files.serverCert, key: pki.files.serverKey, clientCa: pki.files.caCert },
    });
    expect(specs.map((s) => [s.kind, s.host, s.port])).toEqual([
      ['mqtts', '0.0.0.0', 8883],
      ['ws', '127.0.0.1', 8081],
      ['wss', '0.0.0.0', 8884],
    ]);
    expect(specs[0]!.tls).toBe(specs[2]!.tls);
    expect(specs[0]!.tls).toMatchObject({ requestCert: true, rejectUnauthorized: true });
    expect(specs[1]!.tls).toBeUndefined();
    expect(await brokerListenerSpecs({})).toEqual([]);
  });

  it('refuses TLS listeners without cert and key, and TLS files without a TLS listener', async () => {
    await expect(brokerListenerSpecs({ mqtts: { host: '127.0.0.1', port: 0 } })).rejects.toMatchObject({ code: 'bad-listener' }); // prettier-ignore
    await expect(brokerListenerSpecs({ mqttWss: { host: '127.0.0.1', port: 0 }, tls: { cert: pki.files.serverCert } })).rejects.toThrow(/--tls-key/); // prettier-ignore
    await expect(brokerListenerSpecs({ mqttWs: { host: '127.0.0.1', port: 0 }, tls: { cert: pki.files.serverCert, key: pki.files.serverKey } })).rejects.toThrow(/need --mqtts or --mqtt-wss/); // prettier-ignore
    await expect(brokerListenerSpecs({ mqtts: { host: '127.0.0.1', port: 0 }, tls: { cert: pki.files.serverCert, key: pki.files.otherClientKey } })).rejects.toMatchObject({ code: 'tls-material' }); // prettier-ignore
  });
});
