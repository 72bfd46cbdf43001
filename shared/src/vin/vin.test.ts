import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeVin, isValidVin, vinCheckDigit, VinError } from './vin.js';

describe('VIN check digit (49 CFR 565.15)', () => {
  // The worked example printed in 49 CFR 565.15(c)(4): 1M8GDM9A_KP042788 has check digit X.
  it('reproduces the regulation’s worked example', () => {
    expect(vinCheckDigit('1M8GDM9AXKP042788')).toBe('X');
    expect(decodeVin('1M8GDM9AXKP042788').checkDigit).toBe('valid');
  });

  it.each([
    ['1HGCM82633A004352', '3'],
    ['JH4KA7561PC008269', '1'],
    ['11111111111111111', '1'],
  ])('%s has check digit %s', (vin, digit) => {
    expect(vinCheckDigit(vin)).toBe(digit);
    expect(vin.charAt(8)).toBe(digit);
  });

  it('rejects a wrong check digit where the region requires one', () => {
    const err = catchVin(() => decodeVin('1M8GDM9A1KP042788'));
    expect(err.code).toBe('check-digit');
    expect(err.message).toContain('give X');
  });

  it('accepts a European VIN without a check digit', () => {
    const v = decodeVin('WP0ZZZ99ZTS392124');
    expect(v.checkDigit).toBe('not-required');
    expect(v.region).toBe('Europe');
    expect(v.country).toBe('Germany');
    expect(v.manufacturer).toBe('Porsche');
    expect(v.modelYears).toEqual([1996, 2026]);
  });

  it('detects any single-character change in a North American VIN', () => {
    const base = '1HGCM82633A004352';
    const alphabet = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 16 }).filter((i) => i !== 8 && i !== 0),
        fc.constantFrom(...alphabet),
        (pos, ch) => {
          const changed = base.slice(0, pos) + ch + base.slice(pos + 1);
          // Transliteration maps several letters to one value (A and J are both 1), so only a
          // change of value must be detected.
          const value = (c: string) =>
            /\d/.test(c) ? Number(c) : ((TRANSLITERATION.indexOf(c) - 1) % 9) + 1;
          fc.pre(value(ch) !== value(base.charAt(pos)));
          expect(isValidVin(changed)).toBe(false);
        },
      ),
    );
  });
});

describe('decodeVin', () => {
  it('decodes sections, region, manufacturer and model year', () => {
    const v = decodeVin('1HGCM82633A004352');
    expect(v).toMatchObject({
      wmi: '1HG',
      vds: 'CM826',
      vis: '3A004352',
      region: 'North America',
      country: 'United States',
      manufacturer: 'Honda',
      modelYears: [2003],
      serialNumber: '004352',
    });
    // Position 7 a letter: the 30-year cycle's second half (K = 2019, not 1989).
    expect(decodeVin(withCheckDigit('5YJ3E1EA0KF317000')).modelYears).toEqual([2019]);
    expect(decodeVin('JH4KA7561PC008269').modelYears).toEqual([1993, 2023]);
  });

  it('uses positions 12–14 for small manufacturers (third character 9)', () => {
    const vin = withCheckDigit('1M9AB12C0EA123456');
    const v = decodeVin(vin);
    expect(v.wmi).toBe('1M9123');
    expect(v.serialNumber).toBe('456');
  });

  it('upper-cases and trims what people type', () => {
    expect(decodeVin(' 1hgcm82633a004352 ').vin).toBe('1HGCM82633A004352');
  });

  it.each([
    [undefined, 'not-a-string'],
    [17, 'not-a-string'],
    ['', 'length'],
    ['1HGCM82633A00435', 'length'],
    ['1HGCM82633A0043521', 'length'],
    ['1HGCM82633A00435I', 'bad-character'],
    ['1HGCM8263OA004352', 'bad-character'],
    ['1HGCM82633A00435Q', 'bad-character'],
    ['1HGCM82633A00435-', 'bad-character'],
    ['1HGCM82633A00435\u0000', 'bad-character'],
  ])('rejects %j with %s', (input, code) => {
    expect(catchVin(() => decodeVin(input)).code).toBe(code);
    expect(isValidVin(input)).toBe(false);
  });
});

// 49 CFR 565.15 Table I as one string: A–H 1–8, J–N 1–5, P 7, R 9, S–Z 2–9; the index of a
// letter, minus one, modulo 9, plus one, gives its value (the table keeps that alignment).
const TRANSLITERATION = '_ABCDEFGH_JKLMN_P_R_STUVWXYZ';

function withCheckDigit(vin: string): string {
  return vin.slice(0, 8) + vinCheckDigit(vin) + vin.slice(9);
}

function catchVin(fn: () => unknown): VinError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VinError) return err;
    throw err;
  }
  throw new Error('expected a VinError');
}
