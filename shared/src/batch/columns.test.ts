import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { columnsFromSamples, sampleCount, samplesFromColumns } from './columns.js';
import type { BatchSample } from './types.js';

const T0 = 1_700_000_000_000;

describe('columns from samples', () => {
  it('picks the smallest exact decimal exponent per column, else float64', () => {
    const samples: BatchSample[] = [
      { name: 'Vehicle.Speed', unit: 'km/h', time: T0, value: 12.3 },
      { name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 100, value: 12.35 },
      { name: 'Vehicle.Powertrain.CombustionEngine.Speed', unit: 'rpm', time: T0, value: 1500 },
      { name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees', time: T0, value: 34.0522342 },
      { name: 'Vehicle.Acceleration.Longitudinal', unit: 'm/s^2', time: T0, value: 0.1 + 0.2 },
      { name: 'Vehicle.OBD.DTCList', unit: 'string', time: T0, value: 'P0301' },
      { name: 'Vehicle.IsMoving', unit: 'boolean', time: T0, value: true },
    ];
    const byName = Object.fromEntries(
      columnsFromSamples(samples, T0).map((c) => [c.name, c.values]),
    );
    expect(byName['Vehicle.Speed']).toEqual({
      type: 'scaled',
      exponent: -2,
      integers: [1230, 1235],
    });
    expect(byName['Vehicle.Powertrain.CombustionEngine.Speed']).toEqual({
      type: 'scaled',
      exponent: 0,
      integers: [1500],
    });
    expect(byName['Vehicle.CurrentLocation.Latitude']).toEqual({
      type: 'scaled',
      exponent: -7,
      integers: [340522342],
    });
    expect(byName['Vehicle.Acceleration.Longitudinal']).toEqual({
      type: 'float',
      numbers: [0.30000000000000004],
    });
    expect(byName['Vehicle.OBD.DTCList']).toEqual({ type: 'string', strings: ['P0301'] });
    expect(byName['Vehicle.IsMoving']).toEqual({ type: 'boolean', booleans: [true] });
  });

  it('keeps -0, NaN and Infinity exactly (as floats)', () => {
    const values = [-0, NaN, Infinity, 1];
    const samples = values.map((value, i) => ({
      name: 'Vehicle.X',
      unit: 'V',
      time: T0 + i,
      value,
    }));
    const cols = columnsFromSamples(samples, T0);
    expect(cols[0]?.values.type).toBe('float');
    expect(samplesFromColumns(cols, T0).map((s) => s.value)).toEqual(values);
  });

  it('sorts columns by name and samples by time, rounds times to ms, deltas from start', () => {
    const samples: BatchSample[] = [
      { name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 200.4, value: 3 },
      { name: 'Vehicle.Acceleration.Lateral', unit: 'm/s^2', time: T0 + 50, value: 1 },
      { name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 99.6, value: 2 },
    ];
    const cols = columnsFromSamples(samples, T0);
    expect(cols.map((c) => c.name)).toEqual(['Vehicle.Acceleration.Lateral', 'Vehicle.Speed']);
    expect(cols[1]?.timeDeltas).toEqual([100, 100]);
    expect(sampleCount(cols)).toBe(3);
    expect(samplesFromColumns(cols, T0)).toEqual([
      { name: 'Vehicle.Acceleration.Lateral', unit: 'm/s^2', time: T0 + 50, value: 1 },
      { name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 100, value: 2 },
      { name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 200, value: 3 },
    ]);
  });

  it('keeps samples of one time in the order given when it has to sort', () => {
    const gear = (time: number, value: string): BatchSample => ({ name: 'Vehicle.Powertrain.Transmission.SelectedGear', unit: '', time, value }); // prettier-ignore
    const cols = columnsFromSamples([gear(T0 + 5, 'D'), gear(T0 + 1, 'N'), gear(T0 + 5, 'R'), gear(T0 + 1, 'P')], T0); // prettier-ignore
    expect(cols[0]?.timeDeltas).toEqual([1, 0, 4, 0]);
    expect(cols[0]?.values).toEqual({ type: 'string', strings: ['N', 'P', 'D', 'R'] });
  });

  it.each([
    [[{ name: 'Vehicle.Speed', unit: 'km/h', time: T0 - 1, value: 1 }], /before the batch start/],
    [[{ name: '', unit: 'km/h', time: T0, value: 1 }], /samples\[0\]\.name/],
    [
      [
        { name: 'Vehicle.Speed', unit: 'km/h', time: T0, value: 1 },
        { name: 'Vehicle.Speed', unit: 'm/s', time: T0, value: 1 },
      ],
      /unit/,
    ],
    [
      [
        { name: 'Vehicle.Speed', unit: 'km/h', time: T0, value: 1 },
        { name: 'Vehicle.Speed', unit: 'km/h', time: T0, value: 'x' },
      ],
      /mixes/,
    ],
    [[{ name: 'Vehicle.Speed', unit: 'km/h', time: NaN, value: 1 }], /time/],
    [[{ name: 'Vehicle.Speed', unit: 'km/h', time: T0, value: null }], /value/],
  ])('refuses bad samples with bad-input naming the field (%#)', (samples, message) => {
    expect(() => columnsFromSamples(samples as BatchSample[], T0)).toThrow(WireFormatError);
    expect(() => columnsFromSamples(samples as BatchSample[], T0)).toThrow(message);
  });
});
