/**
 * SocketCAN needs a CAN network interface. This development kernel has no `vcan` module (no
 * `ip link add vcan0 type vcan`), so what can run here is: the native package loads, a missing
 * interface gives a clear `no-adapter`, bad
 * arguments are refused. Frames over a real interface are pending (it.skip) with the reason.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../source/errors.js';
import { SocketCanSource, loadSocketCan } from './socketcan-source.js';

function hasVcan(): boolean {
  try {
    return execFileSync('ip', ['-details', 'link', 'show', 'type', 'vcan'], {
      encoding: 'utf8',
    }).includes('vcan');
  } catch {
    return false;
  }
}

describe('SocketCanSource', () => {
  it('loads the optional native socketcan package lazily', async () => {
    const mod = await loadSocketCan();
    expect(typeof mod.createRawChannelWithOptions).toBe('function');
  });

  it('rejects a missing interface with no-adapter and says what to check', async () => {
    const source = new SocketCanSource({ interface: 'nocan7' });
    const err = await source.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect((err as AdapterError).code).toBe('no-adapter');
    expect((err as AdapterError).message).toContain('ip link show nocan7');
    expect(source.isOpen).toBe(false);
    await source.close();
    await source.close();
  });

  it('refuses interface names the kernel would not accept', () => {
    for (const name of ['', 'a'.repeat(16), 'can 0', '../x']) {
      expect(() => new SocketCanSource({ interface: name })).toThrow(AdapterError);
    }
  });

  // Pending: needs `modprobe vcan && ip link add vcan0 type vcan && ip link set vcan0 up`,
  // which this kernel cannot do (no vcan module, no CAP_NET_ADMIN). Runs when vcan0 exists.
  it.skipIf(!hasVcan())('sends and receives frames on vcan0 (needs a vcan interface)', async () => {
    const a = new SocketCanSource({ interface: 'vcan0' });
    const b = new SocketCanSource({ interface: 'vcan0' });
    await a.open();
    await b.open();
    const it = b.frames()[Symbol.asyncIterator]();
    await a.send({
      id: 0x0b4,
      extended: false,
      rtr: false,
      fd: false,
      data: new Uint8Array([1, 2, 3]),
      time: 0,
    });
    const got = await it.next();
    expect(got.done).toBe(false);
    expect(got.value).toMatchObject({ id: 0x0b4, data: new Uint8Array([1, 2, 3]) });
    await a.close();
    await b.close();
  });
});
