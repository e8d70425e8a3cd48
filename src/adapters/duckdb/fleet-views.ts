/**
 * The fleet views (src/alerts/fleet.ts) over the DuckDB tables: `alerts` and `vehicles` (tenant
 * as its USMALLINT id), `incidents` and `incident_alerts` (tenant as its name), vehicle keys
 * UBIGINT everywhere.
 *
 * Shape of every query: the alerts of the range are first folded per vehicle (1M alerts -> at
 * most one row per vehicle), and only then joined to `vehicles`, so the JSON of `software` is
 * read once per vehicle, not once per alert. Incidents are turned into (incident, vehicle) pairs
 * — the incident's own vehicle and the vehicles of its linked alerts — and counted distinct, so
 * a campaign over many vehicles counts once in every group it touches; a `vehicle` incident's
 * vehicle is its own (its alerts are that vehicle's), so only other kinds read `incident_alerts`.
 * ECU software comes unpacked from fleet-attributes.ts instead of the JSON of every vehicle, and
 * commonality's fleet side from the value counts kept there. Totals
 * come from the same statement as the groups. Attribute names reach SQL only from a fixed list;
 * ECU names and every value are bound parameters.
 */
import type { DuckDBTimestampValue } from '@duckdb/node-api';
import {
  ecuOf, previousPeriod, scoreCommonality, trendRow,
  type AlertFilter, type AttributeCount, type CommonalityQuery, type CommonalityResult, type CountRow, type CountsQuery,
  type CountsResult, type Dimension, type FleetViews, type GroupKey, type TimeRange, type TopQuery, type TopResult, type TopRule,
  type TopVehicle, type TrendQuery, type TrendResult,
} from '../../alerts/fleet.js';
import { SEVERITIES, type Severity } from '../../core/records.js';
import { StoreError } from '../../core/errors.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { ATTRIBUTE_TABLE, FleetAttributes, UNPACKED_TABLE, VALUE_COUNT_TABLE } from './fleet-attributes.js';
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
  /** A tenant id, typed as the column so the comparison needs no cast per row. */
  tenant(id: number): string {
    return `${this.bind(id)}::USMALLINT`;
  }
  time(ms: number, field: string): string {
    return this.bind(timeParam(ms, field) as DuckDBTimestampValue);
  }
  in(values: readonly string[]): string {
    return `(${values.map((v) => this.bind(v)).join(', ')})`;
  }
}

const ATTRIBUTES: ReadonlySet<string> = new Set(['make', 'model', 'year', 'trim', 'region']);

/**
 * The tenant's vehicles with their values of `by` as columns `d0, d1, ...`: `(id, d0, ...)`.
 * Software dimensions join the unpacked attributes (refresh them first).
 */
function fleetDims(p: Params, tid: number, by: readonly Dimension[]): string {
  const cols: string[] = [];
  const joins: string[] = [];
  by.forEach((d, i) => {
    const ecu = ecuOf(d);
    if (ecu !== undefined) {
      joins.push(`LEFT JOIN ${ATTRIBUTE_TABLE} s${i} ON s${i}.tenant = v.tenant AND s${i}.id = v.id AND s${i}.attribute = ${p.bind(d)}`);
      cols.push(`s${i}.value AS d${i}`);
    } else {
      // Spliced only from the fixed list of attribute columns.
      if (!ATTRIBUTES.has(d)) throw new StoreError(`invalid dimension ${JSON.stringify(d)}`);
      cols.push(`v.${d} AS d${i}`);
    }
  });
  return `SELECT v.id, ${cols.join(', ')} FROM vehicles v ${joins.join(' ')} WHERE v.tenant = ${p.tenant(tid)}`;
}

const dimCols = (by: readonly Dimension[], alias: string): string => by.map((_, i) => `${alias}.d${i} AS d${i}`).join(', ');
const dimOrder = (by: readonly Dimension[]): string => by.map((_, i) => `, d${i} NULLS LAST`).join('');
const dimJoin = (by: readonly Dimension[], a: string, b: string): string => by.map((_, i) => `${a}.d${i} IS NOT DISTINCT FROM ${b}.d${i}`).join(' AND ') || 'true';

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
  let sql = `tenant = ${p.tenant(tenantId)} AND ts >= ${p.time(range.from, 'from')} AND ts < ${p.time(range.to, 'to')}`;
  if (filter.severity?.length) sql += ` AND severity IN ${p.in(filter.severity)}`;
  if (filter.rule?.length) sql += ` AND rule IN ${p.in(filter.rule)}`;
  return sql;
}

/** Conditions on `incidents` for tenant, range (by first alert) and filter. */
function incidentWhere(p: Params, tenant: string, range: TimeRange, filter: AlertFilter): string {
  let sql = `tenant = ${p.bind(tenant)} AND first_alert_at >= ${p.time(range.from, 'from')} AND first_alert_at < ${p.time(range.to, 'to')}`;
  if (filter.severity?.length) sql += ` AND severity IN ${p.in(filter.severity)}`;
  if (filter.rule?.length) sql += ` AND list_has_any(CAST(rules AS VARCHAR[]), [${filter.rule.map((r) => p.bind(r)).join(', ')}])`;
  return sql;
}

/**
 * The incidents in the range, numbered: `i(n, id, kind, vehicle, severity, first_alert_at)`.
 * Incidents are counted distinct by `n`, an integer: distinct counts over the VARCHAR ids cost
 * several times more. The CTE must be MATERIALIZED: `row_number() OVER ()` has no order, so two
 * evaluations could number differently.
 */
function incidentsIn(p: Params, tenant: string, range: TimeRange, filter: AlertFilter): string {
  return `SELECT row_number() OVER () AS n, id, kind, vehicle, severity, first_alert_at FROM incidents WHERE ${incidentWhere(p, tenant, range, filter)}`;
}

/**
 * `(n, vehicle)` of the incidents of CTE `i` (see incidentsIn): one row per vehicle involved, or
 * one with vehicle NULL for an incident without any. A `vehicle` incident's alerts are all its
 * own vehicle's, so only other kinds read their alert links.
 */
function incidentVehicles(p: Params, tenant: string): string {
  return `WITH lv AS (SELECT i.n, l.vehicle FROM incident_alerts l JOIN i ON i.id = l.incident AND i.kind <> 'vehicle'
                  WHERE l.tenant = ${p.bind(tenant)} AND l.vehicle IS NOT NULL)
    SELECT DISTINCT n, vehicle FROM (SELECT n, vehicle FROM i WHERE vehicle IS NOT NULL UNION ALL SELECT n, vehicle FROM lv)
    UNION ALL SELECT n, NULL FROM i WHERE vehicle IS NULL AND n NOT IN (SELECT n FROM lv)`;
}

/** The fleet views on the DuckDB store's connection (`new DuckDBFleetViews(store.connection)`). */
export class DuckDBFleetViews implements FleetViews {
  private readonly attributes: FleetAttributes;

  constructor(private readonly db: SerialConnection) {
    this.attributes = new FleetAttributes(db);
  }

  counts(q: CountsQuery): Promise<CountsResult> {
    if (q.by.length === 0) throw new StoreError('counts needs at least one dimension');
    return this.db.exclusive(async () => {
      const tid = await this.prepare(q.tenant, q.by);
      const p = new Params();
      const vd = fleetDims(p, tid, q.by);
      const units = q.of === 'alerts'
        ? `a AS (SELECT vehicle, count(*) AS n FROM alerts WHERE ${alertWhere(p, tid, q.range, q.filter)} GROUP BY vehicle),
           g AS (SELECT ${dimCols(q.by, 'vd')}, sum(a.n)::BIGINT AS count, count(a.vehicle) AS vehicles FROM a LEFT JOIN vd ON vd.id = a.vehicle GROUP BY ALL),
           tot AS (SELECT sum(n)::BIGINT AS count, count(vehicle) AS vehicles FROM a)`
        : `i AS MATERIALIZED (${incidentsIn(p, q.tenant, q.range, q.filter)}),
           iv AS (${incidentVehicles(p, q.tenant)}),
           g AS (SELECT ${dimCols(q.by, 'vd')}, count(DISTINCT iv.n) AS count, count(DISTINCT iv.vehicle) AS vehicles FROM iv LEFT JOIN vd ON vd.id = iv.vehicle GROUP BY ALL),
           tot AS (SELECT count(DISTINCT n) AS count, count(DISTINCT vehicle) AS vehicles FROM iv)`;
      const sql = `WITH vd AS (${vd}), ${units},
        f AS (SELECT ${dimCols(q.by, 'vd')}, count(*) AS fleet FROM vd GROUP BY ALL)
        SELECT g.*, coalesce(f.fleet, 0) AS fleet, tot.count AS total_count, tot.vehicles AS total_vehicles
        FROM g LEFT JOIN f ON ${dimJoin(q.by, 'g', 'f')} CROSS JOIN tot
        ORDER BY count DESC${dimOrder(q.by)} LIMIT ${p.bind(q.limit + 1)}`;
      const rows = await this.db.all<Record<string, unknown>>(sql, p.list);
      const groups = rows.slice(0, q.limit).map((r): CountRow => ({ key: groupKey(q.by, r), count: num(r['count']), vehicles: num(r['vehicles']), fleetVehicles: num(r['fleet']) }));
      // No group means nothing counted: the totals are 0.
      return { total: { count: num(rows[0]?.['total_count']), vehicles: num(rows[0]?.['total_vehicles']) }, groups, truncated: rows.length > q.limit };
    });
  }
  topVehicles(q: TopQuery): Promise<TopResult<TopVehicle>> {
    return this.db.exclusive(async () => {
      const tid = await this.prepare(q.tenant, []);
      const p = new Params();
      const sql = `WITH
        -- Many groups with few rules each: count(DISTINCT rule) is cheap here (unlike per rule, in topRules).
        a AS (SELECT vehicle, count(*) AS alerts, count(DISTINCT rule) AS rules, max(${SEVERITY_RANK('severity')}) AS sev, max(ts) AS last
              FROM alerts WHERE ${alertWhere(p, tid, q.range, q.filter)} AND vehicle IS NOT NULL GROUP BY vehicle),
        i AS MATERIALIZED (${incidentsIn(p, q.tenant, q.range, q.filter)}),
        iv AS (${incidentVehicles(p, q.tenant)}),
        ic AS (SELECT iv.vehicle, count(*) AS incidents, max(${SEVERITY_RANK('i.severity')}) AS sev
               FROM iv JOIN i ON i.n = iv.n WHERE iv.vehicle IS NOT NULL GROUP BY iv.vehicle),
        t AS (SELECT coalesce(a.vehicle, ic.vehicle) AS vehicle, coalesce(a.alerts, 0) AS alerts, coalesce(ic.incidents, 0) AS incidents,
                greatest(a.sev, ic.sev) AS sev, coalesce(a.rules, 0) AS rules, epoch_us(a.last) AS last
              FROM a FULL JOIN ic ON a.vehicle = ic.vehicle
              ORDER BY ${TOP_ORDER[q.by]}, vehicle LIMIT ${p.bind(q.limit + 1)})
        SELECT t.*, v.make, v.model, v.year, v.trim, v.region
        FROM t LEFT JOIN vehicles v ON v.tenant = ${p.tenant(tid)} AND v.id = t.vehicle
        ORDER BY ${TOP_ORDER[q.by]}, t.vehicle`;
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
      const tid = await this.prepare(q.tenant, []);
      const p = new Params();
      const sql = `WITH
        -- Folded per (rule, vehicle) first: few groups with many vehicles each make count(DISTINCT vehicle) slow.
        rv AS (SELECT rule, vehicle, count(*) AS n, max(${SEVERITY_RANK('severity')}) AS sev, max(ts) AS last
              FROM alerts WHERE ${alertWhere(p, tid, q.range, q.filter)} GROUP BY rule, vehicle),
        a AS (SELECT rule, sum(n)::BIGINT AS alerts, count(vehicle) AS vehicles, max(sev) AS sev, max(last) AS last FROM rv GROUP BY rule),
        -- An incident's rules are distinct (model.ts), so counting rows counts incidents.
        ir AS (SELECT rule, count(*) AS incidents, max(${SEVERITY_RANK('severity')}) AS sev FROM (
                 SELECT severity, unnest(CAST(rules AS VARCHAR[])) AS rule
                 FROM incidents WHERE ${incidentWhere(p, q.tenant, q.range, q.filter)})
               ${q.filter.rule?.length ? `WHERE rule IN ${p.in(q.filter.rule)}` : ''} GROUP BY rule)
        SELECT coalesce(a.rule, ir.rule) AS rule, coalesce(a.alerts, 0) AS alerts, coalesce(a.vehicles, 0) AS vehicles,
          coalesce(ir.incidents, 0) AS incidents, greatest(a.sev, ir.sev) AS sev, epoch_us(a.last) AS last
        FROM a FULL JOIN ir ON a.rule = ir.rule
        ORDER BY ${TOP_ORDER[q.by]}, rule LIMIT ${p.bind(q.limit + 1)}`;
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
      const tid = await this.prepare(q.tenant, q.by);
      const previous = previousPeriod(q.range);
      const whole = { from: previous.from, to: q.range.to };
      const p = new Params();
      const vd = fleetDims(p, tid, q.by);
      const units = q.of === 'alerts'
        ? `a AS (SELECT vehicle, count_if(ts >= ${p.time(q.range.from, 'from')}) AS now, count(*) AS n
                 FROM alerts WHERE ${alertWhere(p, tid, whole, q.filter)} GROUP BY vehicle),
           u AS (SELECT a.vehicle, a.now, a.n - a.now AS before FROM a)`
        : `i AS MATERIALIZED (${incidentsIn(p, q.tenant, whole, q.filter)}),
           u AS (SELECT iv.n, iv.vehicle, i.first_alert_at >= ${p.time(q.range.from, 'from')} AS is_now FROM (${incidentVehicles(p, q.tenant)}) iv JOIN i ON i.n = iv.n)`;
      const measures = q.of === 'alerts'
        ? 'sum(u.now)::BIGINT AS now, sum(u.before)::BIGINT AS before'
        : 'count(DISTINCT u.n) FILTER (WHERE u.is_now) AS now, count(DISTINCT u.n) FILTER (WHERE NOT u.is_now) AS before';
      const order = q.sort === 'change' ? 'now - before DESC, now DESC' : 'now DESC, before DESC';
      // The overall row (grouping() not 0) comes from the same scan as the groups.
      const dims = q.by.map((_, i) => `vd.d${i}`).join(', ');
      const sql = q.by.length
        ? `WITH vd AS (${vd}), ${units},
           g AS (SELECT ${dimCols(q.by, 'vd')}, ${measures}, grouping(${dims}) <> 0 AS overall
                 FROM u LEFT JOIN vd ON vd.id = u.vehicle GROUP BY GROUPING SETS ((${dims}), ()))
           SELECT * FROM g ORDER BY overall DESC, ${order}${dimOrder(q.by)} LIMIT ${p.bind(q.limit + 2)}`
        : `WITH vd AS (${vd}), ${units} SELECT ${measures}, true AS overall FROM u`;
      const rows = await this.db.all<Record<string, unknown>>(sql, p.list);
      const [first, ...rest] = rows;
      const total = first && first['overall'] === true ? trendRow({}, num(first['now']), num(first['before'])) : trendRow({}, 0, 0);
      const groupRows = q.by.length ? (first && first['overall'] === true ? rest : rows) : [];
      const groups = groupRows.slice(0, q.limit).map((r) => trendRow(groupKey(q.by, r), num(r['now']), num(r['before'])));
      return { previous, total, groups, truncated: groupRows.length > q.limit };
    });
  }

  commonality(q: CommonalityQuery): Promise<CommonalityResult> {
    return this.db.exclusive(async () => {
      const tid = await this.prepare(q.tenant, ['software.*']);
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
        // The set's values from the unpacked attributes; the fleet's from the counts kept with them.
        const rows = await this.db.all<{ attribute: string; value: string; fleet: bigint; in_set: bigint }>(
          `WITH sc AS (SELECT a.attribute, a.value, count(*) AS k FROM ${ATTRIBUTE_TABLE} a JOIN ${SET_TABLE} s ON s.vehicle = a.id
                       WHERE a.tenant = ?::USMALLINT GROUP BY a.attribute, a.value)
           SELECT c.attribute, c.value, c.fleet, coalesce(sc.k, 0) AS in_set
           FROM ${VALUE_COUNT_TABLE} c LEFT JOIN sc ON sc.attribute = c.attribute AND sc.value = c.value WHERE c.tenant = ?::USMALLINT`, [tid, tid]);
        const [sizes] = await this.db.all<{ fleet: bigint; in_set: bigint; set_all: bigint }>(
          `SELECT (SELECT count(*) FROM ${UNPACKED_TABLE} WHERE tenant = ?::USMALLINT) AS fleet,
             (SELECT count(*) FROM ${SET_TABLE} s JOIN ${UNPACKED_TABLE} u ON u.id = s.vehicle AND u.tenant = ?::USMALLINT) AS in_set,
             (SELECT count(*) FROM ${SET_TABLE}) AS set_all`, [tid, tid]);
        const values = rows.map((r): AttributeCount => ({
          attribute: r.attribute, value: r.attribute === 'year' ? Number(r.value) : r.value, setCount: Number(r.in_set), fleetCount: Number(r.fleet),
        }));
        const setSize = num(sizes?.in_set);
        return scoreCommonality({ setSize, fleetSize: num(sizes?.fleet), unknownVehicles: num(sizes?.set_all) - setSize, values }, q.options);
      } finally {
        await this.db.run(`DROP TABLE IF EXISTS ${SET_TABLE}`);
      }
    });
  }

  /** The tenant's id in `alerts` and `vehicles` (0, never assigned, when it has written nothing); the unpacked attributes brought up to date when `by` needs them. */
  private async prepare(tenant: string, by: readonly string[]): Promise<number> {
    const [row] = await this.db.all<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [tenant]);
    const tid = row?.id ?? 0;
    if (by.some((d) => d.startsWith('software.'))) await this.attributes.refresh(tid);
    return tid;
  }
}

const TOP_ORDER: Record<TopQuery['by'], string> = {
  alerts: 'alerts DESC, incidents DESC',
  incidents: 'incidents DESC, alerts DESC',
  severity: 'sev DESC NULLS LAST, alerts DESC, incidents DESC',
};
