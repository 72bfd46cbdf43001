/** ImuSource over a REAL pseudo-terminal (socat), fed at 100 Hz like the IMU's UART. */
import { openPtyPair } from '@enginechain/hardware';
import { SerialPort } from 'serialport';
import { describe, expect, it } from 'vitest';
import { signalSourceConformance, takeReadings } from '../source/conformance.js';
import { IMU_SIGNALS } from './decoder.js';
import { ImuSource } from './imu-source.js';
import { formatImuLine } from './protocol.js';

async function startImuDevice(devicePath: string, rateHz = 100) {
  const port = new SerialPort({ path: devicePath, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('error', () => {});
  const bootMs = Date.now();
  const timer = setInterval(() => {
    if (port.writableLength > 4096) return;
    const t = Date.now() - bootMs;
    // A car pulling away while turning left: values the test can recognise.
    port.write(
      `${formatImuLine({ deviceMs: t, accelLongitudinalMs2: 1.2, accelLateralMs2: 0.8, accelVerticalMs2: 0.05, yawRateDegS: 6.5 })}\r\n`,
    );
  }, 1000 / rateHz);
  return {
    async stop() {
      clearInterval(timer);
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    },
  };
}

async function fixture() {
  const pty = await openPtyPair();
  const device = await startImuDevice(pty.devicePath);
  return {
    source: new ImuSource({ path: pty.hostPath, openTimeoutMs: 2000 }),
    async teardown() {
      await device.stop();
      await pty.close();
    },
  };
}

signalSourceConformance('ImuSource over a pty at 100 Hz', fixture);

describe('ImuSource', () => {
  it('delivers the four signals at about the device rate, timed near the host clock', async () => {
    const f = await fixture();
    try {
      await f.source.open();
      const start = Date.now();
      const readings = await takeReadings(f.source, 4 * 50);
      const elapsed = Date.now() - start;
      expect(readings.length).toBe(200);
      const yaw = readings.filter((r) => r.name === IMU_SIGNALS.yaw.name);
      expect(yaw.length).toBe(50);
      expect(yaw.every((r) => r.value === 6.5 && r.unit === 'degrees/s')).toBe(true);
      // 50 samples at 100 Hz: about half a second (timers on a loaded machine run late).
      expect(elapsed).toBeGreaterThan(200);
      for (const r of readings) expect(Math.abs(r.time - Date.now())).toBeLessThan(3000);
      expect(f.source.stats?.invalid).toEqual({ framing: 0, checksum: 0, field: 0 });
    } finally {
      await f.source.close();
      await f.teardown();
    }
  });
});
