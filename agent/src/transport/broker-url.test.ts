import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseBrokerUrl } from './broker-url.js';
import { TRANSPORT_ERROR_CODES, TransportError, type TransportErrorCode } from './errors.js';
import { deviceTopics } from './topics.js';

const codeOf = (fn: () => unknown): TransportErrorCode | 'no error' => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TransportError) return err.code;
    throw err;
  }
  return 'no error';
};

describe('parseBrokerUrl', () => {
  it.each([
    ['mqtt://127.0.0.1:1883', 'mqtt', false, true],
    ['mqtt://127.8.9.10', 'mqtt', false, true],
    ['mqtt://localhost:1883', 'mqtt', false, true],
    ['ws://[::1]:8080/mqtt', 'ws', false, true],
    ['mqtt://[0:0:0:0:0:0:0:1]:1883', 'mqtt', false, true],
    ['mqtts://ingest.example.org:8883', 'mqtts', true, false],
    ['wss://ingest.example.org/mqtt', 'wss', true, false],
  ])('accepts %s', (url, scheme, tls, loopback) => {
    expect(parseBrokerUrl(url)).toMatchObject({ url, scheme, tls, loopback });
  });

  it.each([
    'mqtt://192.0.2.10:1883',
    'mqtt://10.0.0.1',
    'ws://ingest.example.org/mqtt',
    'mqtt://[::ffff:127.0.0.1]:1883', // IPv4-mapped: not treated as loopback, to be safe
    'mqtt://127.0.0.1.example.org',
    'mqtt://localhost.example.org',
  ])('refuses plaintext to %s unless allowPlaintext', (url) => {
    expect(codeOf(() => parseBrokerUrl(url))).toBe('plaintext-refused');
    expect(parseBrokerUrl(url, true).tls).toBe(false);
  });

  it.each(['http://ingest.example.org', 'tcp://127.0.0.1:1883', 'not a url', 'mqtt://'])(
    'refuses %s as unsupported',
    (url) => {
      expect(codeOf(() => parseBrokerUrl(url))).toBe('unsupported-url');
    },
  );

  it('refuses a non-string', () => {
    expect(codeOf(() => parseBrokerUrl(5 as never))).toBe('bad-input');
  });

  it('knows loopback hosts', () => {
    expect(['localhost', '127.0.0.1', '127.255.0.1', '[::1]', '::1'].every(isLoopbackHost)).toBe(
      true,
    );
    expect(['128.0.0.1', 'example.org', '::2', ''].some(isLoopbackHost)).toBe(false);
  });
});

describe('device topics and transport errors', () => {
  it('names the three topics of a device', () => {
    expect(deviceTopics('00112233445566778899aabbccddeeff')).toEqual({
      batch: 'ec/v1/00112233445566778899aabbccddeeff/batch',
      receipt: 'ec/v1/00112233445566778899aabbccddeeff/receipt',
      control: 'ec/v1/00112233445566778899aabbccddeeff/control',
    });
  });

  it('has one message per error code', () => {
    for (const code of Object.keys(TRANSPORT_ERROR_CODES) as TransportErrorCode[]) {
      expect(new TransportError(code).message).toBe(TRANSPORT_ERROR_CODES[code]);
    }
  });
});
