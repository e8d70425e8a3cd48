/**
 * Suppressions: analyst-defined conditions under which an alert is kept (stored, with outcome
 * `suppressed`) but raises nothing, until the suppression expires. A suppression matches an
 * alert when every condition it names holds:
 *
 * - `rule`, `vehicle`: equal to the alert's (absent = any);
 * - `match`: equality conditions on the alert's details (`details.can_id`, `details.group.rule`)
 *   or on the vehicle's attributes (`make`, `model`, `year`, `trim`, `region`,
 *   `software.<ECU>`); a condition on a value the alert or vehicle does not have fails;
 * - the suppression has not expired at the time of the decision (the pipeline's clock).
 *
 * Numbers and strings compare by their text (`{ 'details.can_id': '2015' }` matches 2015).
 * Hits are counted per suppression until `takeHits()` hands them to the store.
 */
import type { Alert, VehicleIdentity } from '../core/records.js';
import type { Suppression } from './model.js';

/** Vehicle attributes a suppression may test, beside `software.<ECU>`. */
export const SUPPRESSION_VEHICLE_FIELDS = ['make', 'model', 'year', 'trim', 'region'] as const;

/** Most conditions in one suppression's `match`. */
export const MAX_MATCH_CONDITIONS = 16;

/** What the suppression matcher (and scoring) knows of a vehicle. */
export interface VehicleFacts extends VehicleIdentity {
  /** Moving at the last reading of the live twin (speed > 0). */
  readonly moving?: boolean;
}

const FIELD = /^(details(\.[A-Za-z0-9_-]+)+|software\.[A-Za-z0-9_-]{1,40}|make|model|year|trim|region)$/;

/** Problems of a `match` map (empty when valid), as `match.<key>: reason`, for API validation. */
export function suppressionMatchProblems(match: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const keys = Object.keys(match);
  if (keys.length > MAX_MATCH_CONDITIONS) problems.push(`match: at most ${MAX_MATCH_CONDITIONS} conditions, got ${keys.length}`);
  for (const key of keys) {
    if (!FIELD.test(key)) problems.push(`match.${key}: not a condition field (details.<path>, make, model, year, trim, region or software.<ECU>)`);
    const v = match[key];
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) problems.push(`match.${key}: must be a string, number or boolean`);
  }
  return problems;
}

export class SuppressionMatcher {
  private byTenant = new Map<string, Suppression[]>();
  private readonly hits = new Map<string, Map<string, number>>();

  constructor(suppressions: readonly Suppression[] = []) {
    this.replace(suppressions);
  }

  /** Take a fresh list (from the store); hits not yet taken are kept. */
  replace(suppressions: readonly Suppression[]): void {
    const next = new Map<string, Suppression[]>();
    for (const s of suppressions) {
      let list = next.get(s.tenant);
      if (!list) next.set(s.tenant, (list = []));
      list.push(s);
    }
    this.byTenant = next;
  }

  get size(): number {
    let n = 0;
    for (const list of this.byTenant.values()) n += list.length;
    return n;
  }

  /** The first suppression (oldest created) matching `alert` at `now`; counts a hit for it. */
  match(alert: Alert, vehicle: VehicleFacts | undefined, now: number): Suppression | undefined {
    const list = this.byTenant.get(alert.tenant);
    if (!list) return undefined;
    for (const s of list) {
      if (s.expiresAt <= now) continue;
      if (s.rule !== undefined && s.rule !== alert.rule) continue;
      if (s.vehicle !== undefined && s.vehicle !== alert.vehicle) continue;
      if (!Object.entries(s.match).every(([field, want]) => same(valueOf(field, alert, vehicle), want))) continue;
      let tenantHits = this.hits.get(s.tenant);
      if (!tenantHits) this.hits.set(s.tenant, (tenantHits = new Map()));
      tenantHits.set(s.id, (tenantHits.get(s.id) ?? 0) + 1);
      return s;
    }
    return undefined;
  }

  /** Hits counted since the last call, per tenant and suppression id. */
  takeHits(): Map<string, Map<string, number>> {
    const out = new Map(this.hits);
    this.hits.clear();
    return out;
  }
}

function valueOf(field: string, alert: Alert, vehicle: VehicleFacts | undefined): unknown {
  if (field.startsWith('details.')) {
    let v: unknown = alert.details;
    for (const part of field.slice('details.'.length).split('.')) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
      v = (v as Record<string, unknown>)[part];
    }
    return v;
  }
  if (field.startsWith('software.')) return vehicle?.software?.[field.slice('software.'.length)];
  return vehicle?.[field as (typeof SUPPRESSION_VEHICLE_FIELDS)[number]];
}

function same(have: unknown, want: string | number | boolean): boolean {
  if (have === undefined || have === null || typeof have === 'object') return false;
  return have === want || String(have) === String(want);
}
