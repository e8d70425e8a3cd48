/**
 * Vehicle identification numbers (ISO 3779; the check digit of 49 CFR 565 / FMVSS 115).
 *
 * A VIN is 17 characters from `0-9` and `A-Z` without `I`, `O` and `Q`: a 3-character
 * world manufacturer identifier (WMI), a 5-character descriptor (VDS), a check digit at
 * position 9, the model-year code at position 10, the plant at 11 and a serial at 12-17.
 * North America requires the check digit; Europe and China usually fill it but do not
 * have to, so validation takes `checkDigit` as an explicit choice.
 */

/** ISO 3779 character set: digits and capitals without I, O, Q. */
const VIN_SHAPE = /^[A-HJ-NPR-Z0-9]{17}$/;

/** Transliteration of 49 CFR 565.15: letters to values 1-9 (no I, O, Q). */
const TRANSLITERATION: Readonly<Record<string, number>> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};
/** Weight of each position; position 9 (the check digit itself) weighs 0. */
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** Per character code, the transliterated value (or -1 for characters a VIN may not hold). */
const VALUE_OF_CODE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let d = 0; d <= 9; d++) table[48 + d] = d;
  for (const [ch, v] of Object.entries(TRANSLITERATION)) table[ch.charCodeAt(0)] = v;
  return table;
})();

/**
 * The check digit (`0`-`9` or `X`) that position 9 of `vin` must hold. Position 9 of the
 * input is ignored, so a VIN with a placeholder there works. Throws on a wrong shape.
 *
 * @example vinCheckDigit('1M8GDM9AXKP042788') // 'X'
 */
export function vinCheckDigit(vin: string): string {
  if (vin.length !== 17) throw new RangeError(`VIN must have 17 characters, got ${vin.length}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const code = vin.charCodeAt(i);
    const value = code < 128 ? VALUE_OF_CODE[code]! : -1;
    if (value < 0) {
      if (i === 8) continue; // the placeholder in position 9 does not count
      throw new RangeError(`VIN character '${vin[i]}' at position ${i + 1} is not allowed`);
    }
    sum += value * WEIGHTS[i]!;
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

export interface VinCheckOptions {
  /** Require position 9 to be the computed check digit (mandatory in North America). */
  readonly checkDigit: boolean;
}

/** Whether `vin` is a well-formed VIN, and when asked, whether its check digit is right. */
export function isValidVin(vin: string, opts: VinCheckOptions = { checkDigit: true }): boolean {
  if (!VIN_SHAPE.test(vin)) return false;
  return !opts.checkDigit || vinCheckDigit(vin) === vin[8];
}

/** Model-year codes (position 10), a 30-year cycle starting 1980 = A (2010 = A again). */
const YEAR_CODES = 'ABCDEFGHJKLMNPRSTVWXY123456789';

/** The model-year character for `year` (1980-2039 map onto one 30-year cycle). */
export function modelYearCode(year: number): string {
  if (!Number.isInteger(year) || year < 1980) throw new RangeError(`model year ${year} is before 1980`);
  return YEAR_CODES[(year - 1980) % 30]!;
}

/** What identifies a vehicle line: everything of a VIN but the serial. */
export interface VinPrefix {
  /** World manufacturer identifier, 3 characters (e.g. `5YJ` Tesla Fremont, `WVW` Volkswagen cars). */
  readonly wmi: string;
  /** Vehicle descriptor section, positions 4-8 (5 characters). */
  readonly vds: string;
  readonly year: number;
  /** Plant code, position 11. */
  readonly plant: string;
}

/**
 * A valid VIN for `prefix` and a serial (0-999,999, positions 12-17), with the check digit
 * computed. Used by the simulator; throws when the prefix holds characters a VIN may not.
 *
 * @example makeVin({ wmi: '5YJ', vds: '3E1EA', year: 2021, plant: 'F' }, 42) // '5YJ3E1EA?MF000042' with ? the check digit
 */
export function makeVin(prefix: VinPrefix, serial: number): string {
  if (!Number.isInteger(serial) || serial < 0 || serial > 999_999) {
    throw new RangeError(`VIN serial must be an integer 0-999999, got ${serial}`);
  }
  const draft = `${prefix.wmi}${prefix.vds}0${modelYearCode(prefix.year)}${prefix.plant}${String(serial).padStart(6, '0')}`;
  if (!VIN_SHAPE.test(draft)) throw new RangeError(`VIN prefix ${JSON.stringify(prefix)} does not make a valid VIN`);
  return `${draft.slice(0, 8)}${vinCheckDigit(draft)}${draft.slice(9)}`;
}
