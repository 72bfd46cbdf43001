import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemdNotifier } from './systemd-notify.js';

// A real AF_UNIX datagram socket standing in for systemd's notify socket (Node cannot open
// one itself, python3 can); the message is sent by the real systemd-notify binary.
const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    data = s.recv(4096)
    print(data.decode().replace("\\n", " "), flush=True)
`;

function notifySocket() {
  const dir = mkdtempSync(join(tmpdir(), 'enginechain-notify-'));
  const path = join(dir, 'notify.sock');
  const child = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let onLine: () => void = () => {};
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    lines.push(...d.split('\n').filter(Boolean));
    onLine();
  });
  const waitFor = (pred: (l: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout; got ${lines.join(' | ')}`)), 5_000);
      const check = () => {
        const hit = lines.find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        }
      };
      onLine = check;
      check();
    });
  return {
    path,
    waitFor,
    close() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('SystemdNotifier', () => {
  let sock: ReturnType<typeof notifySocket> | undefined;
  afterEach(() => sock?.close());

  it('is a no-op outside systemd', async () => {
    const n = new SystemdNotifier({});
    expect(n.enabled).toBe(false);
    await n.ready();
    expect(n.watchdogMs).toBeUndefined();
  });

  it('sends READY=1 with a status through systemd-notify to NOTIFY_SOCKET', async () => {
    sock = notifySocket();
    await sock.waitFor((l) => l === 'ready');
    const n = new SystemdNotifier({ ...process.env, NOTIFY_SOCKET: sock.path });
    await n.ready('sampling 3 sources');
    const msg = await sock.waitFor((l) => l.includes('READY=1'));
    expect(msg).toContain('STATUS=sampling 3 sources');
  });

  it('pets the watchdog at half WATCHDOG_USEC while healthy', async () => {
    sock = notifySocket();
    await sock.waitFor((l) => l === 'ready');
    const n = new SystemdNotifier({
      ...process.env,
      NOTIFY_SOCKET: sock.path,
      WATCHDOG_USEC: '200000',
      WATCHDOG_PID: String(process.pid),
    });
    expect(n.watchdogMs).toBe(200);
    n.startWatchdog(() => true);
    await sock.waitFor((l) => l.includes('WATCHDOG=1'));
    await n.stopping();
    await sock.waitFor((l) => l.includes('STOPPING=1'));
  });

  it('ignores a watchdog meant for another process', () => {
    const n = new SystemdNotifier({
      NOTIFY_SOCKET: '/x',
      WATCHDOG_USEC: '1000',
      WATCHDOG_PID: '1',
    });
    expect(n.watchdogMs).toBeUndefined();
  });
});
