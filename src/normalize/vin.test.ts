import { describe, expect, it } from 'vitest';
import { isValidVin, makeVin, modelYearCode, vinCheckDigit } from './vin.js';

describe('vinCheckDigit', () => {
  it('matches the check digits of real VINs', () => {
    // 49 CFR 565 example, the all-ones VIN, and two widely published real VINs.
    expect(vinCheckDigit('1M8GDM9AXKP042788')).toBe('X');
    expect(vinCheckDigit('11111111111111111')).toBe('1');
    expect(vinCheckDigit('1HGCM82633A004352')).toBe('3');
    expect(vinCheckDigit('JH4KA7561PC008269')).toBe('1');
  });

  it('ignores whatever stands in position 9', () => {
    expect(vinCheckDigit('1M8GDM9A_KP042788')).toBe('X');
  });

  it('rejects characters a VIN may not hold, and wrong lengths', () => {
    expect(() => vinCheckDigit('1M8GDM9AXKP04278O')).toThrow(/position 17/);
    expect(() => vinCheckDigit('1M8GDM9AXKP04278')).toThrow(/17 characters/);
  });
});

describe('isValidVin', () => {
  it('accepts valid VINs', () => {
    expect(isValidVin('1M8GDM9AXKP042788')).toBe(true);
    expect(isValidVin('11111111111111111', { checkDigit: true })).toBe(true);
  });

  it('rejects a wrong check digit only when asked to check it', () => {
    // A European VIN: position 9 is a filler, not a check digit.
    expect(isValidVin('WP0ZZZ99ZTS392124', { checkDigit: true })).toBe(false);
    expect(isValidVin('WP0ZZZ99ZTS392124', { checkDigit: false })).toBe(true);
    expect(isValidVin('1M8GDM9A1KP042788', { checkDigit: true })).toBe(false);
  });

  it('rejects I, O, Q, lower case, and wrong lengths whatever the check digit option', () => {
    for (const vin of ['1M8GDM9AXKP04278I', '1M8GDM9AXKP0427O8', 'Q1111111111111111', '1m8gdm9axkp042788', '1M8GDM9AXKP04278', '1M8GDM9AXKP0427888', '']) {
      expect(isValidVin(vin, { checkDigit: false }), vin).toBe(false);
    }
  });
});

describe('makeVin', () => {
  it('produces VINs with the right check digit, year code, plant and serial', () => {
    const vin = makeVin({ wmi: '5YJ', vds: '3E1EA', year: 2021, plant: 'F' }, 42);
    expect(vin).toHaveLength(17);
    expect(vin.slice(0, 8)).toBe('5YJ3E1EA');
    expect(vin[9]).toBe('M'); // 2021
    expect(vin[10]).toBe('F');
    expect(vin.slice(11)).toBe('000042');
    expect(isValidVin(vin, { checkDigit: true })).toBe(true);
  });

  it('is valid for every serial of a line it is asked for', () => {
    for (let serial = 0; serial < 20_000; serial += 7) {
      expect(isValidVin(makeVin({ wmi: 'WVW', vds: 'ZZZCD', year: 2024, plant: 'W' }, serial))).toBe(true);
    }
  });

  it('refuses prefixes and serials that cannot make a VIN', () => {
    expect(() => makeVin({ wmi: 'WVW', vds: 'ZZOCD', year: 2024, plant: 'W' }, 1)).toThrow(RangeError);
    expect(() => makeVin({ wmi: 'WVW', vds: 'ZZZCD', year: 2024, plant: 'W' }, 1_000_000)).toThrow(RangeError);
  });
});

describe('modelYearCode', () => {
  it('follows the 30-year cycle without I, O, Q, U, Z and 0', () => {
    expect(modelYearCode(1980)).toBe('A');
    expect(modelYearCode(2001)).toBe('1');
    expect(modelYearCode(2010)).toBe('A');
    expect(modelYearCode(2018)).toBe('J');
    expect(modelYearCode(2023)).toBe('P');
    expect(modelYearCode(2025)).toBe('S');
    expect(modelYearCode(2030)).toBe('Y');
  });
});
