import { describe, expect, it } from 'vitest';
import { buildBulletin, checkPeriod, EXPOSURE_LIMIT, trend, versus } from './bulletin.js';
import type { ExposedVulnerability } from './exposure.js';
import { renderBulletinHtml } from './html.js';
import type { PeriodCounts } from './ports.js';

const DAY = 86_400_000;
const empty: PeriodCounts = {
  incidents: 0, vehicles: 0, alerts: 0, alertedVehicles: 0, bySeverity: [], byState: [], byKind: [], byCategory: [], byAsset: [],
  byDay: [], techniques: [], rules: [], closed: 0, medianHoursToClose: null, fleetVehicles: 0,
};
const vuln = (id: string, vehicles: number, priority: number, firstExposedAt: number | null): ExposedVulnerability => ({
  id, title: id, severity: 'HIGH', cvss: 7.5, epss: 0.01, kev: false, priority, vehicles, affected: vehicles, firstExposedAt, byModel: [],
});

describe('trend', () => {
  it('is now minus before, and a percentage of before with one decimal (none when before is 0)', () => {
    expect(trend(3, 2)).toEqual({ now: 3, before: 2, change: 1, changePct: 50 });
    expect(trend(1, 3)).toEqual({ now: 1, before: 3, change: -2, changePct: -66.7 });
    expect(trend(4, 0)).toEqual({ now: 4, before: 0, change: 4, changePct: null });
    expect(versus(trend(1, 3))).toBe('(previous period: 3, −66.7%)');
    expect(versus(trend(0, 0))).toBe('(none in the previous period either)');
  });
});

describe('buildBulletin', () => {
  it('lays the days of a period that does not start at midnight, and keeps every incident on the chart', () => {
    const period = { from: Date.UTC(2026, 10, 1, 12), to: Date.UTC(2026, 10, 4, 12) };
    const now: PeriodCounts = { ...empty, incidents: 3, byDay: [
      { day: Date.UTC(2026, 10, 1), incidents: 1 }, { day: Date.UTC(2026, 10, 4), incidents: 2 },
    ] };
    const before: PeriodCounts = { ...empty, incidents: 1, byDay: [{ day: Date.UTC(2026, 9, 29), incidents: 1 }] };
    const b = buildBulletin({ tenant: 'acme', generatedAt: period.to, current: now, previous: before, exposures: null }, period);
    expect(b.previous).toEqual({ from: Date.UTC(2026, 9, 29, 12), to: period.from });
    expect(b.daily.days).toEqual([1, 2, 3, 4].map((d) => Date.UTC(2026, 10, d)));
    expect(b.daily.now).toEqual([1, 0, 0, 2]);
    expect(b.daily.before).toEqual([1, 0, 0, 0]);
    expect(renderBulletinHtml(b)).toContain('1 Nov 2026 – 4 Nov 2026 (3 days, UTC)');
  });

  it('ranks vulnerabilities by vehicles exposed, finds the new ones of each period, and says when the list was cut', () => {
    const period = { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) };
    const list = [
      vuln('A', 5, 90, period.from + DAY), vuln('B', 40, 20, null), vuln('C', 0, 99, period.from), vuln('D', 40, 60, period.from - DAY),
      ...Array.from({ length: EXPOSURE_LIMIT }, (_, i) => vuln(`Z${i}`, 1, 1, null)),
    ];
    const b = buildBulletin({ tenant: 'acme', generatedAt: period.to, current: empty, previous: empty, exposures: list }, period);
    expect(b.vulnerabilities!.top.slice(0, 3).map((v) => v.id)).toEqual(['D', 'B', 'A']);
    expect(b.vulnerabilities!.fresh.map((v) => v.id)).toEqual(['A']);
    expect(b.vulnerabilities!.freshTrend).toMatchObject({ now: 1, before: 1 });
    expect(b.vulnerabilities!.truncated).toBe(true);
    expect(b.summary.join(' ')).toContain('(at least) expose vehicles of the tenant now');
  });

  it('refuses a backwards, empty or too long period', () => {
    expect(() => checkPeriod({ from: 10, to: 10 })).toThrow('ends before it starts');
    expect(() => checkPeriod({ from: 0, to: 400 * DAY })).toThrow('at most 366 days');
  });
});
