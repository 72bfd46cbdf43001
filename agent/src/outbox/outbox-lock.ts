import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { OutboxError } from './errors.js';

/**
 * One process per outbox. Two agents on one outbox would sign the same seqs twice (the node
 * quarantines the second as a fork), and `rotate-key` must not replace the key under a running
 * agent. The lock is a file beside the outbox naming the process that holds it: its pid and the
 * time the process started, so a pid reused after a SIGKILL is not taken for the agent. A lock
 * whose process is gone is taken over; the same process may open the outbox again.
 */
export class OutboxLock {
  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {}

  /** Takes the lock of the outbox file at `outboxPath`, or throws OutboxError `in-use`. */
  static acquire(outboxPath: string): OutboxLock {
    const path = `${outboxPath}.lock`;
    const content = `${JSON.stringify(describe(process.pid))}\n`;
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(path, content, { flag: 'wx', mode: 0o644 });
        return new OutboxLock(path, content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new OutboxError('storage', `cannot create ${path}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
      const holder = readHolder(path);
      if (holder && holder.pid !== process.pid && isRunning(holder)) {
        throw new OutboxError(
          'in-use',
          `${outboxPath} is in use by process ${holder.pid} (an agent?): stop it first, e.g. systemctl stop enginechain-agent`,
        );
      }
      // Stale, unreadable, or this process's own: replace it. Two processes racing here both
      // remove it, and only one of them creates it again (wx).
      if (attempt > 0) {
        throw new OutboxError('in-use', `${outboxPath}: another process took ${path} just now`);
      }
      rmSync(path, { force: true });
    }
  }

  /** Removes the lock file if it is still this lock's. */
  release(): void {
    try {
      if (readFileSync(this.path, 'utf8') === this.content) rmSync(this.path, { force: true });
    } catch {
      // Already gone.
    }
  }
}

interface Holder {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (Linux /proc), when known. */
  readonly started: string | null;
}

function describe(pid: number): Holder {
  return { pid, started: startTimeOf(pid) };
}

/** Field 22 of /proc/<pid>/stat, or null where there is no /proc or no such process. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return undefined;
    return { pid: v.pid as number, started: typeof v.started === 'string' ? v.started : null };
  } catch {
    return undefined;
  }
}

function isRunning(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.started === null) return true;
  const now = startTimeOf(holder.pid);
  return now === null || now === holder.started;
}
