import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TlsOptions } from 'node:tls';
import { BrokerError } from './errors.js';

export interface BrokerTlsFiles {
  /** PEM server certificate, optionally followed by its intermediates. */
  readonly certFile: string;
  /** PEM private key of the certificate. */
  readonly keyFile: string;
  /**
   * PEM CA certificate(s). When given, every device must present a client certificate
   * signed by one of them (mutual TLS), on top of its signed MQTT token.
   */
  readonly clientCaFile?: string;
}

async function read(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BrokerError('tls-material', `${what} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function parse<T>(what: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new BrokerError('tls-material', `${what} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Reads and checks the TLS files of the mqtts and wss listeners, so a wrong path or a key
 * that does not match its certificate stops the node at startup, not at the first device.
 */
export async function brokerTlsOptions(files: BrokerTlsFiles): Promise<TlsOptions> {
  const cert = await read(files.certFile, 'tls cert');
  const key = await read(files.keyFile, 'tls key');
  const x509 = parse('tls cert', files.certFile, () => new X509Certificate(cert));
  const privateKey = parse('tls key', files.keyFile, () => createPrivateKey(key));
  if (!x509.checkPrivateKey(privateKey))
    throw new BrokerError(
      'tls-material',
      `tls key ${files.keyFile} does not belong to certificate ${files.certFile}`,
    );
  const options: TlsOptions = { cert, key, minVersion: 'TLSv1.2' };
  if (files.clientCaFile === undefined) return options;
  const ca = await read(files.clientCaFile, 'tls client CA');
  parse('tls client CA', files.clientCaFile, () => new X509Certificate(ca));
  return { ...options, ca, requestCert: true, rejectUnauthorized: true };
}
