import type { TlsOptions } from 'node:tls';
import { BrokerError } from '../broker/errors.js';
import type { BrokerListenerSpec } from '../broker/listeners.js';
import { brokerTlsOptions } from '../broker/tls-material.js';

type HostPort = { readonly host: string; readonly port: number };

export interface BrokerListenerFlags {
  readonly mqtts?: HostPort;
  readonly mqttWs?: HostPort;
  readonly mqttWss?: HostPort;
  readonly tls?: { readonly cert?: string; readonly key?: string; readonly clientCa?: string };
}

/**
 * The extra embedded-broker listeners from `enginechain ingest` flags or config: the TLS files
 * are read and checked once, here, and shared by mqtts and wss.
 */
export async function brokerListenerSpecs(f: BrokerListenerFlags): Promise<BrokerListenerSpec[]> {
  const wantsTls = f.mqtts !== undefined || f.mqttWss !== undefined;
  if (!wantsTls && (f.tls?.cert || f.tls?.key || f.tls?.clientCa))
    throw new BrokerError(
      'bad-listener',
      '--tls-cert/--tls-key/--tls-client-ca need --mqtts or --mqtt-wss',
    );
  let tls: TlsOptions | undefined;
  if (wantsTls) {
    if (!f.tls?.cert || !f.tls.key)
      throw new BrokerError('bad-listener', '--mqtts and --mqtt-wss need --tls-cert and --tls-key');
    tls = await brokerTlsOptions({
      certFile: f.tls.cert,
      keyFile: f.tls.key,
      ...(f.tls.clientCa ? { clientCaFile: f.tls.clientCa } : {}),
    });
  }
  const specs: BrokerListenerSpec[] = [];
  if (f.mqtts) specs.push({ kind: 'mqtts', ...f.mqtts, tls: tls as TlsOptions });
  if (f.mqttWs) specs.push({ kind: 'ws', ...f.mqttWs });
  if (f.mqttWss) specs.push({ kind: 'wss', ...f.mqttWss, tls: tls as TlsOptions });
  return specs;
}
