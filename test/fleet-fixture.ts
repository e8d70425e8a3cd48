/**
 * A deterministic fleet with alerts and incidents, for the fleet-view tests and the
 * `fleet-views` bench. Vehicles come from the simulator's fleet generator (make, model, year,
 * trim, region, ECU software; tenants assigned by it); alerts and incidents are drawn from a
 * seeded PRNG, so the same options always give the same rows. Planted on purpose, in the first
 * tenant:
 *   - `PLANTED_TCU`: the TCU software of `planted` vehicles, 80% of which raise `tcu-exploit`
 *     alerts (the rule fires on about 0.3% of the other vehicles);
 *   - `LONE_IVI`: the IVI software of exactly one vehicle, which raises `tcu-exploit` too.
 * Every tenant also has alerts without a vehicle and alerts of an unregistered vehicle.
 *
 * The expected answers are not computed here: tests compute them from these rows themselves.
 */
import type { DuckDBTimestampValue } from '@duckdb/node-api';
import type { SerialConnection } from '../src/adapters/duckdb/connection.js';
import { timeParam, vehicleParam } from '../src/adapters/duckdb/values.js';
import type { Alert, Severity, VehicleRecord } from '../src/core/records.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { Fleet } from '../src/sim/fleet.js';
import { Mulberry32, hash32 } from '../src/sim/prng.js';

export const DAY = 86_400_000;
export const PLANTED_TCU = 'TCU-X 0.9.1-rc';
export const LONE_IVI = 'IVI-ONE 0.0.1';
export const EXPLOIT_RULE = 'tcu-exploit';
/** Background rules and the severities they raise. */
export const RULES: readonly (readonly [string, readonly Severity[]])[] = [
  ['can-unknown-id', ['low', 'medium']],
  ['uds-session-while-moving', ['medium', 'high']],
  ['ota-hash-mismatch', ['high', 'critical']],
  ['api-credential-stuffing', ['medium']],
  ['gnss-spoofing', ['info', 'low', 'medium']],
];

export interface FixtureOptions {
  readonly seed: number;
  readonly vehicles: number;
  readonly tenants: readonly string[];
  /** Share of vehicles that raise background alerts, and their mean number of alerts over the window. */
  readonly noisyShare: number;
  readonly alertsPerNoisy: number;
  /** Vehicles of the first tenant running PLANTED_TCU. */
  readonly planted: number;
  /** Alerts fall in [end - days, end). */
  readonly end: number;
  readonly days: number;
  /** Group alerts into incidents: one per vehicle and 30-day window, one campaign per tenant for the exploit. */
  readonly incidents: boolean;
}

export interface FixtureIncident {
  readonly tenant: string;
  readonly id: string;
  readonly kind: 'vehicle' | 'campaign';
  readonly vehicle?: string;
  readonly severity: Severity;
  readonly rules: readonly string[];
  readonly firstAlertAt: number;
  readonly lastAlertAt: number;
  readonly alerts: readonly { readonly id: string; readonly vehicle?: string }[];
}

export interface FleetFixture {
  readonly vehicles: readonly VehicleRecord[];
  readonly alerts: readonly Alert[];
  readonly incidents: readonly FixtureIncident[];
  /** Keys of the vehicles running PLANTED_TCU. */
  readonly planted: ReadonlySet<string>;
  /** Key of the one vehicle running LONE_IVI. */
  readonly lone: string;
  /** Key of an alerting vehicle that is not registered, per tenant. */
  readonly unregistered: ReadonlyMap<string, string>;
}

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function fleetFixture(o: FixtureOptions): FleetFixture {
  const fleet = new Fleet(o.seed, o.vehicles, o.tenants);
  const keys = new Pseudonymizer('fleet-fixture-secret-0123456789');
  const first = o.tenants[0]!;
  const vehicles: VehicleRecord[] = [];
  const alerts: Alert[] = [];
  const planted = new Set<string>();
  let lone = '';
  const start = o.end - o.days * DAY;
  let n = 0;
  const alert = (tenant: string, vehicle: string | undefined, rule: string, severity: Severity, time: number): void => {
    alerts.push({ id: `a${++n}`, tenant, ...(vehicle ? { vehicle } : {}), time, detectedAt: time + 500, rule, title: rule, severity, tags: [], details: {} });
  };
  for (const id of fleet.identities()) {
    const key = keys.key(id.tenant, id.vin);
    const rng = new Mulberry32(hash32(o.seed, id.index, 99));
    const software = { ...id.software };
    const isFirst = id.tenant === first;
    const isPlanted = isFirst && planted.size < o.planted && rng.next() < 0.5;
    if (isPlanted) {
      software['TCU'] = PLANTED_TCU;
      planted.add(key);
    } else if (isFirst && lone === '' && id.index > 10) {
      software['IVI'] = LONE_IVI;
      lone = key;
    }
    vehicles.push({ tenant: id.tenant, id: key, make: id.make, model: id.model, year: id.year, trim: id.trim, region: id.region, software, signalCount: 0 });
    if (rng.next() < o.noisyShare) {
      const count = 1 + Math.floor(rng.next() * 2 * o.alertsPerNoisy);
      for (let k = 0; k < count; k++) {
        const [rule, sevs] = RULES[rng.int(RULES.length)]!;
        alert(id.tenant, key, rule, sevs[rng.int(sevs.length)]!, start + Math.floor(rng.next() * o.days * DAY));
      }
    }
    if (isPlanted ? rng.next() < 0.8 : key === lone || rng.next() < 0.003) {
      const count = 1 + rng.int(3);
      for (let k = 0; k < count; k++) alert(id.tenant, key, EXPLOIT_RULE, rng.next() < 0.5 ? 'high' : 'critical', start + Math.floor(rng.next() * o.days * DAY));
    }
  }
  if (planted.size < o.planted) throw new Error(`fleet too small to plant ${o.planted} vehicles (planted ${planted.size})`);
  // Fleet-level alerts (no vehicle) and an unregistered vehicle in every tenant.
  const unregistered = new Map<string, string>();
  const rng = new Mulberry32(o.seed);
  for (const tenant of o.tenants) {
    const stray = keys.key(tenant, `UNREGISTERED-${tenant}`);
    unregistered.set(tenant, stray);
    for (let k = 0; k < 5; k++) {
      alert(tenant, undefined, 'fleet-correlation', 'high', start + Math.floor(rng.next() * o.days * DAY));
      alert(tenant, stray, 'can-unknown-id', 'medium', start + Math.floor(rng.next() * o.days * DAY));
    }
  }
  return { vehicles, alerts, incidents: o.incidents ? groupIncidents(alerts, o.end) : [], planted, lone, unregistered };
}

/** One incident per vehicle and 30-day window (background rules), one campaign per tenant for the exploit rule. */
function groupIncidents(alerts: readonly Alert[], end: number): FixtureIncident[] {
  const groups = new Map<string, { tenant: string; kind: 'vehicle' | 'campaign'; vehicle?: string; list: Alert[] }>();
  for (const a of alerts) {
    if (a.vehicle === undefined) continue;
    const campaign = a.rule === EXPLOIT_RULE;
    const window = Math.floor((end - a.time) / (30 * DAY));
    const gk = campaign ? `${a.tenant}|campaign` : `${a.tenant}|${a.vehicle}|${window}`;
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { tenant: a.tenant, kind: campaign ? 'campaign' : 'vehicle', ...(campaign ? {} : { vehicle: a.vehicle }), list: [] }));
    g.list.push(a);
  }
  let n = 0;
  return [...groups.values()].map((g) => ({
    tenant: g.tenant,
    id: `inc-${++n}`,
    kind: g.kind,
    ...(g.vehicle ? { vehicle: g.vehicle } : {}),
    severity: g.list.reduce<Severity>((s, a) => (RANK[a.severity] > RANK[s] ? a.severity : s), 'info'),
    rules: [...new Set(g.list.map((a) => a.rule))].sort(),
    firstAlertAt: Math.min(...g.list.map((a) => a.time)),
    lastAlertAt: Math.max(...g.list.map((a) => a.time)),
    alerts: g.list.map((a) => ({ id: a.id, ...(a.vehicle ? { vehicle: a.vehicle } : {}) })),
  }));
}

/**
 * Writes incidents and their alert links straight into the migration-4 tables (appenders: the
 * bench writes tens of thousands). The caller holds no turn of the connection.
 */
export async function insertIncidents(db: SerialConnection, incidents: readonly FixtureIncident[]): Promise<void> {
  const ts = (ms: number): DuckDBTimestampValue => timeParam(ms, 'time') as DuckDBTimestampValue;
  await db.exclusive(async () => {
    const inc = await db.appender('incidents');
    const links = await db.appender('incident_alerts');
    for (const i of incidents) {
      inc.appendVarchar(i.tenant);
      inc.appendVarchar(i.id);
      inc.appendVarchar(i.kind);
      inc.appendVarchar(i.vehicle ?? `campaign:${i.rules.join(',')}`);
      inc.appendVarchar(`${i.kind} ${i.id}`);
      inc.appendVarchar('new');
      inc.appendVarchar(i.severity);
      inc.appendDouble(50);
      inc.appendNull();
      inc.appendVarchar('[]');
      if (i.vehicle === undefined) inc.appendNull();
      else inc.appendUBigInt(vehicleParam(i.vehicle));
      inc.appendVarchar(JSON.stringify(i.rules));
      inc.appendInteger(new Set(i.alerts.map((a) => a.vehicle)).size);
      inc.appendInteger(i.alerts.length);
      inc.appendTimestamp(ts(i.firstAlertAt));
      inc.appendTimestamp(ts(i.lastAlertAt));
      inc.appendTimestamp(ts(i.firstAlertAt));
      inc.appendTimestamp(ts(i.lastAlertAt));
      inc.appendNull();
      inc.appendNull();
      inc.appendVarchar('{}');
      inc.endRow();
      for (const a of i.alerts) {
        links.appendVarchar(i.tenant);
        links.appendVarchar(i.id);
        links.appendVarchar(a.id);
        if (a.vehicle === undefined) links.appendNull();
        else links.appendUBigInt(vehicleParam(a.vehicle));
        links.appendTimestamp(ts(i.lastAlertAt));
        links.endRow();
      }
    }
    inc.flushSync();
    inc.closeSync();
    links.flushSync();
    links.closeSync();
  });
}

/**
 * Appends alerts straight into `alerts` (the bench's million; the store's insertAlerts checks
 * every id against the primary key through a staging table, which is the slow part). Their
 * tenants must be registered already (upsertVehicles does it).
 */
export async function appendAlerts(db: SerialConnection, alerts: readonly Alert[]): Promise<void> {
  await db.exclusive(async () => {
    const ids = new Map((await db.all<{ id: number; name: string }>('SELECT id, name FROM tenants')).map((r) => [r.name, r.id]));
    const app = await db.appender('alerts');
    for (const a of alerts) {
      const tenant = ids.get(a.tenant);
      if (tenant === undefined) throw new Error(`tenant ${a.tenant} is not registered`);
      app.appendUSmallInt(tenant);
      app.appendVarchar(a.id);
      if (a.vehicle === undefined) app.appendNull();
      else app.appendUBigInt(vehicleParam(a.vehicle));
      app.appendTimestamp(timeParam(a.time, 'time') as DuckDBTimestampValue);
      app.appendTimestamp(timeParam(a.detectedAt, 'detectedAt') as DuckDBTimestampValue);
      app.appendVarchar(a.rule);
      app.appendVarchar(a.title);
      app.appendVarchar(a.severity);
      app.appendVarchar(JSON.stringify(a.tags));
      app.appendVarchar(JSON.stringify(a.details));
      app.endRow();
    }
    app.flushSync();
    app.closeSync();
  });
}
