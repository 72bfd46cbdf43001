import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutboxStore } from './outbox-store.js';
import { startAppendLoop } from './test-batches.js';

const DEVICE = '0123456789abcdef0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'outbox-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `outbox-${n++}.db`);
const open = (path: string) => OutboxStore.open({ path, deviceId: DEVICE, quotaBytes: 1 << 20 });
describe('one process per outbox (outbox-lock)', () => {
  it('refuses an outbox another live process has open, and takes it over once that one died', async () => {
    const path = freshPath();
    const other = await startAppendLoop(path, DEVICE, 7);
    try {
      expect(() => open(path)).toThrow(
        expect.objectContaining({
          code: 'in-use',
          message: expect.stringMatching(/in use by process \d+/),
        }),
      );
    } finally {
      expect((await other.kill()).signal).toBe('SIGKILL');
    }
    // The killed process left its lock file behind: stale, so it is taken over.
    expect(existsSync(`${path}.lock`)).toBe(true);
    const store = open(path);
    expect(store.chainHead().nextSeq).toBeGreaterThanOrEqual(other.startSeq);
    store.close();
  }, 30_000);

  it('removes its lock on close; the same process may open the outbox again', () => {
    const path = freshPath();
    const first = open(path);
    const lock = JSON.parse(readFileSync(`${path}.lock`, 'utf8')) as { pid: number };
    expect(lock.pid).toBe(process.pid);
    const second = open(path);
    second.close();
    first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    open(path).close();
  });

  it('takes over a lock naming a live pid that started at another time (a reused pid) or unreadable', () => {
    for (const content of [
      JSON.stringify({ pid: process.ppid, started: 'not-its-start-time' }),
      'garbage',
      JSON.stringify({ pid: -1 }),
    ]) {
      const path = freshPath();
      writeFileSync(`${path}.lock`, content);
      open(path).close();
      expect(existsSync(`${path}.lock`)).toBe(false);
    }
  });
});
