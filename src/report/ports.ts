/**
 * What the bulletin reads. `BulletinSource` counts one period's incidents and alerts in the
 * store (the DuckDB adapter aggregates in SQL: src/adapters/duckdb/report-store.ts);
 * `ExposureSummary` (the intel store) gives the vulnerabilities exposing the fleet now.
 * Every method is scoped to one tenant.
 */
import type { TimeRange } from '../alerts/fleet.js';
import type { IncidentKind, IncidentState } from '../alerts/model.js';
import type { Severity } from '../core/records.js';
import type { Asset, ThreatGroup } from './taxonomy.js';

export type { ExposedVulnerability, ExposureSummary } from './exposure.js';

/** How the store places incidents (taxonomy.ts): passed in, so the mapping lives in one place. */
export interface Placement {
  /** Rule-id prefix -> asset; the longest matching prefix wins; none: `other`. */
  readonly assets: readonly { readonly prefix: string; readonly asset: Asset }[];
  /** Exact alert tag -> category; incidents with none of these tags are `unmapped`. */
  readonly categories: readonly { readonly tag: string; readonly category: ThreatGroup }[];
  /** Tags counted as ATM techniques (a regular expression's source, matched in SQL). */
  readonly techniquePattern: string;
}

export interface PeriodQuery {
  readonly tenant: string;
  readonly range: TimeRange;
  readonly placement: Placement;
  /** Rows kept of the rule and technique lists. */
  readonly top: number;
}

export interface Counted<K extends string = string> {
  readonly key: K;
  /** Distinct incidents. */
  readonly incidents: number;
  /** Distinct vehicles in them (their own vehicle and their alerts' vehicles). */
  readonly vehicles: number;
}

/**
 * One period's figures. Incidents fall in the period by the event time of their first alert,
 * alerts by their event time (as in the fleet views).
 */
export interface PeriodCounts {
  readonly incidents: number;
  /** Distinct vehicles in those incidents. */
  readonly vehicles: number;
  /** Alerts raised in the period, and the distinct vehicles they name. */
  readonly alerts: number;
  readonly alertedVehicles: number;
  readonly bySeverity: readonly { readonly key: Severity; readonly incidents: number }[];
  readonly byState: readonly { readonly key: IncidentState; readonly incidents: number }[];
  readonly byKind: readonly { readonly key: IncidentKind; readonly incidents: number }[];
  /** By R155 threat group; `unmapped` for incidents without an R155 tag. */
  readonly byCategory: readonly Counted[];
  readonly byAsset: readonly Counted[];
  /** Incidents per UTC day of the period (`day`: epoch ms of the day's start); days without incidents are left out. */
  readonly byDay: readonly { readonly day: number; readonly incidents: number }[];
  /** ATM techniques by incidents, most first (at most `top`). */
  readonly techniques: readonly { readonly technique: string; readonly incidents: number }[];
  /** Rules by incidents, most first (at most `top`). */
  readonly rules: readonly { readonly rule: string; readonly incidents: number; readonly alerts: number }[];
  /** Incidents of the period closed (resolved or false positive) by now, and the median hours from first alert to close. */
  readonly closed: number;
  readonly medianHoursToClose: number | null;
  /** Vehicles of the tenant the store knows (registered or seen). */
  readonly fleetVehicles: number;
}

export interface BulletinSource {
  periodCounts(q: PeriodQuery): Promise<PeriodCounts>;
}
