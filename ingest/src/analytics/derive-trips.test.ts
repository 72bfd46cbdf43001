import { describe, expect, it } from 'vitest';
import { loadCycle } from '../../../test/support/drive-cycles.js';
import {
  continueTrips,
  deriveTrips,
  type TripDerivationState,
  type TripEvent,
  type TripSample,
} from './derive-trips.js';
import { AnalyticsError } from './errors.js';

const SPEED = 'Vehicle.Speed';
const RPM = 'Vehicle.Powertrain.CombustionEngine.Speed';
const LAT = 'Vehicle.CurrentLocation.Latitude';
const LON = 'Vehicle.CurrentLocation.Longitude';
const T0 = Date.UTC(2025, 5, 2, 12, 0, 0); // noon UTC

const speed = (time: number, kmh: number): TripSample => ({
  name: SPEED,
  time,
  value: kmh,
  unit: 'km/h',
});
const rpm = (time: number, value: number): TripSample => ({ name: RPM, time, value, unit: 'rpm' });
const position = (time: number, lat: number, lon: number): TripSample[] => [
  { name: LAT, time, value: lat, unit: 'degrees' },
  { name: LON, time, value: lon, unit: 'degrees' },
];

/** A 1 Hz speed trace with the engine running throughout, from `start`. */
function drive(speeds: readonly number[], start = T0): TripSample[] {
  return speeds.flatMap((v, s) => [rpm(start + s * 1_000, 800), speed(start + s * 1_000, v)]);
}

describe('deriveTrips: trips', () => {
  it('splits on the engine switched off, with stable ids and the open last trip', () => {
    const first = drive([0, 36, 36, 0]);
    const off = [4, 10, 20, 35].map((s) => rpm(T0 + s * 1_000, 0));
    const second = drive([0, 72, 72], T0 + 60_000);
    const trips = deriveTrips([...first, ...off, ...second], []);
    expect(trips.map((t) => [t.id, t.start, t.end, t.complete])).toEqual([
      [`trip-${T0}`, T0, T0 + 35_000, true],
      [`trip-${T0 + 60_000}`, T0 + 60_000, T0 + 62_000, false],
    ]);
    expect(trips[0]).toMatchObject({
      distanceKm: 0.02,
      movingS: 3,
      durationS: 35,
      maxSpeedKmh: 36,
    });
    // The open trip keeps its id when more of it arrives.
    const more = deriveTrips([...second, ...drive([72, 0], T0 + 63_000)], []);
    expect(more[0]?.id).toBe(trips[1]?.id);
  });

  it('no speed and engine samples: no trips; other signals are ignored', () => {
    expect(deriveTrips([], [])).toEqual([]);
    const other = { name: 'Vehicle.OBD.DTCList', time: T0, value: 'P0301', unit: '' };
    expect(deriveTrips([other, { ...other, time: Number.NaN }], [])).toEqual([]);
  });

  it('counts harsh and crash events by their start within the trip, once each', () => {
    const samples = [...drive([0, 50, 50, 50, 0]), ...[5, 35].map((s) => rpm(T0 + s * 1_000, 0))];
    const events: TripEvent[] = [
      { type: 'harsh-acceleration', start: T0 + 1_000 },
      { type: 'harsh-acceleration', start: T0 + 1_000 }, // the same run stored twice
      { type: 'harsh-braking', start: T0 }, // at the very start: in
      { type: 'harsh-braking', start: T0 + 35_000 }, // at the very end: in
      { type: 'harsh-braking', start: T0 + 35_001 }, // after: out
      { type: 'crash', start: T0 + 3_500 },
      { type: 'speeding', start: T0 + 2_000 }, // not scored here
      { type: 'dtc-set', start: T0 + 2_000 },
    ];
    const [trip] = deriveTrips(samples, events);
    expect(trip).toMatchObject({
      harshAccelerationCount: 1,
      harshBrakingCount: 2,
      crashCount: 1,
      end: T0 + 35_000,
    });
  });
});

describe('deriveTrips: speeding', () => {
  it('is exact on a linear ramp: 0 → 200 km/h in 200 s is above 120 for 80 s', () => {
    const ramp = Array.from({ length: 201 }, (_, s) => s);
    const [trip] = deriveTrips(drive(ramp.map((s) => s + 0.5)), []);
    expect(trip?.speedingS).toBe(80.5);
    const [exact] = deriveTrips(drive(ramp), []);
    expect(exact?.speedingS).toBe(80);
    // Above 120 km/h: 80 s at a mean 160 km/h = 3.556 km.
    expect(exact?.speedingKm).toBeCloseTo((80 * 160) / 3_600, 3);
    expect(exact?.speedingAboveKmh).toBe(120);
  });

  it("US06 above 100 km/h: the README's 8.134 km (summed per row) within its rounding", () => {
    const us06 = loadCycle('us06');
    const [trip] = deriveTrips(drive(us06), [], { speedingAboveKmh: 100 });
    // The README sums speed/3600 over the rows above 100 km/h; the trip integrates the
    // straight lines between rows, crossings included: 8.110 km. Same data, 0.3 % apart.
    expect(Math.abs(trip!.speedingKm - 8.134) / 8.134).toBeLessThan(0.005);
    const rowsAbove = us06.filter((v) => v > 100).length; // 268
    expect(Math.abs(trip!.speedingS - rowsAbove)).toBeLessThan(3);
  });

  it('does not depend on the sampling rate', () => {
    const us06 = loadCycle('us06');
    const tenHz: TripSample[] = [];
    for (let i = 0; i <= (us06.length - 1) * 10; i++) {
      const k = Math.floor(i / 10);
      const v = us06[k]! + ((us06[k + 1] ?? us06[k]!) - us06[k]!) * (i / 10 - k);
      tenHz.push(rpm(T0 + i * 100, 800), speed(T0 + i * 100, v));
    }
    const [a] = deriveTrips(drive(us06), []);
    const [b] = deriveTrips(tenHz, []);
    expect(b?.speedingS).toBeCloseTo(a!.speedingS, 0);
    expect(b?.distanceKm).toBeCloseTo(a!.distanceKm, 2);
  });
});

describe('deriveTrips: night', () => {
  // 2025-06-02 in Detroit (42.33° N, 83.05° W): sunset at 21:03 EDT = 01:03 UTC on 3 June.
  const SUNSET = Date.UTC(2025, 5, 3, 1, 3);

  it('by the sun at the GNSS position: only the moving time after sunset', () => {
    const start = SUNSET - 10 * 60_000;
    const samples = [...position(start, 42.3314, -83.0458), ...drive(Array(1_201).fill(50), start)];
    const [trip] = deriveTrips(samples, []);
    expect(trip?.nightBasis).toBe('sun');
    expect(trip?.movingS).toBe(1_200);
    // Sun-set to within the minute: ~600 s of the 1 200 s drive are after it.
    expect(Math.abs(trip!.nightS - 600)).toBeLessThanOrEqual(60);
  });

  it('uses the first fix for the time before it, then always the latest fix', () => {
    // Twenty minutes after Detroit's sunset: night there, mid-morning in Tokyo.
    const start = SUNSET + 20 * 60_000;
    const samples = [
      ...drive(Array(1_801).fill(50), start),
      ...position(start + 600_000, 35.68, 139.69), // Tokyo
      ...position(start + 1_200_000, 42.3314, -83.0458), // Detroit
    ];
    const [trip] = deriveTrips(samples, []);
    // 0–600 s: before any fix, Tokyo's sun (day); 600–1 200 s Tokyo (day); 1 200–1 800 s
    // Detroit (night).
    expect(trip?.nightS).toBe(600);
  });

  it('without GNSS: the local-hours window (22:00–06:00) with the configured UTC offset', () => {
    const start = Date.UTC(2025, 5, 3, 1, 55); // 21:55 EDT, 01:55 UTC
    const samples = drive(Array(601).fill(30), start); // ten minutes
    const [utc] = deriveTrips(samples, []);
    expect(utc).toMatchObject({ nightBasis: 'local-hours', nightS: 600 }); // all of it by UTC
    const [edt] = deriveTrips(samples, [], { night: { utcOffsetMinutes: -240 } });
    expect(edt?.nightS).toBe(300); // from 22:00 EDT on
    const [never] = deriveTrips(samples, [], { night: { fromHour: 3, toHour: 3 } });
    expect(never?.nightS).toBe(0);
  });
});

describe('deriveTrips: determinism and hostile inputs', () => {
  it('the same content in any order gives the same trips, duplicates included', () => {
    const samples = [...position(T0, 48.85, 2.35), ...drive(loadCycle('nycc'))];
    const reference = deriveTrips(samples, []);
    const reordered = [...samples].reverse();
    reordered.push(...samples.slice(0, 50)); // a batch stored twice
    expect(deriveTrips(reordered, [])).toEqual(reference);
  });

  const badSamples: [string, unknown, RegExp][] = [
    ['a speed with a NaN time', { ...speed(0, 10), time: Number.NaN }, /samples\[0\].*time/],
    ['a speed as a string', { ...speed(0, 10), value: '10' }, /value must be a finite number/],
    ['a speed in m/s', { ...speed(0, 10), unit: 'm/s' }, /unit must be "km\/h"/],
    ['a negative speed', speed(0, -1), /≥ 0/],
    ['an infinite engine speed', rpm(0, Infinity), /finite/],
    ['a latitude of 91°', position(0, 91, 0)[0], /within ±90/],
    ['a longitude of −181°', position(0, 0, -181)[1], /within ±180/],
  ];
  for (const [what, sample, message] of badSamples) {
    it(`refuses ${what} (bad-sample)`, () => {
      expect(() => deriveTrips([sample as TripSample], [])).toThrow(message);
      expect(() => deriveTrips([sample as TripSample], [])).toThrow(
        expect.objectContaining({ code: 'bad-sample' }),
      );
    });
  }

  const badEvents: [string, unknown][] = [
    ['a type that is not a string', { type: 3, start: 0 }],
    ['a missing start', { type: 'crash' }],
    ['an infinite start', { type: 'crash', start: -Infinity }],
  ];
  for (const [what, event] of badEvents) {
    it(`refuses an event with ${what} (bad-event)`, () => {
      expect(() => deriveTrips([], [event as TripEvent])).toThrow(
        expect.objectContaining({ code: 'bad-event' }),
      );
    });
  }

  it('refuses arguments of the wrong type (bad-input)', () => {
    for (const call of [
      () => deriveTrips('samples' as never, []),
      () => deriveTrips([], {} as never),
      () => deriveTrips([null as never], []),
      () => deriveTrips([], [undefined as never]),
      () => deriveTrips([], [], null as never),
      () => deriveTrips([], [], { night: 5 as never }),
    ]) {
      expect(call).toThrow(AnalyticsError);
      expect(call).toThrow(expect.objectContaining({ code: 'bad-input' }));
    }
  });

  it('refuses options out of range (bad-option)', () => {
    for (const options of [
      { speedingAboveKmh: 0 },
      { speedingAboveKmh: Number.NaN },
      { night: { utcOffsetMinutes: 900 } },
      { night: { fromHour: 24 } },
      { night: { sunBelowDeg: 5 } },
      { trip: { maxGapMs: -1 } },
      { trip: { engineOffRpm: Number.NaN } },
      { score: { weights: { night: 0.5 } } },
    ]) {
      expect(() => deriveTrips([], [], options)).toThrow(
        expect.objectContaining({ code: 'bad-option' }),
      );
    }
  });
});

describe('continueTrips: a history derived in steps', () => {
  // Around Detroit's sunset on 2025-06-02 (01:03 UTC on 3 June): the night sums depend on fixes.
  const start = Date.UTC(2025, 5, 3, 0, 50);
  const udds = loadCycle('udds');
  const nycc = loadCycle('nycc');
  /** UDDS, the engine off for a minute, NYCC, 20 s without data (the trip goes on), NYCC. */
  function history(withFixes: boolean): TripSample[] {
    const out = drive(udds, start);
    const second = start + (udds.length + 60) * 1_000;
    for (let s = 1; s <= 60; s++) out.push(rpm(start + (udds.length - 1 + s) * 1_000, 0));
    out.push(...drive(nycc, second));
    out.push(...drive(nycc, second + (nycc.length + 20) * 1_000));
    if (withFixes) {
      // Latitude and longitude at different times, each jumping between Detroit (night after
      // 01:03 UTC) and Tokyo (mid-morning): which pair an interval sees decides its verdict.
      // None after the first trip (a garage, then no fix): the last one goes on deciding.
      for (let t = start + 3_300, k = 0; t < start + udds.length * 1_000; t += 3_700, k++) {
        const lat = k % 3 === 0 ? 35.68 : 42.33;
        const lon = k % 2 === 0 ? 139.69 : -83.05;
        out.push({ name: LAT, time: t, value: lat, unit: 'degrees' });
        out.push({ name: LON, time: t + 1_600, value: lon, unit: 'degrees' });
      }
    }
    return out;
  }
  const events: TripEvent[] = [
    { type: 'harsh-braking', start: start + 200_000 },
    { type: 'crash', start: start + (udds.length + 200) * 1_000 },
  ];

  /**
   * Derives `samples` in steps cut at `cuts`, each step from the state the last one saved, or
   * from the start when that cannot go on (as VehicleData does); counts those restarts.
   */
  function inSteps(samples: readonly TripSample[], cuts: readonly number[]) {
    let state: TripDerivationState | undefined;
    let trips: unknown;
    let restarts = 0;
    for (const [k, cut] of [...cuts, Infinity].entries()) {
      const from = k === 0 ? -Infinity : cuts[k - 1]!;
      const saveAt = cut === Infinity ? from : cut;
      const step = samples.filter((x) => x.time >= from && x.time < cut);
      let done = continueTrips(state, step, events, saveAt);
      if (!done) {
        restarts++;
        done = continueTrips(
          undefined,
          samples.filter((x) => x.time < cut),
          events,
          saveAt,
        )!;
      }
      // The state is plain data: a copy serves as well (a cache may keep it anywhere).
      state = structuredClone(done.state);
      trips = done.trips;
    }
    return { trips, restarts };
  }

  for (const withFixes of [true, false]) {
    it(`equals deriveTrips over the whole history, wherever it is cut (${withFixes ? 'GNSS' : 'no GNSS'})`, () => {
      const samples = history(withFixes);
      const whole = deriveTrips(samples, events);
      expect(whole.map((t) => t.complete)).toEqual([true, false]); // the gap does not end a trip
      // With fixes, the sun sets during the first trip: its night sum depends on them.
      if (withFixes) expect(whole[0]!.nightS).toBeGreaterThan(0);
      if (withFixes) expect(whole[0]!.nightS).toBeLessThan(whole[0]!.movingS);
      const second = start + (udds.length + 60) * 1_000;
      const cuts = [
        start + 1, // inside the first reading's second
        start + 400_500, // inside UDDS, between two readings
        start + (udds.length + 30) * 1_000, // the engine off, trip not yet ended
        second, // on the reading that opens the second trip
        second + (nycc.length + 10) * 1_000, // inside the gap
        second + 2 * nycc.length * 1_000 + 2_500, // on a longitude reading
      ];
      // Cuts every 1.1 s through UDDS after sunset: some fall just after a fix that the
      // interval then open must not use (it takes the last fix before its middle).
      const dense = Array.from({ length: 60 }, (_, i) => start + 960_000 + i * 1_100);
      for (const cut of [...cuts, ...dense]) {
        // Only a state from before the first fix (the first cut, with GNSS) cannot go on.
        const restarts = withFixes && cut === cuts[0] ? 1 : 0;
        expect(inSteps(samples, [cut])).toEqual({ trips: whole, restarts });
      }
      expect(inSteps(samples, cuts)).toEqual({ trips: whole, restarts: withFixes ? 1 : 0 });
    });
  }

  it('counts events that arrive later within trips that ended before the state', () => {
    const samples = history(false);
    const cut = start + (udds.length + 100) * 1_000;
    const first = continueTrips(
      undefined,
      samples.filter((x) => x.time < cut),
      [],
      cut,
    )!;
    const rest = samples.filter((x) => x.time >= cut);
    const done = continueTrips(first.state, rest, events, cut)!;
    expect(done.trips).toEqual(deriveTrips(samples, events));
    expect(done.trips[0]?.harshBrakingCount).toBe(1);
  });

  it('says it cannot go on when the first GNSS fix comes after the state (undefined)', () => {
    const samples = history(false);
    const cut = start + 600_000;
    const first = continueTrips(
      undefined,
      samples.filter((x) => x.time < cut),
      [],
      cut,
    )!;
    const later = [
      ...samples.filter((x) => x.time >= cut),
      ...position(cut + 5_000, 42.33, -83.05),
    ];
    expect(continueTrips(first.state, later, [], cut)).toBeUndefined();
  });

  it('refuses samples from before the state, and a saveAt before it or not a number (bad-input)', () => {
    const first = continueTrips(undefined, drive([0, 30, 30], start), [], start + 2_000)!;
    expect(() => continueTrips(first.state, drive([30], start + 1_000), [], start + 3_000)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => continueTrips(undefined, [], [], Number.NaN)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => continueTrips(first.state, [], [], start + 1_000)).toThrow(/before the state/);
  });
});
