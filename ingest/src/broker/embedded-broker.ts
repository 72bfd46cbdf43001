import type { Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { Aedes, type Client, type AuthenticateError } from 'aedes';
import { limitMqttPackets, MAX_MQTT_PACKET_BYTES } from './packet-size-limit.js';
import {
  checkListenerSpec,
  startListener,
  type BrokerListener,
  type BrokerListenerSpec,
} from './listeners.js';
import type { BrokerRefusal, BrokerRefusalDetail, MqttAuthRefusalCode } from './refusals.js';
import { batchTopic, receiptTopic } from './topics.js';

export type { BrokerRefusal, BrokerRefusalDetail } from './refusals.js';

/** Checks a device's MQTT CONNECT credentials (username = device id, password = signed token). */
export interface DeviceAuthenticator {
  authenticate(
    username: string,
    password: Uint8Array,
  ): Promise<
    { ok: true; deviceId: string } | { ok: false; code: MqttAuthRefusalCode; reason: string }
  >;
}

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Makes the main listener mqtts. */
  readonly tls?: TlsOptions;
  /** More listeners on the same broker (mqtts, ws, wss, another mqtt): same auth, same ACL. */
  readonly listeners?: readonly BrokerListenerSpec[];
  /**
   * Allow plaintext listeners (mqtt, ws) on addresses other than loopback. Default false:
   * such a listener is refused with BrokerError `plaintext-refused`.
   */
  readonly allowPlaintext?: boolean;
  readonly authenticator: DeviceAuthenticator;
  /** Called for every refused CONNECT, PUBLISH or SUBSCRIBE, for logs and metrics. */
  readonly onRefusal?: (kind: BrokerRefusal, detail: BrokerRefusalDetail) => void;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** mqtt:// or mqtts:// URL of the main listener. */
  readonly url: string;
  /** Every listener, the main one first. */
  readonly listeners: readonly BrokerListener[];
  /** Device ids with an authenticated connection right now. */
  connectedDevices(): string[];
  /**
   * Closes every session of a device at once and refuses it from now on, on every listener,
   * for the life of this broker (after a restart the store's device status refuses it).
   * Also closes a session that authenticated just before and is not yet ready. Returns how
   * many sessions it closed.
   */
  evictDevice(deviceId: string): number;
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
  const mainListener: BrokerListenerSpec = {
    kind: options.tls ? 'mqtts' : 'mqtt',
    host: options.host,
    port: options.port,
    ...(options.tls ? { tls: options.tls } : {}),
  };
  const specs = [mainListener, ...(options.listeners ?? [])];
  for (const spec of specs) checkListenerSpec(spec, options.allowPlaintext ?? false);

  const deviceOf = new WeakMap<Client, string>();
  const evicted = new Set<string>();
  const refuse = options.onRefusal ?? (() => {});
  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (!username || !password) {
        refuse('bad-credentials', {
          clientId: client.id,
          code: 'missing-credentials',
          reason: 'missing username or password',
        });
        done(authError(BAD_USERNAME_OR_PASSWORD, 'missing credentials'), false);
        return;
      }
      options.authenticator.authenticate(username, new Uint8Array(password)).then(
        (verdict) => {
          if (verdict.ok && evicted.has(verdict.deviceId)) {
            refuse('bad-credentials', {
              clientId: client.id,
              code: 'device-evicted',
              reason: 'device evicted',
            });
            done(authError(NOT_AUTHORIZED, 'device evicted'), false);
          } else if (verdict.ok) {
            deviceOf.set(client, verdict.deviceId);
            done(null, true);
          } else {
            refuse('bad-credentials', {
              clientId: client.id,
              code: verdict.code,
              reason: verdict.reason,
            });
            done(authError(BAD_USERNAME_OR_PASSWORD, verdict.reason), false);
          }
        },
        (err: unknown) => {
          refuse('bad-credentials', {
            clientId: client.id,
            code: 'auth-failed',
            reason: String(err),
          });
          done(authError(NOT_AUTHORIZED, 'authentication failed'), false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      // Publishes from inside the node (client === null) are the node's own receipts.
      if (client === null) return callback(null);
      const device = deviceOf.get(client);
      if (
        device !== undefined &&
        !evicted.has(device) &&
        packet.topic === batchTopic(device) &&
        !packet.retain
      ) {
        return callback(null);
      }
      const reason = `${device ?? client.id} may not publish to ${packet.topic}${packet.retain ? ' (retained)' : ''}`;
      refuse('publish-denied', { clientId: client.id, reason });
      callback(new Error(reason));
    },
    authorizeSubscribe(client, subscription, callback) {
      const device = deviceOf.get(client);
      if (
        device !== undefined &&
        !evicted.has(device) &&
        subscription.topic === receiptTopic(device)
      ) {
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

  // Sessions from registration ('client', right after authentication, before CONNACK) to
  // disconnect, so an eviction also reaches a session whose CONNACK is still on its way.
  const connected = new Map<Client, string>();
  aedes.on('client', (c) => {
    const d = deviceOf.get(c);
    if (d !== undefined) connected.set(c, d);
  });
  aedes.on('clientReady', (c) => {
    // Authenticated just before an eviction that landed while it was being registered.
    const d = deviceOf.get(c);
    if (d !== undefined && evicted.has(d)) c.close();
  });
  aedes.on('clientDisconnect', (c) => connected.delete(c));

  const listeners: BrokerListener[] = [];
  const handle = (
    stream: Parameters<Aedes['handle']>[0],
    request?: Parameters<Aedes['handle']>[1],
  ) => {
    // The peer's address goes into the refusal: it is what a firewall rule would name.
    const from = request?.socket.remoteAddress ?? (stream as Partial<Socket>).remoteAddress;
    const limited = limitMqttPackets(stream, MAX_MQTT_PACKET_BYTES, (reason) =>
      refuse('packet-too-large', { clientId: '', reason: `${reason}, from ${from ?? 'unknown'}` }),
    );
    void aedes.handle(limited, request);
  };
  const closeAll = async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const l of listeners) await l.close();
  };
  try {
    for (const spec of specs) {
      listeners.push(
        await startListener(handle, spec, {
          onTlsError: (err) =>
            refuse('tls-refused', { clientId: '', reason: `${spec.kind}: ${err.message}` }),
        }),
      );
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  return {
    aedes,
    url: listeners[0]!.url,
    listeners,
    connectedDevices: () => [...new Set(connected.values())],
    evictDevice: (deviceId) => {
      evicted.add(deviceId);
      let closed = 0;
      for (const [client, device] of connected) {
        if (device !== deviceId) continue;
        connected.delete(client);
        client.close();
        closed++;
      }
      return closed;
    },
    close: closeAll,
  };
}

function authError(code: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}
