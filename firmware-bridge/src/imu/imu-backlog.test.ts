/**
 * What a serial line held before the IMU source opened it is old: over a REAL pty (socat) whose
 * link was kept up with nobody reading, the source must not pass those samples off as current
 * (an IMU sample is dated on arrival). openSerialPort's open discards the kernel's input queue
 * (serialport's tcflush at open); this keeps that so.
 */
import { openPtyPair } from '@enginechain/hardware';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { takeReadings } from '../source/conformance.js';
import { IMU_SIGNALS } from './decoder.js';
import { ImuSource } from './imu-source.js';
import { formatImuLine } from './protocol.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const line = (deviceMs: number, accel: number) =>
  `${formatImuLine({ deviceMs, accelLongitudinalMs2: accel, accelLateralMs2: 0, accelVerticalMs2: 0, yawRateDegS: 0 })}\r\n`;

describe('ImuSource on a line with a backlog', () => {
  it('drops what arrived before open and reads only live samples', async () => {
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    const device = new SerialPort({ path: pty.devicePath, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => device.open((e) => (e ? reject(e) : resolve())));
    device.on('error', () => {});
    cleanups.push(() => new Promise<void>((r) => (device.isOpen ? device.close(() => r()) : r())));

    // Half a second of hard braking that nobody read, held by the pty...
    let text = '';
    for (let t = 0; t < 500; t += 10) text += line(t, -9.5);
    await new Promise<void>((resolve) => device.write(text, () => device.drain(() => resolve())));
    await new Promise((r) => setTimeout(r, 200));
    // ...then the IMU goes on at 100 Hz, cruising.
    let t = 500;
    const timer = setInterval(() => device.write(line((t += 10), 0.25)), 10);
    cleanups.push(async () => clearInterval(timer));

    const source = new ImuSource({ path: pty.hostPath, openTimeoutMs: 2000 });
    cleanups.push(() => source.close());
    await source.open();
    const readings = (await takeReadings(source, 200, 5000)).filter(
      (r) => r.name === IMU_SIGNALS.longitudinal.name,
    );
    expect(readings.length).toBeGreaterThan(20);
    expect(readings.filter((r) => r.value === -9.5)).toEqual([]);
  });
});
