/**
 * Test support (not exported from the package): a throwaway PKI made with the openssl CLI for
 * the TLS listener tests. A CA, a server certificate for 127.0.0.1/localhost, a device client
 * certificate, and a second, unrelated CA with its own client certificate (the "wrong CA").
 * EC P-256 keys, so making one takes a few tens of milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** File paths. */
  readonly files: {
    readonly caCert: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
    readonly otherCaCert: string;
    readonly otherClientCert: string;
    readonly otherClientKey: string;
  };
  /** PEM text of the same files. */
  readonly pem: Readonly<Record<keyof TestPki['files'], string>>;
  remove(): void;
}

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = enginechain-test
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

/** `clientCommonName`: the CN of the device client certificate (default `device`). */
export function makeTestPki({
  clientCommonName = 'device',
}: { clientCommonName?: string } = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'enginechain-pki-'));
  const cnf = join(dir, 'openssl.cnf');
  writeFileSync(cnf, CONFIG);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = (name: string) =>
    ssl('req', '-x509', '-new', '-config', cnf, '-extensions', 'ca_ext', ...newKey,
      '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`); // prettier-ignore
  const leaf = (name: string, signer: string, ext: string, cn: string) => {
    ssl('req', '-new', '-config', cnf, ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`); // prettier-ignore
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`,
      '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', cnf, '-extensions', ext); // prettier-ignore
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'ca', 'server_ext', 'localhost');
  leaf('client', 'ca', 'client_ext', clientCommonName);
  leaf('other-client', 'other-ca', 'client_ext', 'device');
  const files = {
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    otherCaCert: join(dir, 'other-ca.crt'),
    otherClientCert: join(dir, 'other-client.crt'),
    otherClientKey: join(dir, 'other-client.key'),
  };
  const pem = Object.fromEntries(
    Object.entries(files).map(([k, p]) => [k, readFileSync(p, 'utf8')]),
  ) as Record<keyof typeof files, string>;
  return { dir, files, pem, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
