import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../test/datasets.js';
import { flattenVss } from '../core/catalog.js';
import { convert, isLinear, unitIds, unitOf, type Linear } from './units.js';

const apply = (from: string, to: string, x: number): number => {
  const c = convert(from, to);
  if (!isLinear(c)) throw new Error(`${from} -> ${to}: ${c.reason}`);
  return x * c.scale + c.offset;
};

describe('units', () => {
  it('converts within a quantity with known reference values', () => {
    expect(apply('mph', 'km/h', 60)).toBeCloseTo(96.56064, 10);
    expect(apply('km/h', 'm/s', 36)).toBeCloseTo(10, 12);
    expect(apply('m/s', 'mph', 1)).toBeCloseTo(2.2369362920544, 10);
    expect(apply('celsius', 'fahrenheit', 100)).toBeCloseTo(212, 10);
    expect(apply('fahrenheit', 'celsius', -40)).toBeCloseTo(-40, 10);
    expect(apply('K', 'celsius', 0)).toBeCloseTo(-273.15, 10);
    expect(apply('fahrenheit', 'K', 32)).toBeCloseTo(273.15, 10);
    expect(apply('psi', 'kPa', 32)).toBeCloseTo(220.632233, 5);
    expect(apply('bar', 'kPa', 2.4)).toBeCloseTo(240, 10);
    expect(apply('Pa', 'mbar', 101_325)).toBeCloseTo(1013.25, 10);
    expect(apply('mi', 'm', 1)).toBeCloseTo(1609.344, 10);
    expect(apply('km', 'mi', 100)).toBeCloseTo(62.1371192, 6);
    expect(apply('gal', 'l', 10)).toBeCloseTo(37.85411784, 10);
    expect(apply('Wh', 'kWh', 1500)).toBeCloseTo(1.5, 12);
    expect(apply('mpg-us', 'km/l', 30)).toBeCloseTo(12.7543, 4);
    expect(apply('percent', 'ratio', 55)).toBeCloseTo(0.55, 12);
    expect(apply('rad/s', 'degrees/s', Math.PI)).toBeCloseTo(180, 10);
    expect(apply('h', 'min', 1.5)).toBeCloseTo(90, 12);
  });

  it('round-trips every pair of units of one quantity, and refuses every pair across quantities', () => {
    const ids = unitIds();
    const wrong: string[] = [];
    let pairs = 0;
    for (const a of ids) {
      for (const b of ids) {
        const ab = convert(a, b);
        if (unitOf(a)!.quantity !== unitOf(b)!.quantity) {
          if (isLinear(ab) || ab.code !== 'unit.incompatible') wrong.push(`${a} -> ${b} should be incompatible`);
          continue;
        }
        const ba = convert(b, a) as Linear;
        for (const x of [-40, 0, 1, 123.456]) {
          const y = x * (ab as Linear).scale + (ab as Linear).offset;
          const back = y * ba.scale + ba.offset;
          if (Math.abs(back - x) > 1e-9 * Math.max(1, Math.abs(x))) wrong.push(`${a} -> ${b} -> ${a}: ${x} became ${back}`);
        }
        pairs++;
      }
    }
    expect(wrong).toEqual([]);
    expect(pairs).toBeGreaterThan(200);
  });

  it('refuses unknown units and units of different quantities with a precise reason', () => {
    expect(convert('furlongs', 'km/h', 'Vehicle.Speed')).toMatchObject({ code: 'unit.unknown', reason: expect.stringContaining('"furlongs" for Vehicle.Speed') });
    expect(convert('kPa', 'km/h', 'Vehicle.Speed')).toEqual({ code: 'unit.incompatible', reason: 'Vehicle.Speed is in km/h (velocity); kPa measures pressure' });
    // Fuel economy and consumption are reciprocal, not linear: no conversion between them.
    expect(convert('km/l', 'l/100km')).toMatchObject({ code: 'unit.incompatible' });
    expect(convert('mpge', 'mpg-us')).toMatchObject({ code: 'unit.incompatible' });
    // Ids are case-sensitive: PS is horsepower, ps is nothing.
    expect(convert('ps', 'kW')).toMatchObject({ code: 'unit.unknown' });
    expect(convert('PS', 'kW')).toMatchObject({ scale: 0.73549875 });
  });

  it('knows every unit the VSS 4.0 and 6.0 catalogs use (6.0 spells celsius "Celsius")', (ctx) => {
    for (const file of ['vss/vss_release_4.0.json', 'vss/vss_release_6.0.json']) {
      const d = dataset(file, 'units');
      if (d.skip) return ctx.skip();
      const units = new Set(flattenVss(JSON.parse(readFileSync(d.path, 'utf8'))).flatMap((s) => (s.unit ? [s.unit] : [])));
      expect(units.size).toBeGreaterThan(30);
      expect([...units].filter((u) => unitOf(u) === undefined)).toEqual([]);
    }
    expect(convert('Celsius', 'celsius')).toEqual({ scale: 1, offset: 0 });
  });
});
