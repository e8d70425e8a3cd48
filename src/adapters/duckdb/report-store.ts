/**
 * The bulletin's figures (src/report/ports.ts) counted in DuckDB. One turn of the connection
 * per period: the period's incidents go into a temporary table (`incidents` by the time of their
 * first alert), with their vehicles — their own and their alerts' — and the tags of their
 * alerts (`incident_alerts` joined to `alerts`); every figure is then one GROUP BY over those.
 * The placement tables of src/report/taxonomy.ts (rule prefix -> asset, R155 tag -> threat
 * group) travel as bound parameters into temporary tables; the longest matching prefix places
 * a rule (`arg_max(asset, length(prefix))`). `alerts` and `vehicles` key the tenant by its
 * USMALLINT id, the incident tables by its name.
 */
import type { DuckDBTimestampValue } from '@duckdb/node-api';
import type { IncidentKind, IncidentState } from '../../alerts/model.js';
import type { Severity } from '../../core/records.js';
import type { BulletinSource, Counted, PeriodCounts, PeriodQuery } from '../../report/ports.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { timeParam } from './values.js';

const INCIDENTS = 'report_incidents';
const VEHICLES = 'report_incident_vehicles';
const TAGS = 'report_incident_tags';
const ASSET_MAP = 'report_asset_map';
const CATEGORY_MAP = 'report_category_map';
const TEMP_TABLES = [INCIDENTS, VEHICLES, TAGS, ASSET_MAP, CATEGORY_MAP];

const num = (x: unknown): number => (x === null || x === undefined ? 0 : Number(x));

export class DuckDBBulletinSource implements BulletinSource {
  constructor(private readonly db: SerialConnection) {}

  periodCounts(q: PeriodQuery): Promise<PeriodCounts> {
    return this.db.exclusive(async () => {
      const [t] = await this.db.all<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [q.tenant]);
      const tid = t?.id ?? 0;
      const from = timeParam(q.range.from, 'from') as DuckDBTimestampValue;
      const to = timeParam(q.range.to, 'to') as DuckDBTimestampValue;
      try {
        await this.stage(q, tid, from, to);
        return await this.count(q, tid, from, to);
      } finally {
        for (const table of TEMP_TABLES) await this.db.run(`DROP TABLE IF EXISTS ${table}`);
      }
    });
  }

  /** The period's incidents, their vehicles and alert tags, and the placement tables. */
  private async stage(q: PeriodQuery, tid: number, from: SqlParam, to: SqlParam): Promise<void> {
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${INCIDENTS} AS
      SELECT id, kind, state, severity, vehicle, CAST(rules AS VARCHAR[]) AS rules, first_alert_at, closed_at
      FROM incidents WHERE tenant = ? AND first_alert_at >= ? AND first_alert_at < ?`, [q.tenant, from, to]);
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${VEHICLES} AS
      SELECT id AS incident, vehicle FROM ${INCIDENTS} WHERE vehicle IS NOT NULL
      UNION SELECT l.incident, l.vehicle FROM incident_alerts l JOIN ${INCIDENTS} i ON i.id = l.incident
      WHERE l.tenant = ? AND l.vehicle IS NOT NULL`, [q.tenant]);
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${TAGS} AS
      SELECT DISTINCT incident, tag FROM (
        SELECT l.incident, unnest(CAST(a.tags AS VARCHAR[])) AS tag
        FROM incident_alerts l JOIN ${INCIDENTS} i ON i.id = l.incident
        JOIN alerts a ON a.tenant = ?::USMALLINT AND a.id = l.alert
        WHERE l.tenant = ?)`, [tid, q.tenant]);
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${ASSET_MAP} (prefix VARCHAR, asset VARCHAR)`);
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${CATEGORY_MAP} (tag VARCHAR, category VARCHAR)`);
    await insertPairs(this.db, ASSET_MAP, q.placement.assets.map((a) => [a.prefix, a.asset]));
    await insertPairs(this.db, CATEGORY_MAP, q.placement.categories.map((c) => [c.tag, c.category]));
  }

  private async count(q: PeriodQuery, tid: number, from: SqlParam, to: SqlParam): Promise<PeriodCounts> {
    const [totals] = await this.db.all<Record<string, unknown>>(`SELECT
        (SELECT count(*) FROM ${INCIDENTS}) AS incidents,
        (SELECT count(DISTINCT vehicle) FROM ${VEHICLES}) AS vehicles,
        (SELECT count(*) FROM ${INCIDENTS} WHERE closed_at IS NOT NULL AND state IN ('resolved', 'false_positive')) AS closed,
        (SELECT median(epoch_ms(closed_at) - epoch_ms(first_alert_at)) / 3600000.0 FROM ${INCIDENTS}
           WHERE closed_at IS NOT NULL AND state IN ('resolved', 'false_positive')) AS median_hours,
        (SELECT count(*) FROM vehicles WHERE tenant = ?::USMALLINT) AS fleet`, [tid]);
    const [alerts] = await this.db.all<Record<string, unknown>>(
      'SELECT count(*) AS alerts, count(DISTINCT vehicle) AS vehicles FROM alerts WHERE tenant = ?::USMALLINT AND ts >= ? AND ts < ?', [tid, from, to]);
    const facets = await this.db.all<{ dim: string; key: string; n: bigint }>(`
      SELECT 'severity' AS dim, severity AS key, count(*) AS n FROM ${INCIDENTS} GROUP BY severity
      UNION ALL SELECT 'state', state, count(*) FROM ${INCIDENTS} GROUP BY state
      UNION ALL SELECT 'kind', kind, count(*) FROM ${INCIDENTS} GROUP BY kind`);
    const facet = <K extends string>(dim: string) => facets.filter((f) => f.dim === dim).map((f) => ({ key: f.key as K, incidents: num(f.n) }));

    // An incident counts once per category (R155 group of a tag of its alerts); `unmapped` when none.
    const byCategory = await this.counted(`WITH c AS (
        SELECT DISTINCT t.incident, m.category AS key FROM ${TAGS} t JOIN ${CATEGORY_MAP} m ON m.tag = t.tag),
      u AS (SELECT incident, key FROM c UNION ALL SELECT id, 'unmapped' FROM ${INCIDENTS} WHERE id NOT IN (SELECT incident FROM c))`);
    // An incident counts once per asset of its rules (longest prefix; none matching: `other`).
    const byAsset = await this.counted(`WITH r AS (SELECT id AS incident, unnest(rules) AS rule FROM ${INCIDENTS}),
      p AS (SELECT r.incident, r.rule, coalesce(arg_max(m.asset, length(m.prefix)), 'other') AS key
            FROM r LEFT JOIN ${ASSET_MAP} m ON starts_with(r.rule, m.prefix) GROUP BY r.incident, r.rule),
      u AS (SELECT DISTINCT incident, key FROM p)`);
    const byDay = await this.db.all<{ day: number | bigint; n: bigint }>(
      `SELECT epoch_ms(date_trunc('day', first_alert_at)) AS day, count(*) AS n FROM ${INCIDENTS} GROUP BY day ORDER BY day`);
    const techniques = await this.db.all<{ tag: string; n: bigint }>(
      `SELECT tag, count(DISTINCT incident) AS n FROM ${TAGS} WHERE regexp_full_match(tag, ?) GROUP BY tag ORDER BY n DESC, tag LIMIT ?`,
      [q.placement.techniquePattern, q.top]);
    const rules = await this.db.all<{ rule: string; n: bigint; alerts: bigint | null }>(`
      WITH r AS (SELECT rule, count(*) AS n FROM (SELECT unnest(rules) AS rule FROM ${INCIDENTS}) GROUP BY rule),
      a AS (SELECT rule, count(*) AS alerts FROM alerts WHERE tenant = ?::USMALLINT AND ts >= ? AND ts < ? GROUP BY rule)
      SELECT r.rule, r.n, a.alerts FROM r LEFT JOIN a ON a.rule = r.rule ORDER BY r.n DESC, r.rule LIMIT ?`, [tid, from, to, q.top]);

    return {
      incidents: num(totals?.['incidents']),
      vehicles: num(totals?.['vehicles']),
      alerts: num(alerts?.['alerts']),
      alertedVehicles: num(alerts?.['vehicles']),
      bySeverity: facet<Severity>('severity'),
      byState: facet<IncidentState>('state'),
      byKind: facet<IncidentKind>('kind'),
      byCategory,
      byAsset,
      byDay: byDay.map((d) => ({ day: Number(d.day), incidents: num(d.n) })),
      techniques: techniques.map((t) => ({ technique: t.tag, incidents: num(t.n) })),
      rules: rules.map((r) => ({ rule: r.rule, incidents: num(r.n), alerts: num(r.alerts) })),
      closed: num(totals?.['closed']),
      medianHoursToClose: totals?.['median_hours'] === null || totals?.['median_hours'] === undefined ? null : Number(totals['median_hours']),
      fleetVehicles: num(totals?.['fleet']),
    };
  }

  /** `(key, incidents, vehicles)` of a CTE text ending in `u(incident, key)`. */
  private async counted(cte: string): Promise<Counted[]> {
    const rows = await this.db.all<{ key: string; incidents: bigint; vehicles: bigint }>(`${cte}
      SELECT u.key, count(DISTINCT u.incident) AS incidents, count(DISTINCT v.vehicle) AS vehicles
      FROM u LEFT JOIN ${VEHICLES} v ON v.incident = u.incident GROUP BY u.key ORDER BY incidents DESC, u.key`);
    return rows.map((r) => ({ key: r.key, incidents: num(r.incidents), vehicles: num(r.vehicles) }));
  }
}

async function insertPairs(db: SerialConnection, table: string, rows: readonly (readonly [string, string])[]): Promise<void> {
  if (rows.length === 0) return;
  await db.run(`INSERT INTO ${table} VALUES ${rows.map(() => '(?, ?)').join(', ')}`, rows.flat());
}
