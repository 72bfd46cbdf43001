import { describe, expect, it } from 'vitest';
import { ReadingColumns } from './reading-columns.js';

const speed = (time: number, value: number) => ({
  name: 'Vehicle.Speed',
  value,
  unit: 'km/h',
  time,
});

describe('ReadingColumns', () => {
  it('gives back what was pushed, oldest first, growing by doubling', () => {
    const c = new ReadingColumns(100_000);
    for (let t = 0; t < 5_000; t++) c.push(speed(t, t / 10));
    expect(c.length).toBe(5_000);
    expect(c.capacity).toBe(8_192);
    expect(c.at(0)).toEqual(speed(0, 0));
    expect(c.at(4_999)).toEqual(speed(4_999, 499.9));
    expect(c.timeAt(1_234)).toBe(1_234);
  });

  it('keeps values that are not numbers and the unit each reading came with, across wraps', () => {
    const c = new ReadingColumns(4);
    c.push({ name: 'Vehicle.OBD.DTCList', value: 'P0301', unit: '', time: 1 });
    c.push(speed(2, 12.5));
    c.push({ name: 'Vehicle.Body.Lights.IsBrakeOn', value: true, unit: '', time: 3 });
    c.push({ name: 'Vehicle.Speed', value: 3.5, unit: 'm/s', time: 4 });
    // Full: the string in the oldest slot is overwritten by a number and must not come back.
    c.push(speed(5, 13));
    expect(Array.from({ length: c.length }, (_, i) => c.at(i))).toEqual([
      speed(2, 12.5),
      { name: 'Vehicle.Body.Lights.IsBrakeOn', value: true, unit: '', time: 3 },
      { name: 'Vehicle.Speed', value: 3.5, unit: 'm/s', time: 4 },
      speed(5, 13),
    ]);
  });

  it('keeps order and odd values when it grows while wrapped', () => {
    const c = new ReadingColumns(10_000);
    for (let t = 0; t < 1_024; t++) c.push(speed(t, t));
    for (let i = 0; i < 1_000; i++) c.dropOldest();
    c.push({ name: 'Vehicle.Powertrain.Transmission.SelectedGear', value: 'D', unit: '', time: 1_024 }); // prettier-ignore
    for (let t = 1_025; t < 2_100; t++) c.push(speed(t, t));
    expect(c.length).toBe(1_100);
    expect(c.at(0)).toEqual(speed(1_000, 1_000));
    expect(c.at(24).value).toBe('D');
    expect(c.at(1_099)).toEqual(speed(2_099, 2_099));
  });

  it('drops the oldest, clears, and refuses indices it does not hold', () => {
    const c = new ReadingColumns(8);
    c.push({ name: 'Vehicle.OBD.DTCList', value: 'P0420', unit: '', time: 1 });
    c.push(speed(2, 2));
    c.dropOldest();
    expect(c.at(0)).toEqual(speed(2, 2));
    expect(() => c.at(1)).toThrow(RangeError);
    c.clear();
    expect(c.length).toBe(0);
    c.dropOldest();
    expect(c.length).toBe(0);
    expect(() => c.at(0)).toThrow(RangeError);
    expect(() => new ReadingColumns(0)).toThrow(RangeError);
  });
});
