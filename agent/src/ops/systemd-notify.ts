import { execFile } from 'node:child_process';

/**
 * sd_notify for the agent's systemd unit (Type=notify, WatchdogSec). Node has no unix datagram
 * sockets, so the message goes through systemd's own `systemd-notify` tool; the unit therefore
 * sets NotifyAccess=all (the sender is a child process, not the main PID).
 * Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
 */
export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly command = 'systemd-notify',
  ) {}

  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /** Watchdog interval systemd asked for (WATCHDOG_USEC), in ms; undefined when none. */
  get watchdogMs(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    const pid = this.env.WATCHDOG_PID;
    if (pid && Number(pid) !== process.pid) return undefined;
    return usec / 1_000;
  }

  notify(...assignments: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise((resolve, reject) => {
      execFile(
        this.command,
        [`--pid=${process.pid}`, ...assignments],
        { env: this.env, timeout: 5_000 },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  ready(status?: string): Promise<void> {
    return this.notify('READY=1', ...(status ? [`STATUS=${status}`] : []));
  }

  /**
   * Pets the watchdog at half the interval systemd set, but only while `healthy()` says the
   * pipeline is alive, so a wedged agent is restarted instead of being kept on life support.
   */
  startWatchdog(healthy: () => boolean, onError: (err: unknown) => void = () => {}): void {
    const interval = this.watchdogMs;
    if (interval === undefined || this.timer) return;
    this.timer = setInterval(() => {
      if (healthy()) this.notify('WATCHDOG=1').catch(onError);
    }, interval / 2);
    this.timer.unref();
  }

  stopping(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.notify('STOPPING=1');
  }
}
