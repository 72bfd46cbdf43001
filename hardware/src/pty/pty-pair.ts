import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Two linked pseudo-terminals made by socat: bytes written to one end are read at the other,
 * with the same termios behaviour a USB serial adapter has. The simulator opens `devicePath`,
 * the software under test opens `hostPath` as if it were /dev/ttyUSB0.
 */
export interface PtyPair {
  /** The end the emulated device (ELM327, SLCAN, GNSS receiver) opens. */
  readonly devicePath: string;
  /** The end the client (agent, `enginechain obd`) opens. */
  readonly hostPath: string;
  /** Stops socat; both paths disappear. Idempotent. */
  close(): Promise<void>;
}

export class PtyError extends Error {
  override readonly name = 'PtyError';
}

/**
 * Starts `socat` and resolves once both pty links exist. Needs Debian's socat and util-linux's
 * setpriv on PATH.
 */
export async function openPtyPair(
  options: { dir?: string; timeoutMs?: number } = {},
): Promise<PtyPair> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'enginechain-pty-'));
  const devicePath = join(dir, 'device');
  const hostPath = join(dir, 'host');
  let child: ChildProcess;
  try {
    // setpriv (util-linux) execs socat with a parent-death signal: when this process is killed
    // outright (SIGKILL, a crash) socat goes too, instead of holding the ptys for good.
    child = spawn(
      'setpriv',
      ['--pdeathsig', 'SIGTERM', 'socat', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ); // prettier-ignore
  } catch (err) {
    throw new PtyError('cannot start socat (apt-get install socat util-linux)', { cause: err });
  }
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(
        new PtyError(
          `cannot start setpriv/socat (apt-get install socat util-linux): ${err.message}`,
          { cause: err },
        ),
      ),
    ),
  );

  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  const ready = (async () => {
    while (!(existsSync(devicePath) && existsSync(hostPath))) {
      if (child.exitCode !== null) throw new PtyError(`socat exited: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new PtyError('socat did not create the pty pair in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await Promise.race([ready, spawnError]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  // socat ends when the last process holding the host side closes it (EIO on the master), so
  // a client that is killed would unplug the emulated adapter for good. Holding one descriptor
  // open here, never read, keeps the link up across client restarts as a real USB adapter does;
  // it takes no data from the client.
  let hold: number | undefined;
  try {
    hold = openSync(hostPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch {
    hold = undefined;
  }

  let closed = false;
  return {
    devicePath,
    hostPath,
    async close() {
      if (closed) return;
      closed = true;
      if (hold !== undefined) closeSync(hold);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
