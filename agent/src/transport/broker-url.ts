import { isIP } from 'node:net';
import { TransportError } from './errors.js';

export interface BrokerEndpoint {
  readonly url: string;
  readonly scheme: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  readonly host: string;
  /** TLS (mqtts, wss) protects the link; mqtt and ws are plaintext. */
  readonly tls: boolean;
  readonly loopback: boolean;
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine (hosts as URL parses them). */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  // WHATWG URL parsing has already compressed 0:0:0:0:0:0:0:1 to ::1.
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/**
 * Parses the ingest broker URL. Plaintext to anything but loopback is refused unless
 * `allowPlaintext`: the batches are signed, but the MQTT password (a signed token) and the
 * driving data itself would cross the network readable by anyone on the path.
 */
export function parseBrokerUrl(url: string, allowPlaintext = false): BrokerEndpoint {
  if (typeof url !== 'string') throw new TransportError('bad-input', 'url: expected a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TransportError('unsupported-url', `url: cannot parse ${JSON.stringify(url)}`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'mqtt' && scheme !== 'mqtts' && scheme !== 'ws' && scheme !== 'wss') {
    throw new TransportError('unsupported-url', `url: scheme ${scheme}: is not mqtt(s) or ws(s)`);
  }
  if (parsed.hostname === '') throw new TransportError('unsupported-url', 'url: no host');
  const tls = scheme === 'mqtts' || scheme === 'wss';
  const loopback = isLoopbackHost(parsed.hostname);
  if (!tls && !loopback && !allowPlaintext) {
    throw new TransportError(
      'plaintext-refused',
      `url: ${scheme}:// to ${parsed.hostname} is plaintext; use ${scheme}s:// or set allowPlaintext`,
    );
  }
  return { url, scheme, host: parsed.hostname, tls, loopback };
}
