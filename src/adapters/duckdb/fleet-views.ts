/**
 * The fleet views (src/alerts/fleet.ts) over the DuckDB tables: `alerts` and `vehicles` (tenant
 * as its USMALLINT id), `incidents` and `incident_alerts` (tenant as its name), vehicle keys
 * UBIGINT everywhere.
 *
 * Shape of every query: the alerts of the range are first folded per vehicle (1M alerts -> at
 * most one row per vehicle), and only then joined to `vehicles`, so the JSON of `software` is
 * read once per vehicle, not once per alert. Incidents are turned into (incident, vehicle) pairs
 * — the incident's own vehicle and the vehicles of its linked alerts — and counted distinct, so
 * a campaign over many vehicles counts once in every group it touches. Dimension names reach SQL
 * only after `parseDimension` (attributes from a fixed list, ECU names `[A-Za-z0-9_-]`); every
 * value is a bound parameter.
 */
import type { DuckDBTimestampValue } from '@duckdb/node-api';
import {
  ecuOf, previousPeriod, scoreCommonality, trendRow,
  type AlertFilter, type AttributeCount, type CommonalityQuery, type CommonalityResult, type CountRow, type CountsQuery,
  type CountsResult, type Dimension, type FleetViews, type GroupKey, type TimeRange, type TopQuery, type TopResult, type TopRule,
  type TopVehicle, type TrendQuery, type TrendResult, type TrendRow,
} from '../../alerts/fleet.js';
import { SEVERITIES, type Severity } from '../../core/records.js';
import { StoreError } from '../../core/errors.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { timeParam, vehicleParam, vehicleValue } from './values.js';

/** Severity rank in SQL: 1 (info) .. 5 (critical). */
const SEVERITY_RANK = (col: string): string => `list_position([${SEVERITIES.map((s) => `'${s}'`).join(', ')}], ${col})`;

/** The temporary table holding the vehicle set of a commonality query (inside one turn of the connection). */
const SET_TABLE = 'fleet_views_set';

/** Collects bound parameters in the order their `?` appear in the SQL text. */
class Params {
  readonly list: SqlParam[] = [];
  bind(v: SqlParam): string {
    this.list.push(v);
    return '?';
  }
  time(ms: number, field: string): string {
    return this.bind(timeParam(ms, field) as DuckDBTimestampValue);
  }
  in(values: readonly string[]): string {
    return `(${values.map((v) => this.bind(v)).join(', ')})`;
  }
}

/** The SQL value of dimension `d` for the vehicle row `v`. */
function dimensionSql(d: Dimension, v = 'v'): string {
  const ecu = ecuOf(d);
  // Safe to splice: parseDimension admits only a fixed attribute list and ECU names of [A-Za-z0-9_-].
  if (ecu !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(ecu)) throw new StoreError(`invalid ECU name in dimension ${JSON.stringify(d)}`);
    return `json_extract_string(${v}.software, '$."${ecu}"')`;
  }
  if (!['make', 'model', 'year', 'trim', 'region'].includes(d)) throw new StoreError(`invalid dimension ${JSON.stringify(d)}`);
  return `${v}.${d}`;
}

const dimSelect = (by: readonly Dimension[], v = 'v'): string => by.map((d, i) => `${dimensionSql(d, v)} AS d${i}`).join(', ');
const dimOrder = (by: readonly Dimension[]): string => by.map((_, i) => `, d${i} NULLS LAST`).join('');

function groupKey(by: readonly Dimension[], row: Record<string, unknown>): GroupKey {
  const key: Record<string, string | number | null> = {};
  by.forEach((d, i) => {
    const x = row[`d${i}`];
    key[d] = x === null || x === undefined ? null : typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : String(x);
  });
  return key;
}

const num = (x: unknown): number => (x === null || x === undefined ? 0 : Number(x));
const severityOf = (rank: unknown): Severity | null => (rank === null || rank === undefined ? null : SEVERITIES[Number(rank) - 1] ?? null);
const timeOf = (us: unknown): number | null => (us === null || us === undefined ? null : Number(us) / 1000);

/** Conditions on `alerts` (alias-free) for tenant, range and filter. */
function alertWhere(p: Params, tenantId: number, range: TimeRange, filter: AlertFilter): string {
  let sql = `tenant = ${p.bind(tenantId)} AND ts >= ${p.time(range.from, 'from')} AND ts < ${p.time(range.to, 'to')}`;
  if (filter.severity?.length) sql += ` AND severity IN ${p.in(filter.severity)}`;
  if (filter.rule?.length) sql += ` AND rule IN ${p.in(filter.rule)}`;
  return sql;
}

/** Conditions on `incidents` for tenant, range (by first alert) and filter. */
function incidentWhere(p: Params, tenant: string, range: TimeRange, filter: AlertFilter): string {
  let sql = `tenant = ${p.bind(tenant)} AND first_alert_at >= ${p.time(range.from, 'from')} AND first_alert_at < ${p.time(range.to, 'to')}`;
  if (filter.severity?.length) sql += ` AND severity IN ${p.in(filter.severity)}`;
  if (filter.rule?.length) sql += ` AND list_has_any(from_json(rules, '["VARCHAR"]'), [${filter.rule.map((r) => p.bind(r)).join(', ')}])`;
  return sql;
}

/** `(incident, vehicle)` of every incident of the tenant: its own vehicle and those of its alerts. */
function incidentVehicles(p: Params, tenant: string): string {
  return `SELECT id AS incident, vehicle FROM incidents WHERE tenant = ${p.bind(tenant)} AND vehicle IS NOT NULL
    UNION SELECT incident, vehicle FROM incident_alerts WHERE tenant = ${p.bind(tenant)} AND vehicle IS NOT NULL`;
}

/** The fleet views on the DuckDB store's connection (`new DuckDBFleetViews(store.connection)`). */
export class DuckDBFleetViews implements FleetViews {
  constructor(private readonly db: SerialConnection) {}

  counts(q: CountsQuery): Promise<CountsResult> {
    if (q.by.length === 0) throw new StoreError('counts needs at least one dimension');
    return this.db.exclusive(async () => {
      const tid = await this.tenantId(q.tenant);
      const p = new Params();
      const units = q.of === 'alerts'
        ? `a AS (SELECT vehicle, count(*) AS n FROM alerts WHERE ${alertWhere(p, tid, q.range, q.filter)} GROUP BY vehicle),
           g AS (SELECT ${dimSelect(q.by)}, sum(a.n)::BIGINT AS count, count(a.vehicle) AS vehicles
                 FROM a LEFT JOIN vehicles v ON v.tenant = ${p.bind(tid)} AND v.id = a.vehicle GROUP BY ALL)`
        : `i AS (SELECT id FROM incidents WHERE ${incidentWhere(p, q.tenant, q.range, q.filter)}),
           iv AS (SELECT DISTINCT i.id AS incident, x.vehicle FROM i LEFT JOIN (${incidentVehicles(p, q.tenant)}) x ON x.incident = i.id),
           g AS (SELECT ${dimSelect(q.by)}, count(DISTINCT iv.incident) AS count, count(DISTINCT iv.vehicle) AS vehicles
                 FROM iv LEFT JOIN vehicles v ON v.tenant = ${p.bind(tid)} AND v.id = iv.vehicle GROUP BY ALL)`;
      const join = q.by.map((_, i) => `g.d${i} IS NOT DISTINCT FROM f.d${i}`).join(' AND ');
      const sql = `WITH ${units},
        f AS (SELECT ${dimSelect(q.by)}, count(*) AS fleet FROM vehicles v WHERE v.tenant = ${p.bind(tid)} GROUP BY ALL)
        SELECT g.*, coalesce(f.fleet, 0) AS fleet FROM g LEFT JOIN f ON ${join}
        ORDER BY count DESC${dimOrder(q.by)} LIMIT ${p.bind(q.limit + 1)}`;
      const rows = await this.db.all<Record<string, unknown>>(sql, p.list);
      const groups = rows.slice(0, q.limit).map((r): CountRow => ({ key: groupKey(q.by, r), count: num(r['count']), vehicles: num(r['vehicles']), fleetVehicles: num(r['fleet']) }));
      const t = new Params();
      const totalSql = q.of === 'alerts'
        ? `SELECT count(*) AS count, count(DISTINCT vehicle) AS vehicles FROM alerts WHERE ${alertWhere(t, tid, q.range, q.filter)}`
        : `WITH i AS (SELECT id FROM incidents WHERE ${incidentWhere(t, q.tenant, q.range, q.filter)})
           SELECT count(DISTINCT i.id) AS count, count(DISTINCT x.vehicle) AS vehicles FROM i LEFT JOIN (${incidentVehicles(t, q.tenant)}) x ON x.incident = i.id`;
      const [total] = await this.db.all<Record<string, unknown>>(totalSql, t.list);
      return { total: { count: num(total?.['count']), vehicles: num(total?.['vehicles']) }, groups, truncated: rows.length > q.limit };
    });
  }

  topVehicles(q: TopQuery): Promise<TopResult<TopVehicle>> {
    return this.db.exclusive(async () => {
      const tid = await this.tenantId(q.tenant);
      const p = new Params();
      const order = q.by === 'alerts' ? 'alerts DESC, incidents DESC' : q.by === 'incidents' ? 'incidents DESC, alerts DESC' : 'sev DESC NULLS LAST, alerts DESC, incidents DESC';
      const sql = `WITH
        a AS (SELECT vehicle, count(*) AS alerts, count(DISTINCT rule) AS rules, max(${SEVERITY_RANK('severity')}) AS sev, max(ts) AS last
              FROM alerts WHERE ${alertWhere(p, tid, q.range, q.filter)} AND vehicle IS NOT NULL GROUP BY vehicle),
        i AS (SELECT id, severity FROM incidents WHERE ${incidentWhere(p, q.tenant, q.range, q.filter)}),
        iv AS (SELECT x.vehicle, count(DISTINCT i.id) AS incidents, max(${SEVERITY_RANK('i.severity')}) AS sev
               FROM i JOIN (${incidentVehicles(p, q.tenant)}) x ON x.incident = i.id GROUP BY x.vehicle),
        t AS (SELECT coalesce(a.vehicle, iv.vehicle) AS vehicle, coalesce(a.alerts, 0) AS alerts, coalesce(iv.incidents, 0) AS incidents,
                greatest(a.sev, iv.sev) AS sev, coalesce(a.rules, 0) AS rules, epoch_us(a.last) AS last
              FROM a FULL JOIN iv ON a.vehicle = iv.vehicle)
        SELECT t.*, v.make, v.model, v.year, v.trim, v.region
        FROM t LEFT JOIN vehicles v ON v.tenant = ${p.bind(tid)} AND v.id = t.vehicle
        ORDER BY ${order}, t.vehicle LIMIT ${p.bind(q.limit + 1)}`;
      const rows = await this.db.all<Record<string, unknown>>(sql, p.list);
      const items = rows.slice(0, q.limit).map((r): TopVehicle => ({
        vehicle: vehicleValue(r['vehicle'] as bigint),
        alerts: num(r['alerts']), incidents: num(r['incidents']), maxSeverity: severityOf(r['sev']), rules: num(r['rules']), lastAlertAt: timeOf(r['last']),
        make: (r['make'] as string | null) ?? null, model: (r['model'] as string | null) ?? null,
        year: r['year'] === null || r['year'] === undefined ? null : Number(r['year']),
        trim: (r['trim'] as string | null) ?? null, region: (r['region'] as string | null) ?? null,
      }));
      return { items, truncated: rows.length > q.limit };
    });
  }

  topRules(q: TopQuery): Promise<TopResult<TopRule>> {
    return this.db.exclusive(async () => {
      const tid = await this.tenantId(q.tenant);
      const p = new Params();
      const order = q.by === 'alerts' ? 'alerts DESC, incidents DESC' : q.by === 'incidents' ? 'incidents DESC, alerts DESC' : 'sev DESC NULLS LAST, alerts DESC, incidents DESC';
      const ruleFilter = q.filter.rule?.length ? `WHERE rule IN ${p.in(q.filter.rule)}` : '';
      const sql = `WITH
        a AS (SELECT rule, count(*) AS alerts, count(DISTINCT vehicle) AS vehicles, max(${SEVERITY_RANK('severity')}) AS sev, max(ts) AS last
              FROM alerts WHERE ${alertWhere(p, tid, q.range, q.filter)} GROUP BY rule),
        ir AS (SELECT rule, count(DISTINCT id) AS incidents, max(${SEVERITY_RANK('severity')}) AS sev FROM (
                 SELECT id, severity, unnest(from_json(rules, '["VARCHAR"]')) AS rule
                 FROM incidents WHERE ${incidentWhere(p, q.tenant, q.range, q.filter)}) ${ruleFilter} GROUP BY rule)
        SELECT coalesce(a.rule, ir.rule) AS rule, coalesce(a.alerts, 0) AS alerts, coalesce(a.vehicles, 0) AS vehicles,
          coalesce(ir.incidents, 0) AS incidents, greatest(a.sev, ir.sev) AS sev, epoch_us(a.last) AS last
        FROM a FULL JOIN ir ON a.rule = ir.rule
        ORDER BY ${order}, rule LIMIT ${p.bind(q.limit + 1)}`;
      const rows = await this.db.all<Record<string, unknown>>(sql, p.list);
      const items = rows.slice(0, q.limit).map((r): TopRule => ({
        rule: String(r['rule']), alerts: num(r['alerts']), vehicles: num(r['vehicles']), incidents: num(r['incidents']),
        maxSeverity: severityOf(r['sev']), lastAlertAt: timeOf(r['last']),
      }));
      return { items, truncated: rows.length > q.limit };
    });
  }

  trend(q: TrendQuery): Promise<TrendResult> {
    return this.db.exclusive(async () => {
      const tid = await this.tenantId(q.tenant);
      const previous = previousPeriod(q.range);
      const whole = { from: previous.from, to: q.range.to };
      const units = (p: Params): string => q.of === 'alerts'
        ? `a AS (SELECT vehicle, count_if(ts >= ${p.time(q.range.from, 'from')}) AS now, count_if(ts < ${p.time(q.range.from, 'from')}) AS before
                 FROM alerts WHERE ${alertWhere(p, tid, whole, q.filter)} GROUP BY vehicle)`
        : `i AS (SELECT id, first_alert_at >= ${p.time(q.range.from, 'from')} AS is_now FROM incidents WHERE ${incidentWhere(p, q.tenant, whole, q.filter)}),
           iv AS (SELECT DISTINCT i.id AS incident, i.is_now, x.vehicle FROM i LEFT JOIN (${incidentVehicles(p, q.tenant)}) x ON x.incident = i.id)`;
      const measures = q.of === 'alerts'
        ? 'sum(a.now)::BIGINT AS now, sum(a.before)::BIGINT AS before'
        : 'count(DISTINCT iv.incident) FILTER (WHERE iv.is_now) AS now, count(DISTINCT iv.incident) FILTER (WHERE NOT iv.is_now) AS before';
      const unit = q.of === 'alerts' ? 'a' : 'iv';

      const t = new Params();
      const totalSql = `WITH ${units(t)} SELECT ${measures} FROM ${unit}`;
      const [tot] = await this.db.all<Record<string, unknown>>(totalSql, t.list);
      const total = trendRow({}, num(tot?.['now']), num(tot?.['before']));

      let groups: TrendRow[] = [];
      let truncated = false;
      if (q.by.length) {
        const p = new Params();
        const order = q.sort === 'change' ? 'now - before DESC, now DESC' : 'now DESC, before DESC';
        const sql = `WITH ${units(p)}, g AS (SELECT ${dimSelect(q.by)}, ${measures}
            FROM ${unit} LEFT JOIN vehicles v ON v.tenant = ${p.bind(tid)} AND v.id = ${unit}.vehicle GROUP BY ALL)
          SELECT * FROM g ORDER BY ${order}${dimOrder(q.by)} LIMIT ${p.bind(q.limit + 1)}`;
        const rows = await this.db.all<Record<string, unknown>>(sql, p.list);
        groups = rows.slice(0, q.limit).map((r) => trendRow(groupKey(q.by, r), num(r['now']), num(r['before'])));
        truncated = rows.length > q.limit;
      }
      return { previous, total, groups, truncated };
    });
  }

  commonality(q: CommonalityQuery): Promise<CommonalityResult> {
    return this.db.exclusive(async () => {
      const tid = await this.tenantId(q.tenant);
      await this.db.run(`CREATE OR REPLACE TEMP TABLE ${SET_TABLE} (vehicle UBIGINT)`);
      try {
        if (q.set.kind === 'alerted') {
          const p = new Params();
          await this.db.run(`INSERT INTO ${SET_TABLE} SELECT DISTINCT vehicle FROM alerts
            WHERE ${alertWhere(p, tid, q.set.range, q.set.filter)} AND vehicle IS NOT NULL`, p.list);
        } else {
          const app = await this.db.appender(SET_TABLE);
          for (const key of new Set(q.set.vehicles)) {
            app.appendUBigInt(vehicleParam(key));
            app.endRow();
          }
          app.flushSync();
          app.closeSync();
        }
        const fv = `SELECT v.make, v.model, v.year, v.trim, v.region, v.software, s.vehicle IS NOT NULL AS in_set
          FROM vehicles v LEFT JOIN ${SET_TABLE} s ON s.vehicle = v.id WHERE v.tenant = ?`;
        const [sizes] = await this.db.all<Record<string, unknown>>(
          `WITH fv AS (${fv}) SELECT count(*) AS fleet, count_if(in_set) AS in_set, (SELECT count(*) FROM ${SET_TABLE}) AS set_all FROM fv`, [tid]);
        const plain = ['make', 'model', 'year', 'trim', 'region']
          .map((a) => `SELECT '${a}' AS attribute, ${a === 'year' ? 'CAST(year AS VARCHAR)' : a} AS value, in_set FROM fv WHERE ${a} IS NOT NULL`);
        const software = `SELECT 'software.' || e.key AS attribute, e.value ->> '$' AS value, in_set FROM fv, json_each(fv.software) e
          WHERE fv.software IS NOT NULL AND json_type(e.value) <> 'NULL'`;
        const rows = await this.db.all<{ attribute: string; value: string; fleet: bigint; in_set: bigint }>(
          `WITH fv AS (${fv}), av AS (${[...plain, software].join(' UNION ALL ')})
           SELECT attribute, value, count(*) AS fleet, count_if(in_set) AS in_set FROM av GROUP BY attribute, value`, [tid]);
        const values = rows.map((r): AttributeCount => ({
          attribute: r.attribute, value: r.attribute === 'year' ? Number(r.value) : r.value, setCount: Number(r.in_set), fleetCount: Number(r.fleet),
        }));
        const setSize = num(sizes?.['in_set']);
        return scoreCommonality({ setSize, fleetSize: num(sizes?.['fleet']), unknownVehicles: num(sizes?.['set_all']) - setSize, values }, q.options);
      } finally {
        await this.db.run(`DROP TABLE IF EXISTS ${SET_TABLE}`);
      }
    });
  }

  /** The tenant's id in `alerts` and `vehicles`; 0 (never assigned) when it has written nothing. */
  private async tenantId(name: string): Promise<number> {
    const [row] = await this.db.all<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [name]);
    return row?.id ?? 0;
  }
}
