/**
 * Fleet views: alerts and incidents counted by what the vehicles are (make, model, year, trim,
 * region, ECU software), the top vehicles and rules, the trend against the previous period, and
 * commonality — the attribute values over-represented among a set of vehicles compared with the
 * tenant's whole fleet. The port `FleetViews` is answered by SQL (src/adapters/duckdb/fleet-views.ts);
 * the statistics of commonality are computed here, pure, from the counts the adapter returns.
 *
 *   const views: FleetViews = new DuckDBFleetViews(store.connection);
 *   await views.counts({ tenant: 'acme', of: 'alerts', by: ['make', 'model', 'year'], range, filter: {}, limit: 100 });
 *
 * Every view is scoped to one tenant: a row of another tenant is never counted. Times are epoch
 * ms; a range is [from, to). Alerts fall in a range by their event time; incidents by the event
 * time of their first alert.
 */
import type { Severity } from '../core/records.js';

/** Vehicle attributes a view can group by (columns of the stored vehicle record). */
export const VEHICLE_ATTRIBUTES = ['make', 'model', 'year', 'trim', 'region'] as const;
export type VehicleAttribute = (typeof VEHICLE_ATTRIBUTES)[number];

/** A grouping dimension: a vehicle attribute, or the software version of one ECU (`software.TCU`). */
export type Dimension = VehicleAttribute | `software.${string}`;

/** ECU names a `software.<ECU>` dimension may name (they reach SQL as a JSON path, so no quotes). */
export const ECU_NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** Most dimensions one view groups by at once. */
export const MAX_DIMENSIONS = 4;

/** The dimension `s` names, or a reason it names none. */
export function parseDimension(s: string): { dimension: Dimension } | { problem: string } {
  if ((VEHICLE_ATTRIBUTES as readonly string[]).includes(s)) return { dimension: s as VehicleAttribute };
  if (s.startsWith('software.')) {
    const ecu = s.slice('software.'.length);
    if (ECU_NAME.test(ecu)) return { dimension: `software.${ecu}` };
    return { problem: `${JSON.stringify(s.slice(0, 60))}: an ECU name is 1 to 40 letters, digits, - or _` };
  }
  return { problem: `unknown dimension ${JSON.stringify(s.slice(0, 60))}; known: ${VEHICLE_ATTRIBUTES.join(', ')}, software.<ECU>` };
}

/** The ECU of a `software.<ECU>` dimension, undefined for a vehicle attribute. */
export function ecuOf(d: Dimension): string | undefined {
  return d.startsWith('software.') ? d.slice('software.'.length) : undefined;
}

/** A time range [from, to), epoch ms. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** The period of the same length just before `r`. */
export function previousPeriod(r: TimeRange): TimeRange {
  return { from: r.from - (r.to - r.from), to: r.from };
}

/** Which alerts (or incidents) count: empty lists and absent fields mean all. */
export interface AlertFilter {
  /** Alert severity (incidents: the incident's severity, the highest of its alerts). */
  readonly severity?: readonly Severity[];
  /** Rule ids (incidents: those with at least one of these rules among their alerts). */
  readonly rule?: readonly string[];
}

export const FLEET_MEASURES = ['alerts', 'incidents'] as const;
export type FleetMeasure = (typeof FLEET_MEASURES)[number];

/** The values of a group, by dimension name; null where the vehicle has no value (or is not registered). */
export type GroupKey = Readonly<Record<string, string | number | null>>;

export interface CountsQuery {
  readonly tenant: string;
  readonly of: FleetMeasure;
  readonly by: readonly Dimension[];
  readonly range: TimeRange;
  readonly filter: AlertFilter;
  /** Most groups returned (largest counts first). */
  readonly limit: number;
}

export interface CountRow {
  readonly key: GroupKey;
  /** Alerts, or distinct incidents touching a vehicle of the group. */
  readonly count: number;
  /** Distinct vehicles of the group that alerted (or are in a counted incident). */
  readonly vehicles: number;
  /** Vehicles of the group in the tenant's fleet (alerted or not): the denominator of a rate. */
  readonly fleetVehicles: number;
}

export interface CountsResult {
  /** Over the whole range: alerts (or distinct incidents) and distinct vehicles. */
  readonly total: { readonly count: number; readonly vehicles: number };
  readonly groups: readonly CountRow[];
  /** More groups than `limit` exist. */
  readonly truncated: boolean;
}

export const TOP_SUBJECTS = ['vehicles', 'rules'] as const;
export const TOP_ORDERS = ['alerts', 'incidents', 'severity'] as const;
export type TopOrder = (typeof TOP_ORDERS)[number];

export interface TopQuery {
  readonly tenant: string;
  /** Sort by alert count, incident count, or highest severity (then alert count). */
  readonly by: TopOrder;
  readonly range: TimeRange;
  readonly filter: AlertFilter;
  readonly limit: number;
}

export interface TopVehicle {
  readonly vehicle: string;
  readonly alerts: number;
  readonly incidents: number;
  /** Highest severity among its alerts and incidents in the range. */
  readonly maxSeverity: Severity | null;
  /** Distinct rules among its alerts. */
  readonly rules: number;
  readonly lastAlertAt: number | null;
  readonly make: string | null;
  readonly model: string | null;
  readonly year: number | null;
  readonly trim: string | null;
  readonly region: string | null;
}

export interface TopRule {
  readonly rule: string;
  readonly alerts: number;
  /** Distinct vehicles among its alerts. */
  readonly vehicles: number;
  /** Distinct incidents listing the rule. */
  readonly incidents: number;
  readonly maxSeverity: Severity | null;
  readonly lastAlertAt: number | null;
}

export interface TopResult<T> {
  readonly items: readonly T[];
  readonly truncated: boolean;
}

export const TREND_ORDERS = ['count', 'change'] as const;
export type TrendOrder = (typeof TREND_ORDERS)[number];

export interface TrendQuery {
  readonly tenant: string;
  readonly of: FleetMeasure;
  /** Empty: the overall trend only. */
  readonly by: readonly Dimension[];
  readonly range: TimeRange;
  readonly filter: AlertFilter;
  /** Groups by count now (default) or by change (largest rise first). */
  readonly sort: TrendOrder;
  readonly limit: number;
}

export interface TrendRow {
  readonly key: GroupKey;
  /** Count in the range. */
  readonly now: number;
  /** Count in the previous period of the same length. */
  readonly before: number;
  /** now - before. */
  readonly change: number;
  /** 100 * (now - before) / before, one decimal; null when before is 0. */
  readonly changePct: number | null;
}

export interface TrendResult {
  readonly previous: TimeRange;
  readonly total: TrendRow;
  readonly groups: readonly TrendRow[];
  readonly truncated: boolean;
}

/** A trend row from its two counts. */
export function trendRow(key: GroupKey, now: number, before: number): TrendRow {
  return { key, now, before, change: now - before, changePct: before === 0 ? null : Math.round((1000 * (now - before)) / before) / 10 };
}

/** The vehicles whose attributes commonality compares with the fleet. */
export type VehicleSet =
  /** Vehicles with at least one alert in the range that passes the filter. */
  | { readonly kind: 'alerted'; readonly range: TimeRange; readonly filter: AlertFilter }
  /** An explicit list of vehicle keys. */
  | { readonly kind: 'vehicles'; readonly vehicles: readonly string[] };

export interface CommonalityQuery {
  readonly tenant: string;
  readonly set: VehicleSet;
  readonly options: CommonalityOptions;
}

export interface CommonalityOptions {
  /** Values held by a smaller share of the set are left out (0..1). */
  readonly minSupport: number;
  /** A value needs at least this many vehicles of the set to be significant. */
  readonly minCount: number;
  /** Significance level for the Bonferroni-adjusted p-value. */
  readonly alpha: number;
  readonly limit: number;
}

export const DEFAULT_COMMONALITY: CommonalityOptions = { minSupport: 0.05, minCount: 3, alpha: 0.01, limit: 50 };

/** How many vehicles of the set and of the fleet hold one attribute value (what the adapter counts). */
export interface AttributeCount {
  /** `make`, `model`, `year`, `trim`, `region` or `software.<ECU>`. */
  readonly attribute: string;
  readonly value: string | number;
  readonly setCount: number;
  readonly fleetCount: number;
}

/** The counts commonality is computed from. */
export interface CommonalityCounts {
  /** Vehicles of the set that are in the tenant's fleet (n). */
  readonly setSize: number;
  /** Vehicles in the tenant's fleet (N). */
  readonly fleetSize: number;
  /** Vehicles of the set not in the fleet (unregistered, or another tenant's): not compared. */
  readonly unknownVehicles: number;
  /** Every attribute value held by at least one vehicle of the fleet. */
  readonly values: readonly AttributeCount[];
}

export interface CommonalityRow extends AttributeCount {
  /** setCount / setSize. */
  readonly support: number;
  /** fleetCount / fleetSize. */
  readonly fleetShare: number;
  /** support / fleetShare: how many times more common in the set than in the fleet. */
  readonly lift: number;
  /** setCount expected if the set were a random draw from the fleet: setSize * fleetShare. */
  readonly expected: number;
  /** One-sided hypergeometric P(X >= setCount) for a random set of setSize vehicles. */
  readonly pValue: number;
  /** min(1, pValue * tested): Bonferroni over every value tested. */
  readonly pAdjusted: number;
  /** setCount >= minCount and pAdjusted < alpha. */
  readonly significant: boolean;
}

export interface CommonalityResult {
  readonly setSize: number;
  readonly fleetSize: number;
  readonly unknownVehicles: number;
  /** Attribute values tested (the Bonferroni factor). */
  readonly tested: number;
  /** Over-represented values (lift > 1, support >= minSupport): significant first, then by lift. */
  readonly items: readonly CommonalityRow[];
  readonly truncated: boolean;
}

/**
 * The over-represented attribute values of a set. A value held by K of the N fleet vehicles
 * and k of the n set vehicles has support k/n, fleet share K/N, lift (k/n)/(K/N), and p-value
 * P(X >= k) with X ~ Hypergeometric(N, K, n): the chance that n vehicles drawn at random from
 * the fleet hold the value at least k times. Every fleet value is one test, so the p-value is
 * Bonferroni-adjusted by their number; with a minimum count, one vehicle holding a rare value
 * cannot make a 'lift 50' headline.
 */
export function scoreCommonality(c: CommonalityCounts, o: CommonalityOptions): CommonalityResult {
  const { setSize: n, fleetSize: N } = c;
  const tested = c.values.length;
  const rows: CommonalityRow[] = [];
  if (n > 0 && N > 0) {
    for (const v of c.values) {
      const support = v.setCount / n;
      const fleetShare = v.fleetCount / N;
      if (v.setCount === 0 || fleetShare === 0 || support < o.minSupport || support <= fleetShare) continue;
      const pValue = hypergeometricTail(N, v.fleetCount, n, v.setCount);
      const pAdjusted = Math.min(1, pValue * tested);
      rows.push({
        ...v, support, fleetShare, lift: support / fleetShare, expected: n * fleetShare,
        pValue, pAdjusted, significant: v.setCount >= o.minCount && pAdjusted < o.alpha,
      });
    }
  }
  rows.sort((a, b) => Number(b.significant) - Number(a.significant) || b.lift - a.lift || b.setCount - a.setCount ||
    (a.attribute < b.attribute ? -1 : a.attribute > b.attribute ? 1 : String(a.value) < String(b.value) ? -1 : 1));
  return { setSize: n, fleetSize: N, unknownVehicles: c.unknownVehicles, tested, items: rows.slice(0, o.limit), truncated: rows.length > o.limit };
}

/**
 * P(X >= k) for X ~ Hypergeometric(population N, successes K, draws n). Summed from k upwards
 * with the ratio of consecutive terms; stops once the terms past the mode no longer change the sum.
 */
export function hypergeometricTail(N: number, K: number, n: number, k: number): number {
  for (const [name, x] of [['N', N], ['K', K], ['n', n], ['k', k]] as const) {
    if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`hypergeometricTail: ${name} must be an integer >= 0, got ${x}`);
  }
  if (K > N || n > N) throw new RangeError(`hypergeometricTail: K (${K}) and n (${n}) must not exceed N (${N})`);
  const lo = Math.max(0, n + K - N);
  const hi = Math.min(n, K);
  if (k <= lo) return 1;
  if (k > hi) return 0;
  const mode = Math.floor(((n + 1) * (K + 1)) / (N + 2));
  const pmf = (x: number): number => Math.exp(logChoose(K, x) + logChoose(N - K, n - x) - logChoose(N, n));
  if (k > mode) {
    // The upper tail falls from its first term: sum upwards until the terms stop counting.
    let term = pmf(k);
    let sum = term;
    for (let x = k; x < hi && term > sum * 1e-17; x++) {
      term *= ((K - x) * (n - x)) / ((x + 1) * (N - K - n + x + 1));
      sum += term;
    }
    return Math.min(1, sum);
  }
  // k at or below the mode: 1 - P(X <= k - 1), that lower tail falling from k - 1 downwards
  // (summing up from k would start at terms too small for a float when k is far below the mode).
  let term = pmf(k - 1);
  let sum = term;
  for (let x = k - 1; x > lo && term > sum * 1e-17; x--) {
    term *= (x * (N - K - n + x)) / ((K - x + 1) * (n - x + 1));
    sum += term;
  }
  return Math.min(1, Math.max(0, 1 - sum));
}

/** ln C(n, k). */
export function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const SMALL_LOG_FACTORIALS = (() => {
  const t = new Float64Array(256);
  for (let i = 2; i < t.length; i++) t[i] = t[i - 1]! + Math.log(i);
  return t;
})();

/** ln n!: exact sums below 256, Stirling's series with four correction terms above (error < 1e-14). */
function logFactorial(n: number): number {
  if (n < SMALL_LOG_FACTORIALS.length) return SMALL_LOG_FACTORIALS[n]!;
  const x = n + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
}

/**
 * What the fleet views answer. Implemented over SQL by the store adapters; each method is scoped
 * to `q.tenant`.
 */
export interface FleetViews {
  /** Alerts or incidents per group of `q.by` in the range, largest first. */
  counts(q: CountsQuery): Promise<CountsResult>;
  /** Vehicles with the most alerts, incidents, or the highest severity in the range. */
  topVehicles(q: TopQuery): Promise<TopResult<TopVehicle>>;
  /** Rules with the most alerts, incidents, or the highest severity in the range. */
  topRules(q: TopQuery): Promise<TopResult<TopRule>>;
  /** Counts in the range against the previous period of the same length, overall and per group. */
  trend(q: TrendQuery): Promise<TrendResult>;
  /** The attribute values over-represented among a set of vehicles (scoreCommonality over the counts). */
  commonality(q: CommonalityQuery): Promise<CommonalityResult>;
}
