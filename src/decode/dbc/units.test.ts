import { describe, expect, it } from 'vitest';
import { dbcUnit, knownUnit, unitConversion } from './units.js';

describe('DBC units read as VSS units', () => {
  it('takes VSS ids as written, DBC spellings, and ids in another case', () => {
    expect(dbcUnit('km/h')?.id).toBe('km/h');
    expect(dbcUnit(' kph ')?.id).toBe('km/h');
    expect(dbcUnit('degC')?.id).toBe('celsius');
    expect(dbcUnit('°C')?.id).toBe('celsius');
    expect(dbcUnit('%')?.id).toBe('percent');
    expect(dbcUnit('KW')?.id).toBe('kW');
    expect(dbcUnit('kpa')?.id).toBe('kPa');
    expect(dbcUnit('nm')?.id).toBe('Nm');
    expect(dbcUnit('1/min')?.id).toBe('rpm');
    expect(knownUnit('furlong/fortnight')).toBe(false);
  });

  it('converts between units of one quantity and refuses others', () => {
    const kph = unitConversion('kph', 'm/s')!;
    expect(kph.factor).toBeCloseTo(1 / 3.6, 12);
    expect(kph.offset).toBe(0);
    const f = unitConversion('degC', 'fahrenheit')!;
    expect(100 * f.factor + f.offset).toBeCloseTo(212, 9);
    expect(unitConversion('Wh', 'kWh')).toEqual({ factor: 0.001, offset: 0 });
    expect(unitConversion('%', 'ratio')).toEqual({ factor: 0.01, offset: 0 });
    expect(unitConversion('km/h', 'kph')).toEqual({ factor: 1, offset: 0 });
    expect(unitConversion('km/h', 'celsius')).toBeUndefined();
    expect(unitConversion('bogus', 'm/s')).toBeUndefined();
  });
});
