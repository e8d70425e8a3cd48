import { describe, expect, it } from 'vitest';
import { hypergeometricTail, parseDimension, previousPeriod, scoreCommonality, trendRow, DEFAULT_COMMONALITY, type AttributeCount } from './fleet.js';

/** C(n, k) exactly. */
function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** P(X >= k) for every k, exactly as ratios of big integers, each turned into a float from 25 significant digits. */
function exactTails(N: number, K: number, n: number): number[] {
  const hi = Math.min(n, K);
  const terms = Array.from({ length: hi + 1 }, (_, x) => choose(K, x) * choose(N - K, n - x));
  const den = choose(N, n);
  const out: number[] = [];
  let num = 0n;
  for (let k = hi + 1; k >= 0; k--) {
    if (k <= hi) num += terms[k]!;
    if (num === 0n) out[k] = 0;
    else {
      const shift = den.toString().length - num.toString().length + 25;
      out[k] = Number(`${(num * 10n ** BigInt(shift)) / den}e-${shift}`);
    }
  }
  return out;
}

describe('hypergeometricTail', () => {
  it('agrees with exact big-integer sums on every k of assorted populations', () => {
    for (const [N, K, n] of [[20, 7, 5], [100, 3, 40], [300, 150, 120], [500, 1, 25], [1000, 40, 200], [1500, 700, 900]] as const) {
      const tails = exactTails(N, K, n);
      for (let k = 0; k <= Math.min(n, K) + 1; k++) {
        const exact = tails[k]!;
        const got = hypergeometricTail(N, K, n, k);
        if (exact > 1e-25) expect(Math.abs(got - exact) / exact, `N=${N} K=${K} n=${n} k=${k}`).toBeLessThan(1e-9);
        else expect(got, `N=${N} K=${K} n=${n} k=${k}`).toBeLessThan(1e-24);
      }
    }
  });

  it('is n/N for one vehicle holding a value that the set contains', () => {
    expect(hypergeometricTail(100_000, 1, 500, 1)).toBeCloseTo(500 / 100_000, 12);
  });

  it('stays accurate in a large fleet far above and far below the mean', () => {
    // 2,000 of 100,000 vehicles hold the value; 1,000 drawn: mean 20.
    expect(hypergeometricTail(100_000, 2000, 1000, 1)).toBeCloseTo(1, 6);
    expect(hypergeometricTail(100_000, 2000, 1000, 100)).toBeLessThan(1e-30);
    expect(hypergeometricTail(100_000, 2000, 1000, 100)).toBeGreaterThan(0);
    const near = hypergeometricTail(100_000, 2000, 1000, 20);
    expect(near).toBeGreaterThan(0.4);
    expect(near).toBeLessThan(0.6);
  });

  it('refuses impossible arguments', () => {
    expect(() => hypergeometricTail(10, 11, 2, 1)).toThrow(RangeError);
    expect(() => hypergeometricTail(10, 2, 2, -1)).toThrow(RangeError);
  });
});

describe('scoreCommonality', () => {
  // A fleet of 10,000: 200 vehicles run 'TCU 9.9', 1 runs 'IVI rare'; the set is 100 vehicles,
  // 60 of them on 'TCU 9.9' and the rare one among them.
  const values: AttributeCount[] = [
    { attribute: 'software.TCU', value: 'TCU 9.9', setCount: 60, fleetCount: 200 },
    { attribute: 'software.TCU', value: 'TCU 1.0', setCount: 40, fleetCount: 9800 },
    { attribute: 'software.IVI', value: 'IVI rare', setCount: 1, fleetCount: 1 },
    { attribute: 'make', value: 'Ford', setCount: 30, fleetCount: 3000 },
    { attribute: 'make', value: 'Tesla', setCount: 70, fleetCount: 7000 },
    { attribute: 'year', value: 2024, setCount: 0, fleetCount: 500 },
  ];
  const counts = { setSize: 100, fleetSize: 10_000, unknownVehicles: 2, values };

  it('puts the planted value first with its support, share and lift, and keeps the one-vehicle value insignificant', () => {
    const r = scoreCommonality(counts, { ...DEFAULT_COMMONALITY, minSupport: 0.01 });
    expect(r).toMatchObject({ setSize: 100, fleetSize: 10_000, unknownVehicles: 2, tested: 6, truncated: false });
    const [top, ...rest] = r.items;
    expect(top).toMatchObject({ attribute: 'software.TCU', value: 'TCU 9.9', support: 0.6, fleetShare: 0.02, lift: 30, expected: 2, significant: true });
    expect(top!.pAdjusted).toBeLessThan(1e-50);
    const rare = rest.find((x) => x.value === 'IVI rare')!;
    // Lift 100, yet p = n/N = 0.01, times 6 tests: nowhere near significant.
    expect(rare.lift).toBeCloseTo(100, 9);
    expect(rare.pValue).toBeCloseTo(0.01, 12);
    expect(rare.pAdjusted).toBeCloseTo(0.06, 12);
    expect(rare.significant).toBe(false);
    // Not over-represented (lift 1 or less) or absent from the set: not listed.
    expect(r.items.map((x) => x.value)).toEqual(['TCU 9.9', 'IVI rare']);
  });

  it('drops values below the minimum support and respects the minimum count', () => {
    expect(scoreCommonality(counts, DEFAULT_COMMONALITY).items.map((x) => x.value)).toEqual(['TCU 9.9']);
    const strict = scoreCommonality(counts, { ...DEFAULT_COMMONALITY, minCount: 61 });
    expect(strict.items[0]).toMatchObject({ value: 'TCU 9.9', significant: false });
  });

  it('truncates at the limit and answers an empty set with nothing', () => {
    expect(scoreCommonality(counts, { ...DEFAULT_COMMONALITY, minSupport: 0, limit: 1 })).toMatchObject({ truncated: true, items: [{ value: 'TCU 9.9' }] });
    expect(scoreCommonality({ ...counts, setSize: 0 }, DEFAULT_COMMONALITY).items).toEqual([]);
  });
});

describe('dimensions, periods and trend rows', () => {
  it('parses attributes and ECU software, and names the problem otherwise', () => {
    expect(parseDimension('model')).toEqual({ dimension: 'model' });
    expect(parseDimension('software.TCU')).toEqual({ dimension: 'software.TCU' });
    expect(parseDimension('colour')).toMatchObject({ problem: expect.stringContaining('unknown dimension "colour"') });
    expect(parseDimension("software.x'; DROP TABLE alerts")).toMatchObject({ problem: expect.stringContaining('ECU name') });
  });

  it('computes the previous period and change', () => {
    expect(previousPeriod({ from: 1000, to: 1600 })).toEqual({ from: 400, to: 1000 });
    expect(trendRow({}, 15, 10)).toEqual({ key: {}, now: 15, before: 10, change: 5, changePct: 50 });
    expect(trendRow({}, 1, 3)).toMatchObject({ change: -2, changePct: -66.7 });
    expect(trendRow({}, 4, 0)).toMatchObject({ change: 4, changePct: null });
  });
});
