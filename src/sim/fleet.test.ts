import { describe, expect, it } from 'vitest';
import { isValidVin } from '../normalize/vin.js';
import { Fleet } from './fleet.js';
import { MODELS, SOFTWARE } from './models.js';
import { Mulberry32, Sfc32, hash32, seed32 } from './prng.js';

describe('prng', () => {
  it('repeats a stream for a seed and differs between seeds', () => {
    const draw = (seed: number): number[] => {
      const r = new Sfc32(seed);
      return Array.from({ length: 8 }, () => r.u32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    const m = new Mulberry32(123);
    const a = [m.next(), m.next()];
    m.s = 123;
    expect([m.next(), m.next()]).toEqual(a);
  });

  it('draws floats in [0, 1) with a sane mean', () => {
    const r = new Mulberry32(seed32('vigil'));
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    expect(seed32('a')).not.toBe(seed32('b'));
    expect(hash32(1, 2, 3)).toBe(hash32(1, 2, 3));
  });
});

describe('Fleet', () => {
  const fleet = new Fleet(seed32(42), 5000, ['acme', 'globex']);

  it('gives every vehicle a valid, unique VIN of its model line and year', () => {
    const vins = new Set<string>();
    for (let i = 0; i < fleet.size; i++) {
      const id = fleet.identity(i);
      expect(isValidVin(id.vin, { checkDigit: true }), id.vin).toBe(true);
      const m = MODELS.find((x) => x.make === id.make && x.model === id.model)!;
      expect(id.vin.slice(0, 3)).toBe(m.wmi);
      expect(id.year).toBeGreaterThanOrEqual(m.years[0]);
      expect(id.year).toBeLessThanOrEqual(m.years[1]);
      expect(m.trims).toContain(id.trim);
      expect(Object.keys(m.regions)).toContain(id.region);
      vins.add(id.vin);
    }
    expect(vins.size).toBe(fleet.size);
  });

  it('is the same fleet for the same seed and another for another seed', () => {
    const again = new Fleet(seed32(42), 5000, ['acme', 'globex']);
    const other = new Fleet(seed32(43), 5000, ['acme', 'globex']);
    expect([...again.identities()].slice(0, 50)).toEqual([...fleet.identities()].slice(0, 50));
    expect(other.vin(0) === fleet.vin(0) && other.vin(1) === fleet.vin(1)).toBe(false);
  });

  it('spreads vehicles over makes, drivetrains, regions and tenants', () => {
    const count = (f: (i: number) => string): Map<string, number> => {
      const m = new Map<string, number>();
      for (let i = 0; i < fleet.size; i++) m.set(f(i), (m.get(f(i)) ?? 0) + 1);
      return m;
    };
    const makes = count((i) => fleet.modelOf(i).make);
    expect(makes.size).toBeGreaterThanOrEqual(7);
    // Shares follow MODELS: Tesla (13 + 13 of 111) is far more common than BMW (4 of 111).
    expect(makes.get('Tesla')!).toBeGreaterThan(3 * makes.get('BMW')!);
    expect(count((i) => fleet.modelOf(i).powertrain).size).toBe(4);
    expect(count((i) => fleet.identity(i).region).size).toBe(5);
    const tenants = count((i) => fleet.tenant(i));
    expect([...tenants.keys()].sort()).toEqual(['acme', 'globex']);
    expect(Math.abs(tenants.get('acme')! - tenants.get('globex')!)).toBeLessThan(fleet.size * 0.05);
  });

  it('lists the ECU software of each vehicle from its make, BMS only with a battery and ECM only with an engine', () => {
    const versions = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = fleet.identity(i);
      const lineup = SOFTWARE[fleet.modelOf(i).software]!;
      expect(Object.keys(id.software)).toEqual(expect.arrayContaining(['TCU', 'IVI', 'GW', 'ADAS']));
      expect('BMS' in id.software).toBe(id.powertrain !== 'ICE');
      expect('ECM' in id.software).toBe(id.powertrain !== 'BEV' && 'ECM' in lineup);
      for (const [ecu, v] of Object.entries(id.software)) {
        expect(lineup[ecu]).toContain(v);
        versions.add(`${ecu}=${v}`);
      }
    }
    expect(versions.size).toBeGreaterThan(60); // several versions per ECU are in the field
  });

  it('gives owners unique accounts', () => {
    const accounts = new Set<string>();
    for (let i = 0; i < fleet.size; i++) accounts.add(fleet.account(i));
    expect(accounts.size).toBe(fleet.size);
  });

  it('refuses impossible sizes and indexes', () => {
    expect(() => new Fleet(1, 0, ['a'])).toThrow(RangeError);
    expect(() => new Fleet(1, 10, [])).toThrow(RangeError);
    expect(() => fleet.identity(fleet.size)).toThrow(RangeError);
  });
});
