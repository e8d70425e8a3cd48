/**
 * The vehicle vulnerability and threat-intelligence bulletin as data: every figure of the
 * document, computed here from what the store counted (ports.ts), never in the renderer.
 *
 *   const bulletin = await loadBulletin({ source, exposure }, 'acme', { from, to }, clock.now());
 *   const html = renderBulletinHtml(bulletin);
 *
 * Trends compare a period [from, to) with the previous one of the same length,
 * [from - (to - from), from): change = now - before, changePct = 100 · change / before (one
 * decimal; null when before is 0).
 */
import { previousPeriod, type TimeRange } from '../alerts/fleet.js';
import { INCIDENT_KINDS, INCIDENT_STATES, type IncidentKind, type IncidentState } from '../alerts/model.js';
import { SEVERITIES, type Severity } from '../core/records.js';
import type { ExposedVulnerability, ExposureSummary } from './exposure.js';
import type { BulletinSource, Counted, PeriodCounts, Placement } from './ports.js';
import {
  ASSETS, ASSET_LABELS, ASSET_RULES, ATM_TECHNIQUE, CATEGORY_LABELS, CATEGORY_TAGS, THREAT_GROUPS, UNMAPPED,
} from './taxonomy.js';

/** Vulnerabilities read from the intel store (the top by exposure; new ones are found among them). */
export const EXPOSURE_LIMIT = 200;
/** Rows of the vulnerability, rule and technique tables. */
export const TOP_ROWS = 10;
/** Longest period a bulletin covers (the daily chart stays readable). */
export const MAX_PERIOD_DAYS = 366;
const DAY = 86_400_000;

export interface Trend {
  readonly now: number;
  readonly before: number;
  readonly change: number;
  readonly changePct: number | null;
}

export function trend(now: number, before: number): Trend {
  return { now, before, change: now - before, changePct: before === 0 ? null : Math.round((1000 * (now - before)) / before) / 10 };
}

export interface TrendRow extends Trend {
  readonly key: string;
  readonly label: string;
  /** Distinct vehicles in this period's incidents of the row (where counted). */
  readonly vehicles?: number;
}

export interface Bulletin {
  readonly tenant: string;
  readonly period: TimeRange;
  readonly previous: TimeRange;
  readonly generatedAt: number;
  /** UTC days the period touches (the daily chart's length). */
  readonly days: number;
  readonly headline: {
    readonly incidents: Trend;
    readonly vehicles: Trend;
    readonly alerts: Trend;
    readonly alertedVehicles: Trend;
    /** Incidents of severity high or critical. */
    readonly severe: Trend;
    readonly closed: Trend;
    readonly medianHoursToClose: { readonly now: number | null; readonly before: number | null };
    readonly fleetVehicles: number;
  };
  readonly bySeverity: readonly TrendRow[];
  readonly byState: readonly TrendRow[];
  readonly byKind: readonly TrendRow[];
  /** R155 threat groups in Annex 5 order, then `unmapped`; rows with nothing in either period left out. */
  readonly byCategory: readonly TrendRow[];
  /** Assets by incidents now, most first; rows with nothing in either period left out. */
  readonly byAsset: readonly TrendRow[];
  /** Incidents per day: `now[i]` on day `days[i]` of the period, `before[i]` on the same day of the previous one. */
  readonly daily: { readonly days: readonly number[]; readonly now: readonly number[]; readonly before: readonly number[] };
  readonly techniques: readonly TrendRow[];
  readonly rules: readonly (TrendRow & { readonly alerts: number })[];
  /** Null when no intel store answers (the sections say so). */
  readonly vulnerabilities: null | {
    readonly top: readonly ExposedVulnerability[];
    /** First exposed a vehicle in the period, most vehicles first. */
    readonly fresh: readonly ExposedVulnerability[];
    readonly freshTrend: Trend;
    readonly exposing: number;
    readonly kevExposing: number;
    /** Vehicles exposed by the most exposing vulnerability (vehicles overlap across vulnerabilities, so no sum). */
    readonly maxVehicles: number;
    readonly truncated: boolean;
  };
  /** The written summary: sentences citing the figures above. */
  readonly summary: readonly string[];
}

/** How the store places incidents: the one mapping of taxonomy.ts. */
export const PLACEMENT: Placement = { assets: ASSET_RULES, categories: CATEGORY_TAGS, techniquePattern: ATM_TECHNIQUE.source };

/** Reads both periods and the exposure, then builds the bulletin. */
export async function loadBulletin(
  ports: { source: BulletinSource; exposure?: ExposureSummary },
  tenant: string,
  period: TimeRange,
  generatedAt: number,
): Promise<Bulletin> {
  checkPeriod(period);
  const q = { tenant, placement: PLACEMENT, top: TOP_ROWS * 3 };
  const current = await ports.source.periodCounts({ ...q, range: period });
  const previous = await ports.source.periodCounts({ ...q, range: previousPeriod(period) });
  const exposures = ports.exposure ? await ports.exposure.topExposed(tenant, EXPOSURE_LIMIT + 1) : null;
  return buildBulletin({ tenant, generatedAt, current, previous, exposures }, period);
}

/** A period the bulletin can cover, or a RangeError saying why not. */
export function checkPeriod(p: TimeRange): void {
  if (!Number.isFinite(p.from) || !Number.isFinite(p.to)) throw new RangeError('the period needs a start and an end');
  if (p.to <= p.from) throw new RangeError('the period ends before it starts (to must be after from; to is exclusive)');
  if (p.to - p.from > MAX_PERIOD_DAYS * DAY) throw new RangeError(`a bulletin covers at most ${MAX_PERIOD_DAYS} days`);
}

export interface BulletinInput {
  readonly tenant: string;
  readonly generatedAt: number;
  readonly current: PeriodCounts;
  readonly previous: PeriodCounts;
  /** Vulnerabilities exposing the fleet now, as the intel store ranks them; null: no intel store. */
  readonly exposures: readonly ExposedVulnerability[] | null;
}

/** The bulletin of `period` from the counts of it and of the previous period (pure). */
export function buildBulletin(input: BulletinInput, period: TimeRange): Bulletin {
  checkPeriod(period);
  const { current: now, previous: before } = input;
  const previous = previousPeriod(period);
  const severeOf = (c: PeriodCounts): number => c.bySeverity.filter((s) => s.key === 'high' || s.key === 'critical').reduce((n, s) => n + s.incidents, 0);
  const fixed = <K extends string>(keys: readonly K[], label: (k: K) => string, pick: (c: PeriodCounts) => readonly { key: string; incidents: number }[]): TrendRow[] =>
    keys.map((k) => ({ key: k, label: label(k), ...trend(countOf(pick(now), k), countOf(pick(before), k)) }));

  const categoryKeys = [...THREAT_GROUPS.map((g) => g.id as string), UNMAPPED];
  const byCategory = categoryKeys.map((k) => counted(k, `${k === UNMAPPED ? '' : `${k} `}${CATEGORY_LABELS[k] ?? k}`, now.byCategory, before.byCategory))
    .filter(nonEmpty);
  const byAsset = ASSETS.map((k) => counted(k, ASSET_LABELS[k], now.byAsset, before.byAsset)).filter(nonEmpty)
    .sort((a, b) => b.now - a.now || b.before - a.before || ASSETS.indexOf(a.key as never) - ASSETS.indexOf(b.key as never));

  // UTC days the period touches (a period need not start at midnight).
  const days = Math.floor((period.to - 1) / DAY) - Math.floor(period.from / DAY) + 1;
  const series = (c: PeriodCounts, from: number): number[] => {
    const out = new Array<number>(days).fill(0);
    for (const d of c.byDay) {
      const i = Math.floor((d.day - dayStart(from)) / DAY);
      if (i >= 0 && i < days) out[i] = (out[i] ?? 0) + d.incidents;
    }
    return out;
  };

  const vulnerabilities = input.exposures === null ? null : vulnerabilitySection(input.exposures, period, previous);
  const bulletin: Omit<Bulletin, 'summary'> = {
    tenant: input.tenant,
    period,
    previous,
    generatedAt: input.generatedAt,
    days,
    headline: {
      incidents: trend(now.incidents, before.incidents),
      vehicles: trend(now.vehicles, before.vehicles),
      alerts: trend(now.alerts, before.alerts),
      alertedVehicles: trend(now.alertedVehicles, before.alertedVehicles),
      severe: trend(severeOf(now), severeOf(before)),
      closed: trend(now.closed, before.closed),
      medianHoursToClose: { now: now.medianHoursToClose, before: before.medianHoursToClose },
      fleetVehicles: now.fleetVehicles,
    },
    bySeverity: fixed([...SEVERITIES].reverse() as Severity[], (s) => s, (c) => c.bySeverity),
    byState: fixed(INCIDENT_STATES as readonly IncidentState[], (s) => s.replace('_', ' '), (c) => c.byState),
    byKind: fixed(INCIDENT_KINDS as readonly IncidentKind[], (k) => k, (c) => c.byKind),
    byCategory,
    byAsset,
    daily: {
      days: Array.from({ length: days }, (_, i) => dayStart(period.from) + i * DAY),
      now: series(now, period.from),
      before: series(before, previous.from),
    },
    techniques: topRows(now.techniques.map((t) => ({ key: t.technique, n: t.incidents })), before.techniques.map((t) => ({ key: t.technique, n: t.incidents }))),
    rules: topRows(now.rules.map((r) => ({ key: r.rule, n: r.incidents })), before.rules.map((r) => ({ key: r.rule, n: r.incidents })))
      .map((row) => ({ ...row, alerts: now.rules.find((r) => r.rule === row.key)?.alerts ?? 0 })),
    vulnerabilities,
  };
  return { ...bulletin, summary: summarize(bulletin) };
}

const countOf = (rows: readonly { key: string; incidents: number }[], key: string): number => rows.find((r) => r.key === key)?.incidents ?? 0;
const nonEmpty = (r: TrendRow): boolean => r.now > 0 || r.before > 0;
const dayStart = (t: number): number => Math.floor(t / DAY) * DAY;

function counted(key: string, label: string, now: readonly Counted[], before: readonly Counted[]): TrendRow {
  const n = now.find((r) => r.key === key);
  return { key, label, ...trend(n?.incidents ?? 0, countOf(before, key)), vehicles: n?.vehicles ?? 0 };
}

/** This period's top rows (by count, then key), each with its count in the previous period. */
function topRows(now: readonly { key: string; n: number }[], before: readonly { key: string; n: number }[]): TrendRow[] {
  return [...now].sort((a, b) => b.n - a.n || a.key.localeCompare(b.key)).slice(0, TOP_ROWS)
    .map((r) => ({ key: r.key, label: r.key, ...trend(r.n, before.find((b) => b.key === r.key)?.n ?? 0) }));
}

const byExposure = (a: ExposedVulnerability, b: ExposedVulnerability): number =>
  b.vehicles - a.vehicles || b.priority - a.priority || (b.cvss ?? -1) - (a.cvss ?? -1) || a.id.localeCompare(b.id);

function vulnerabilitySection(all: readonly ExposedVulnerability[], period: TimeRange, previous: TimeRange): NonNullable<Bulletin['vulnerabilities']> {
  const truncated = all.length > EXPOSURE_LIMIT;
  const list = all.slice(0, EXPOSURE_LIMIT).filter((v) => v.vehicles > 0).sort(byExposure);
  const inRange = (v: ExposedVulnerability, r: TimeRange): boolean => v.firstExposedAt !== null && v.firstExposedAt >= r.from && v.firstExposedAt < r.to;
  const fresh = list.filter((v) => inRange(v, period));
  return {
    top: list.slice(0, TOP_ROWS),
    fresh: fresh.slice(0, TOP_ROWS),
    freshTrend: trend(fresh.length, list.filter((v) => inRange(v, previous)).length),
    exposing: list.length,
    kevExposing: list.filter((v) => v.kev).length,
    maxVehicles: list[0]?.vehicles ?? 0,
    truncated,
  };
}

const n = (x: number): string => x.toLocaleString('en-US');
const plural = (x: number, one: string, many = `${one}s`): string => `${n(x)} ${x === 1 ? one : many}`;

/** "(previous period: 30, +40.0%)" */
export function versus(t: Trend): string {
  if (t.changePct === null) return t.before === 0 && t.now === 0 ? '(none in the previous period either)' : `(previous period: ${n(t.before)})`;
  const sign = t.change > 0 ? '+' : t.change < 0 ? '−' : '±';
  return `(previous period: ${n(t.before)}, ${sign}${Math.abs(t.changePct).toFixed(1)}%)`;
}

function summarize(b: Omit<Bulletin, 'summary'>): string[] {
  const h = b.headline;
  const out: string[] = [];
  out.push(`Vigil opened ${plural(h.incidents.now, 'incident')} in the period ${versus(h.incidents)}, involving ${plural(h.vehicles.now, 'vehicle')} of the ${n(h.fleetVehicles)} known to the tenant, from ${plural(h.alerts.now, 'alert')} ${versus(h.alerts)}.`);
  if (h.incidents.now > 0) {
    out.push(`${n(h.severe.now)} of them ${h.severe.now === 1 ? 'was' : 'were'} of high or critical severity ${versus(h.severe)}; ${n(h.closed.now)} ${h.closed.now === 1 ? 'is' : 'are'} closed${h.medianHoursToClose.now === null ? '' : `, in a median of ${h.medianHoursToClose.now.toFixed(1)} hours from the first alert`}.`);
    const cat = [...b.byCategory].filter((r) => r.key !== UNMAPPED).sort((x, y) => y.now - x.now)[0];
    const asset = b.byAsset[0];
    if (cat && cat.now > 0) out.push(`The most frequent UN R155 threat group was ${cat.label} with ${plural(cat.now, 'incident')} ${versus(cat)}.`);
    if (asset && asset.now > 0) out.push(`The asset most often involved was ${asset.label.replace(/ \(.*\)$/, '').toLowerCase()} with ${plural(asset.now, 'incident')} ${versus(asset)}.`);
    const rising = b.byAsset.filter((r) => r.change > 0).sort((x, y) => y.change - x.change)[0];
    if (rising && rising !== asset) out.push(`The largest rise was on ${rising.label.replace(/ \(.*\)$/, '').toLowerCase()}: ${n(rising.now)} incidents against ${n(rising.before)}.`);
  }
  const v = b.vulnerabilities;
  if (v === null) out.push('No vulnerability exposure is available: the intel store was not connected when this bulletin was made.');
  else if (v.exposing === 0) out.push('No known vulnerability exposes a vehicle of the tenant now.');
  else {
    const top = v.top[0]!;
    out.push(`${plural(v.exposing, 'vulnerability', 'vulnerabilities')}${v.truncated ? ' (at least)' : ''} ${v.exposing === 1 ? 'exposes' : 'expose'} vehicles of the tenant now, ${n(v.kevExposing)} of them listed in CISA KEV; the widest, ${top.id}, exposes ${plural(top.vehicles, 'vehicle')}.`);
    out.push(`${plural(v.freshTrend.now, 'vulnerability', 'vulnerabilities')} first exposed the fleet in the period ${versus(v.freshTrend)}.`);
  }
  return out;
}
