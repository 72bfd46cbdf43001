import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerRefusal, type EmbeddedBroker } from './embedded-broker.js';
import { ALL_BATCHES, batchTopic, deviceOfBatchTopic, receiptTopic } from './topics.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

// The real authenticator verifies device-signed tokens (ingest/src/auth); here a fixed secret
// per device exercises the broker's own job: who may connect, publish and subscribe.
const authenticator = {
  async authenticate(username: string, password: Uint8Array) {
    const expected = `secret-${username}`;
    return Buffer.from(password).toString() === expected
      ? ({ ok: true, deviceId: username } as const)
      : ({ ok: false, code: 'token-bad-signature', reason: 'wrong secret' } as const);
  },
};

function connect(url: string, username: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      username,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3_000,
    });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

describe('embedded broker (aedes) with device ACL', () => {
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  const refusals: BrokerRefusal[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.close();
    refusals.length = 0;
  });

  async function start() {
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      authenticator,
      onRefusal: (kind) => refusals.push(kind),
    });
    return broker;
  }

  it('refuses bad credentials and counts them', async () => {
    const b = await start();
    await expect(connect(b.url, A, 'nope')).rejects.toThrow(/Bad username or password/i);
    await expect(connect(b.url, '', '')).rejects.toThrow();
    expect(refusals).toEqual(['bad-credentials', 'bad-credentials']);
  });

  it('delivers a device’s batch to the node and the node’s receipt to that device only', async () => {
    const b = await start();
    const got: { device: string | undefined; payload: string }[] = [];
    await new Promise<void>((resolve) =>
      b.aedes.subscribe(
        ALL_BATCHES,
        (packet, cb) => {
          got.push({
            device: deviceOfBatchTopic(packet.topic),
            payload: packet.payload.toString(),
          });
          cb();
        },
        resolve,
      ),
    );
    const a = await connect(b.url, A, `secret-${A}`);
    const other = await connect(b.url, B, `secret-${B}`);
    clients.push(a, other);
    await expect.poll(() => b.connectedDevices().sort()).toEqual([A, B]);
    await a.subscribeAsync(receiptTopic(A), { qos: 1 });
    await a.publishAsync(batchTopic(A), 'batch-1', { qos: 1 });
    await expect.poll(() => got).toEqual([{ device: A, payload: 'batch-1' }]);

    const receipts: string[] = [];
    a.on('message', (_t, p) => receipts.push(p.toString()));
    other.on('message', (_t, p) => receipts.push(`LEAK ${p.toString()}`));
    b.aedes.publish(
      { cmd: 'publish', topic: receiptTopic(A), payload: Buffer.from('receipt-1'), qos: 1, retain: false, dup: false },
      () => {},
    ); // prettier-ignore
    await expect.poll(() => receipts).toEqual(['receipt-1']);
  });

  it('refuses a publish to another device’s topic, a retained publish and foreign subscriptions', async () => {
    const b = await start();
    const got: string[] = [];
    await new Promise<void>((resolve) =>
      b.aedes.subscribe(ALL_BATCHES, (p, cb) => (got.push(p.topic), cb()), resolve),
    );
    const a = await connect(b.url, A, `secret-${A}`);
    clients.push(a);
    // SUBACK 0x80 for both: mqtt.js turns the failure codes into an error.
    await expect(a.subscribeAsync([receiptTopic(B), 'ec/v1/#'], { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    // aedes closes the connection of a client whose publish is refused (MQTT 3.1.1 has no
    // negative PUBACK), which is the right answer to a device impersonating another.
    a.publish(batchTopic(B), 'forged', { qos: 1 });
    await expect.poll(() => refusals.filter((r) => r === 'publish-denied').length).toBe(1);
    const a2 = await connect(b.url, A, `secret-${A}`);
    clients.push(a2);
    a2.publish(batchTopic(A), 'retained', { qos: 1, retain: true });
    await expect.poll(() => refusals.filter((r) => r === 'publish-denied').length).toBe(2);
    expect(refusals.filter((r) => r === 'subscribe-denied')).toHaveLength(2);
    expect(got).toEqual([]);
  });
});
