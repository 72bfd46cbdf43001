import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client, type AuthenticateError } from 'aedes';
import { batchTopic, receiptTopic } from './topics.js';

/** Checks a device's MQTT CONNECT credentials (username = device id, password = signed token). */
export interface DeviceAuthenticator {
  authenticate(
    username: string,
    password: Uint8Array,
  ): Promise<{ ok: true; deviceId: string } | { ok: false; reason: string }>;
}

export type BrokerRefusal = 'bad-credentials' | 'publish-denied' | 'subscribe-denied';

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: TlsOptions;
  readonly authenticator: DeviceAuthenticator;
  /** Called for every refused CONNECT, PUBLISH or SUBSCRIBE, for logs and metrics. */
  readonly onRefusal?: (kind: BrokerRefusal, detail: { clientId: string; reason: string }) => void;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** mqtt:// or mqtts:// URL the broker listens on. */
  readonly url: string;
  /** Device ids with an authenticated connection right now. */
  connectedDevices(): string[];
  close(): Promise<void>;
}

const NOT_AUTHORIZED = 5;
const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * aedes inside the node: devices authenticate with a signed token, and the ACL is enforced
 * here rather than trusted to configuration. aedes 1.2 speaks MQTT 3.1.1 only; devices fall
 * back to it (agent transport).
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const deviceOf = new WeakMap<Client, string>();
  const refuse = options.onRefusal ?? (() => {});
  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (!username || !password) {
        refuse('bad-credentials', { clientId: client.id, reason: 'missing username or password' });
        done(authError(BAD_USERNAME_OR_PASSWORD, 'missing credentials'), false);
        return;
      }
      options.authenticator.authenticate(username, new Uint8Array(password)).then(
        (verdict) => {
          if (verdict.ok) {
            deviceOf.set(client, verdict.deviceId);
            done(null, true);
          } else {
            refuse('bad-credentials', { clientId: client.id, reason: verdict.reason });
            done(authError(BAD_USERNAME_OR_PASSWORD, verdict.reason), false);
          }
        },
        (err: unknown) => {
          refuse('bad-credentials', { clientId: client.id, reason: String(err) });
          done(authError(NOT_AUTHORIZED, 'authentication failed'), false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      // Publishes from inside the node (client === null) are the node's own receipts.
      if (client === null) return callback(null);
      const device = deviceOf.get(client);
      if (device !== undefined && packet.topic === batchTopic(device) && !packet.retain) {
        return callback(null);
      }
      const reason = `${device ?? client.id} may not publish to ${packet.topic}${packet.retain ? ' (retained)' : ''}`;
      refuse('publish-denied', { clientId: client.id, reason });
      callback(new Error(reason));
    },
    authorizeSubscribe(client, subscription, callback) {
      const device = deviceOf.get(client);
      if (device !== undefined && subscription.topic === receiptTopic(device)) {
        return callback(null, subscription);
      }
      refuse('subscribe-denied', {
        clientId: client.id,
        reason: `${device ?? client.id} may not subscribe to ${subscription.topic}`,
      });
      // A null subscription makes aedes answer SUBACK 0x80 (failure) instead of dropping the client.
      callback(null, null);
    },
  });

  const server: NetServer = options.tls
    ? createTlsServer(options.tls, aedes.handle)
    : createNetServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const connected = new Map<Client, string>();
  aedes.on('clientReady', (c) => {
    const d = deviceOf.get(c);
    if (d !== undefined) connected.set(c, d);
  });
  aedes.on('clientDisconnect', (c) => connected.delete(c));

  return {
    aedes,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    connectedDevices: () => [...new Set(connected.values())],
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function authError(code: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}
