/**
 * Vehicle identification numbers (ISO 3779; the check digit and model-year code as 49 CFR
 * Part 565 defines them). Pure functions: a string in, a decoded VIN or a `VinError` out.
 */

export const VIN_ERROR_CODES = {
  'not-a-string': 'The VIN must be a string',
  length: 'A VIN has exactly 17 characters',
  'bad-character': 'A VIN uses only 0-9 and A-Z without I, O and Q',
  'check-digit': 'The check digit (position 9) does not match the other characters',
} as const;

export type VinErrorCode = keyof typeof VIN_ERROR_CODES;

export class VinError extends Error {
  override readonly name = 'VinError';
  constructor(
    readonly code: VinErrorCode,
    readonly vin: string,
    detail?: string,
  ) {
    super(`invalid VIN ${JSON.stringify(vin)}: ${detail ?? VIN_ERROR_CODES[code]}`);
  }
}

export type VinRegion =
  'Africa' | 'Asia' | 'Europe' | 'North America' | 'Oceania' | 'South America' | 'unassigned';

export interface DecodedVin {
  readonly vin: string;
  /** World manufacturer identifier: positions 1–3 (plus 12–14 for makers of < 1,000 a year). */
  readonly wmi: string;
  /** Vehicle descriptor section, positions 4–8. */
  readonly vds: string;
  /** Vehicle identifier section, positions 10–17. */
  readonly vis: string;
  readonly region: VinRegion;
  readonly country: string | undefined;
  readonly manufacturer: string | undefined;
  /**
   * `valid` when position 9 matches; `not-required` when it does not match but the region does
   * not mandate a check digit (Europe, most of Asia), so the VIN is still accepted.
   */
  readonly checkDigit: 'valid' | 'not-required';
  /**
   * Candidate model years for the position-10 code (it repeats every 30 years). North American
   * VINs are disambiguated by position 7 (a letter means 2010 or later), so there is one.
   */
  readonly modelYears: readonly number[];
  readonly serialNumber: string;
}

const ALLOWED = /^[0-9A-HJ-NPR-Z]{17}$/;
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2] as const;
const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
}; // prettier-ignore
const YEAR_CODES = 'ABCDEFGHJKLMNPRSTVWXY123456789';

/** The check digit 49 CFR 565.15 prescribes for a 17-character VIN (`0`–`9` or `X`). */
export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = vin.charAt(i);
    const value = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : TRANSLITERATION[c];
    if (value === undefined) throw new VinError('bad-character', vin, `character ${i + 1} is ${c}`);
    sum += value * (WEIGHTS[i] ?? 0);
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

/** North America (1–5) and China (L) require a correct check digit; elsewhere it is optional. */
function checkDigitRequired(vin: string): boolean {
  return /^[1-5L]/.test(vin);
}

function regionOf(c: string): VinRegion {
  if (c >= 'A' && c <= 'H') return 'Africa';
  if (c >= 'J' && c <= 'R') return 'Asia';
  if (c >= 'S' && c <= 'Z') return 'Europe';
  if (c >= '1' && c <= '5') return 'North America';
  if (c === '6' || c === '7') return 'Oceania';
  if (c === '8' || c === '9') return 'South America';
  return 'unassigned';
}

/** Country by the first one or two characters (SAE J1044 ranges, the common ones). */
const COUNTRIES: readonly (readonly [RegExp, string])[] = [
  [/^1|^4|^5/, 'United States'],
  [/^2/, 'Canada'],
  [/^3[A-W]/, 'Mexico'],
  [/^J/, 'Japan'],
  [/^K[L-R]/, 'South Korea'],
  [/^L/, 'China'],
  [/^M[A-E]/, 'India'],
  [/^S[A-M]/, 'United Kingdom'],
  [/^T[J-P]/, 'Czech Republic'],
  [/^V[F-R]/, 'France'],
  [/^VS|^VT|^VU|^VV|^VW/, 'Spain'],
  [/^W/, 'Germany'],
  [/^YS|^YT|^YU|^YV|^YW/, 'Sweden'],
  [/^Z[A-R]/, 'Italy'],
  [/^6[A-W]/, 'Australia'],
  [/^9[A-E]|^93|^94|^95|^96|^97|^98|^99/, 'Brazil'],
];

/** Manufacturers of the most common WMIs; unknown WMIs simply decode without a name. */
const MANUFACTURERS: Readonly<Record<string, string>> = {
  '1FA': 'Ford', '1FT': 'Ford', '1G1': 'Chevrolet', '1GC': 'Chevrolet', '1HG': 'Honda',
  '1J4': 'Jeep', '1M8': 'Motor Coach Industries', '1N4': 'Nissan', '1VW': 'Volkswagen',
  '2HG': 'Honda', '2T1': 'Toyota', '2T3': 'Toyota', '3FA': 'Ford', '3VW': 'Volkswagen',
  '4T1': 'Toyota', '4T3': 'Toyota', '5YJ': 'Tesla', '5NP': 'Hyundai', 'JA3': 'Mitsubishi',
  'JF1': 'Subaru', 'JH4': 'Acura', 'JHM': 'Honda', 'JM1': 'Mazda', 'JN1': 'Nissan',
  'JT2': 'Toyota', 'JTD': 'Toyota', 'JTE': 'Toyota', 'JTM': 'Toyota', 'KMH': 'Hyundai',
  'KNA': 'Kia', 'KND': 'Kia', 'SAJ': 'Jaguar', 'SAL': 'Land Rover', 'SCC': 'Lotus',
  'TMB': 'Škoda', 'VF1': 'Renault', 'VF3': 'Peugeot', 'VF7': 'Citroën', 'VSS': 'SEAT',
  'WAU': 'Audi', 'WBA': 'BMW', 'WBS': 'BMW M', 'WDB': 'Mercedes-Benz', 'WDD': 'Mercedes-Benz',
  'WF0': 'Ford Germany', 'WMW': 'MINI', 'WP0': 'Porsche', 'WP1': 'Porsche', 'WVW': 'Volkswagen',
  'WVG': 'Volkswagen', 'W0L': 'Opel', 'YV1': 'Volvo', 'YS3': 'Saab', 'ZFA': 'Fiat',
  'ZAR': 'Alfa Romeo', 'ZFF': 'Ferrari',
}; // prettier-ignore

function modelYearsOf(vin: string, region: VinRegion): number[] {
  const index = YEAR_CODES.indexOf(vin.charAt(9));
  if (index < 0) return [];
  const early = 1980 + index;
  if (region === 'North America') {
    // 49 CFR 565.15(c): for light vehicles a letter at position 7 marks model years 2010–2039.
    return [/[A-Z]/.test(vin.charAt(6)) ? early + 30 : early];
  }
  return [early, early + 30];
}

/**
 * Decodes a VIN. Lower-case input is accepted and upper-cased (people type VINs); anything
 * else that is not exactly a VIN is a `VinError` naming what is wrong.
 */
export function decodeVin(input: unknown): DecodedVin {
  if (typeof input !== 'string') throw new VinError('not-a-string', String(input));
  const vin = input.trim().toUpperCase();
  if (vin.length !== 17) {
    throw new VinError('length', input, `it has ${vin.length} characters, a VIN has 17`);
  }
  if (!ALLOWED.test(vin)) {
    const at = [...vin].findIndex((c) => !/[0-9A-HJ-NPR-Z]/.test(c));
    throw new VinError(
      'bad-character',
      input,
      `character ${at + 1} is ${JSON.stringify(vin.charAt(at))}; VINs never use I, O or Q`,
    );
  }
  const expected = vinCheckDigit(vin);
  const matches = vin.charAt(8) === expected;
  if (!matches && checkDigitRequired(vin)) {
    throw new VinError(
      'check-digit',
      input,
      `check digit is ${vin.charAt(8)}, the other characters give ${expected}`,
    );
  }
  const region = regionOf(vin.charAt(0));
  const smallMaker = vin.charAt(2) === '9';
  const wmi = smallMaker ? vin.slice(0, 3) + vin.slice(11, 14) : vin.slice(0, 3);
  return {
    vin,
    wmi,
    vds: vin.slice(3, 8),
    vis: vin.slice(9),
    region,
    country: COUNTRIES.find(([re]) => re.test(vin))?.[1],
    manufacturer: MANUFACTURERS[vin.slice(0, 3)],
    checkDigit: matches ? 'valid' : 'not-required',
    modelYears: modelYearsOf(vin, region),
    serialNumber: smallMaker ? vin.slice(14) : vin.slice(11),
  };
}

/** True when `decodeVin` would accept the input. */
export function isValidVin(input: unknown): boolean {
  try {
    decodeVin(input);
    return true;
  } catch (err) {
    if (err instanceof VinError) return false;
    throw err;
  }
}
