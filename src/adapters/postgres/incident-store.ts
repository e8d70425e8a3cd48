/**
 * The IncidentStore port (src/alerts/ports.ts) on PostgreSQL: incidents, their alert links,
 * alert outcomes, evidence and suppressions (schema v2), in the same schema and on the same
 * pool as the PostgresStore. A port of the DuckDB adapter (src/adapters/duckdb/incident-store.ts)
 * statement for statement, through `Session` (sql.ts: `?` placeholders, transactions joined by
 * async context); the differences are PostgreSQL's spelling (`jsonb_exists` for list
 * membership, times read through `msSql`, vehicle keys through `vehicleSql`) and
 * `updateIncidents` locking the rows it reads (`FOR UPDATE`), since other processes write too.
 * Every statement names its tenant; a row of another tenant is never read, changed or counted.
 * It also answers the AlertQueries port: the raw-record tables joined with the alert
 * pipeline's decisions.
 *
 *   const incidents = new PostgresIncidentStore(store.connection);
 */
import { StoreError } from '../../core/errors.js';
import { SEVERITIES, type ApiEvent, type SecurityEvent, type Severity } from '../../core/records.js';
import { isVehicleKey } from '../../core/vehicle-key.js';
import type { AlertOutcome, Incident, Suppression } from '../../alerts/model.js';
import type {
  AlertQueries, AlertQuery, AlertSortField, AlertTimeline, AlertWithOutcome, IncidentPatch, IncidentQuery, IncidentStore, NoiseRow, TimelineBucket, TimelineQuery, VehicleWindowQuery,
} from '../../alerts/ports.js';
import type { PgPool, SqlParam } from './connection.js';
import { Session, insertRows } from './sql.js';
import { alerts, apiEvents, securityEvents } from './tables.js';
import { jsonParam, msSql, msValue, optionalVehicleParam, pageParams, timeParam, vehicleOrderSql, vehicleParam, vehicleSql } from './values.js';

/** JSONB columns come back parsed by the driver. */
const jsonValue = <T>(value: unknown): T => value as T;

interface IncidentRow {
  tenant: string;
  id: string;
  kind: Incident['kind'];
  group_key: string;
  title: string;
  state: Incident['state'];
  severity: Severity;
  risk: number;
  assignee: string | null;
  tags: string;
  vehicle: string | null;
  rules: string;
  vehicle_count: number;
  alert_count: number;
  first_alert_at: string;
  last_alert_at: string;
  created_at: string;
  updated_at: string;
  sla_due_at: string | null;
  closed_at: string | null;
  context: string;
}

const INCIDENT_COLUMNS = [
  'tenant', 'id', 'kind', 'group_key', 'title', 'state', 'severity', 'risk', 'assignee', 'tags', 'vehicle', 'rules',
  'vehicle_count', 'alert_count', 'first_alert_at', 'last_alert_at', 'created_at', 'updated_at', 'sla_due_at', 'closed_at', 'context',
];

const INCIDENT_SELECT = `tenant, id, kind, group_key, title, state, severity, risk, assignee, tags, ${vehicleSql('vehicle')} AS vehicle, rules, vehicle_count,
  alert_count, ${msSql('first_alert_at')} AS first_alert_at, ${msSql('last_alert_at')} AS last_alert_at,
  ${msSql('created_at')} AS created_at, ${msSql('updated_at')} AS updated_at, ${msSql('sla_due_at')} AS sla_due_at,
  ${msSql('closed_at')} AS closed_at, context`;

/** Severity as a number, so `ORDER BY` ranks critical above high. */
const SEVERITY_RANK = `CASE severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;

/** Sort fields of IncidentQuery -> SQL; NULL SLA deadlines (closed incidents) always sort last. */
const SORT_COLUMNS: Record<NonNullable<IncidentQuery['sort']>['field'], string> = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  lastAlertAt: 'last_alert_at',
  risk: 'risk',
  severity: SEVERITY_RANK,
  alertCount: 'alert_count',
  slaDueAt: 'sla_due_at',
};

/** Ids bound per `IN (...)` list. */
const IDS_PER_QUERY = 500;

/** States in which an incident no longer takes alerts. */
const CLOSED_STATES = `('resolved', 'false_positive')`;

export class PostgresIncidentStore implements IncidentStore, AlertQueries, AlertTimeline {
  private readonly db: Session;

  constructor(pool: PgPool) {
    this.db = new Session(pool);
  }

  /** An incident id already stored is skipped (the first write wins), so a retried write is safe. */
  insertIncidents(incidents: readonly Incident[]): Promise<void> {
    const rows = incidents.map(incidentParams);
    return this.db.exclusive(async () => {
      if (rows.length) await this.db.transaction(() => insertRows(this.db, 'incidents', INCIDENT_COLUMNS, rows, 'ON CONFLICT DO NOTHING'));
    });
  }

  updateIncident(tenant: string, id: string, patch: IncidentPatch, at: number): Promise<Incident | undefined> {
    const { sql, params } = patchSql(patch, at);
    return this.db.exclusive(async () => {
      const changed = await this.db.run(`UPDATE incidents SET ${sql} WHERE tenant = ? AND id = ?`, [...params, tenant, id]);
      if (changed === 0) return undefined;
      return this.readIncident(tenant, id);
    });
  }

  /**
   * Read each incident, ask `merge` for its patch, write it: all in one turn of the connection
   * and one transaction, so no other change lands between the read and the write.
   */
  updateIncidents(
    keys: readonly { tenant: string; id: string }[],
    merge: (stored: Incident) => IncidentPatch | undefined,
    at: number,
  ): Promise<Incident[]> {
    return this.db.exclusive(() => this.db.transaction(async () => {
      // FOR UPDATE: another process's change waits until this one commits, instead of being overwritten.
      const stored = await this.readMany(keys, true);
      const changed: { tenant: string; id: string }[] = [];
      for (const incident of stored) {
        const patch = merge(incident);
        if (!patch) continue;
        const { sql, params } = patchSql(patch, at);
        await this.db.run(`UPDATE incidents SET ${sql} WHERE tenant = ? AND id = ?`, [...params, incident.tenant, incident.id]);
        changed.push(incident);
      }
      return this.readMany(changed);
    }));
  }

  getIncident(tenant: string, id: string): Promise<Incident | undefined> {
    return this.db.exclusive(() => this.readIncident(tenant, id));
  }

  listIncidents(q: IncidentQuery): Promise<{ items: Incident[]; total: number }> {
    const where: string[] = ['tenant = ?'];
    const params: SqlParam[] = [q.tenant];
    const inList = (column: string, values: readonly string[]): void => {
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    if (q.state?.length) inList('state', q.state);
    if (q.severity?.length) inList('severity', q.severity);
    if (q.kind !== undefined) inList('kind', [q.kind]);
    if (q.vehicle !== undefined) {
      // A malformed key matches nothing, like the Store's reads.
      if (!isVehicleKey(q.vehicle)) return Promise.resolve({ items: [], total: 0 });
      where.push('vehicle = ?');
      params.push(vehicleParam(q.vehicle));
    }
    if (q.rule !== undefined) {
      where.push(`jsonb_exists(rules, ?)`);
      params.push(q.rule);
    }
    if (q.tag !== undefined) {
      where.push(`jsonb_exists(tags, ?)`);
      params.push(q.tag);
    }
    if (q.assignee !== undefined) inList('assignee', [q.assignee]);
    if (q.since !== undefined) {
      where.push('last_alert_at >= ?');
      params.push(timeParam(q.since, 'since'));
    }
    if (q.until !== undefined) {
      where.push('last_alert_at < ?');
      params.push(timeParam(q.until, 'until'));
    }
    if (q.slaBreached !== undefined) {
      where.push(q.slaBreached.breached ? 'sla_due_at < ?' : '(sla_due_at IS NULL OR sla_due_at >= ?)');
      params.push(timeParam(q.slaBreached.at, 'slaBreached.at'));
    }
    const sort = q.sort ?? { field: 'lastAlertAt', desc: true };
    const column = SORT_COLUMNS[sort.field];
    if (column === undefined) throw new StoreError(`cannot sort incidents by ${String(sort.field)}`);
    const order = `${column} ${sort.desc ? 'DESC' : 'ASC'} NULLS LAST, id`;
    const [limit, offset] = pageParams(q);
    const clause = where.join(' AND ');
    return this.db.exclusive(async () => {
      const [count] = await this.db.all<{ n: string }>(`SELECT count(*) AS n FROM incidents WHERE ${clause}`, params);
      const rows = await this.db.all<IncidentRow>(
        `SELECT ${INCIDENT_SELECT} FROM incidents WHERE ${clause} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...params, limit, offset],
      );
      return { items: rows.map(readIncident), total: Number(count?.n ?? 0) };
    });
  }

  openIncidents(tenant?: string): Promise<Incident[]> {
    const scope = tenant === undefined ? '' : ' AND tenant = ?';
    return this.db.exclusive(async () => {
      const rows = await this.db.all<IncidentRow>(
        `SELECT ${INCIDENT_SELECT} FROM incidents WHERE state NOT IN ${CLOSED_STATES}${scope} ORDER BY last_alert_at, id`,
        tenant === undefined ? [] : [tenant],
      );
      return rows.map(readIncident);
    });
  }

  attachAlerts(tenant: string, incident: string, list: readonly { id: string; vehicle?: string }[], at: number): Promise<number> {
    const rows = list.map((a) => [tenant, incident, a.id, optionalVehicleParam(a.vehicle), timeParam(at, 'at')]);
    return this.db.exclusive(async () => {
      if (!rows.length) return 0;
      return this.db.transaction(() =>
        insertRows(this.db, 'incident_alerts', ['tenant', 'incident', 'alert', 'vehicle', 'added_at'], rows, 'ON CONFLICT DO NOTHING'),
      );
    });
  }

  attachAlertsMany(links: readonly { tenant: string; incident: string; alerts: readonly { id: string; vehicle?: string }[] }[], at: number): Promise<number> {
    const t = timeParam(at, 'at');
    const rows = links.flatMap((l) => l.alerts.map((a) => [l.tenant, l.incident, a.id, optionalVehicleParam(a.vehicle), t]));
    return this.db.exclusive(async () => {
      if (!rows.length) return 0;
      return this.db.transaction(() =>
        insertRows(this.db, 'incident_alerts', ['tenant', 'incident', 'alert', 'vehicle', 'added_at'], rows, 'ON CONFLICT DO NOTHING'),
      );
    });
  }

  incidentAlertIds(tenant: string, incident: string, page: { limit: number; offset?: number }): Promise<string[]> {
    const [limit, offset] = pageParams(page);
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ alert: string }>(
        'SELECT alert FROM incident_alerts WHERE tenant = ? AND incident = ? ORDER BY added_at DESC, alert DESC LIMIT ? OFFSET ?',
        [tenant, incident, limit, offset],
      );
      return rows.map((r) => r.alert);
    });
  }

  /** The first decision on an alert stands: a repeated outcome for it is ignored. */
  recordOutcomes(outcomes: readonly AlertOutcome[]): Promise<void> {
    const rows = outcomes.map((o) => [o.tenant, o.alert, o.rule, o.outcome, o.ref, timeParam(o.at, 'at')]);
    return this.db.exclusive(async () => {
      if (!rows.length) return;
      await this.db.transaction(() =>
        insertRows(this.db, 'alert_outcomes', ['tenant', 'alert', 'rule', 'outcome', 'ref', 'decided_at'], rows, 'ON CONFLICT DO NOTHING'),
      );
    });
  }

  noise(tenant: string, since?: number): Promise<NoiseRow[]> {
    const params: SqlParam[] = [tenant];
    if (since !== undefined) params.push(timeParam(since, 'since'));
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ rule: string; alerts: string; duplicates: string; suppressed: string; incident_alerts: string; incidents: string }>(
        `SELECT rule, count(*) AS alerts,
           count(*) FILTER (WHERE outcome = 'duplicate') AS duplicates,
           count(*) FILTER (WHERE outcome = 'suppressed') AS suppressed,
           count(*) FILTER (WHERE outcome = 'incident') AS incident_alerts,
           count(DISTINCT ref) FILTER (WHERE outcome = 'incident') AS incidents
         FROM alert_outcomes WHERE tenant = ?${since === undefined ? '' : ' AND decided_at >= ?'}
         GROUP BY rule ORDER BY alerts DESC, rule`,
        params,
      );
      return rows.map((r) => ({
        rule: r.rule,
        alerts: Number(r.alerts),
        duplicates: Number(r.duplicates),
        suppressed: Number(r.suppressed),
        incidentAlerts: Number(r.incident_alerts),
        incidents: Number(r.incidents),
      }));
    });
  }

  /** Distinct incidents that alerts decided since `since` opened or joined (the "incidents out" of the noise figure). */
  noiseIncidents(tenant: string, since?: number): Promise<number> {
    const params: SqlParam[] = [tenant];
    if (since !== undefined) params.push(timeParam(since, 'since'));
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<{ n: string }>(
        `SELECT count(DISTINCT ref) AS n FROM alert_outcomes WHERE tenant = ? AND outcome = 'incident'${since === undefined ? '' : ' AND decided_at >= ?'}`,
        params,
      );
      return Number(row?.n ?? 0);
    });
  }

  /** A later capture for the same alert replaces the earlier one. */
  saveEvidence(tenant: string, alert: string, evidence: Readonly<Record<string, unknown>>, at: number): Promise<void> {
    const params = [tenant, alert, timeParam(at, 'at'), jsonParam(evidence)];
    return this.db.exclusive(async () => {
      await this.db.run(
        `INSERT INTO alert_evidence (tenant, alert, captured_at, evidence) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant, alert) DO UPDATE SET captured_at = excluded.captured_at, evidence = excluded.evidence`,
        params,
      );
    });
  }

  getEvidence(tenant: string, alert: string): Promise<{ capturedAt: number; evidence: Record<string, unknown> } | undefined> {
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<{ captured_at: string; evidence: string }>(
        `SELECT ${msSql('captured_at')} AS captured_at, evidence FROM alert_evidence WHERE tenant = ? AND alert = ?`,
        [tenant, alert],
      );
      return row && { capturedAt: msValue(row.captured_at), evidence: jsonValue<Record<string, unknown>>(row.evidence) };
    });
  }

  insertSuppression(s: Suppression): Promise<void> {
    const row = [
      s.tenant, s.id, s.rule ?? null, optionalVehicleParam(s.vehicle), jsonParam(s.match), s.reason, s.createdBy,
      timeParam(s.createdAt, 'createdAt'), timeParam(s.expiresAt, 'expiresAt'), checkNumber(s.hits, 'hits'),
    ];
    return this.db.exclusive(async () => {
      await this.db.run(
        'INSERT INTO suppressions (tenant, id, rule, vehicle, match, reason, created_by, created_at, expires_at, hits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        row,
      );
    });
  }

  listSuppressions(q: { tenant: string; activeAt?: number; limit: number; offset?: number }): Promise<{ items: Suppression[]; total: number }> {
    const params: SqlParam[] = [q.tenant];
    if (q.activeAt !== undefined) params.push(timeParam(q.activeAt, 'activeAt'));
    const where = `tenant = ?${q.activeAt === undefined ? '' : ' AND expires_at > ?'}`;
    const [limit, offset] = pageParams(q);
    return this.db.exclusive(async () => {
      const [count] = await this.db.all<{ n: string }>(`SELECT count(*) AS n FROM suppressions WHERE ${where}`, params);
      const rows = await this.db.all<SuppressionRow>(
        `SELECT ${SUPPRESSION_SELECT} FROM suppressions WHERE ${where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
        [...params, limit, offset],
      );
      return { items: rows.map(readSuppression), total: Number(count?.n ?? 0) };
    });
  }

  activeSuppressions(now: number): Promise<Suppression[]> {
    const at = timeParam(now, 'now');
    return this.db.exclusive(async () => {
      const rows = await this.db.all<SuppressionRow>(
        `SELECT ${SUPPRESSION_SELECT} FROM suppressions WHERE expires_at > ? ORDER BY tenant, created_at, id`,
        [at],
      );
      return rows.map(readSuppression);
    });
  }

  /** An already expired suppression keeps its earlier expiry (and still answers true). */
  expireSuppression(tenant: string, id: string, at: number): Promise<boolean> {
    const t = timeParam(at, 'at');
    return this.db.exclusive(async () => {
      const changed = await this.db.run('UPDATE suppressions SET expires_at = least(expires_at, ?) WHERE tenant = ? AND id = ?', [t, tenant, id]);
      return changed > 0;
    });
  }

  addSuppressionHits(tenant: string, hits: ReadonlyMap<string, number>): Promise<void> {
    const entries = [...hits].filter(([, n]) => n > 0);
    for (const [, n] of entries) checkNumber(n, 'hits');
    return this.db.exclusive(async () => {
      if (!entries.length) return;
      await this.db.transaction(async () => {
        for (const [id, n] of entries) await this.db.run('UPDATE suppressions SET hits = hits + ? WHERE tenant = ? AND id = ?', [n, tenant, id]);
      });
    });
  }

  // AlertQueries

  listAlerts(q: AlertQuery): Promise<{ items: AlertWithOutcome[]; total: number }> {
    const where: string[] = ['a.tenant = (SELECT id FROM tenants WHERE name = ?)'];
    const params: SqlParam[] = [q.tenant];
    if (q.rule !== undefined) {
      where.push('a.rule = ?');
      params.push(q.rule);
    }
    if (q.vehicle !== undefined) {
      if (!isVehicleKey(q.vehicle)) return Promise.resolve({ items: [], total: 0 });
      where.push('a.vehicle = ?');
      params.push(vehicleParam(q.vehicle));
    }
    if (q.severity?.length) {
      where.push(`a.severity IN (${q.severity.map(() => '?').join(', ')})`);
      params.push(...q.severity);
    }
    if (q.since !== undefined) {
      where.push('a.ts >= ?');
      params.push(timeParam(q.since, 'since'));
    }
    if (q.until !== undefined) {
      where.push('a.ts < ?');
      params.push(timeParam(q.until, 'until'));
    }
    if (q.outcome === 'pending') where.push('o.outcome IS NULL');
    else if (q.outcome !== undefined) {
      where.push('o.outcome = ?');
      params.push(q.outcome);
    }
    const [limit, offset] = pageParams(q);
    const from = `alerts a LEFT JOIN alert_outcomes o ON o.tenant = ? AND o.alert = a.id WHERE ${where.join(' AND ')}`;
    return this.db.exclusive(async () => {
      const [count] = await this.db.all<{ n: string }>(`SELECT count(*) AS n FROM ${from}`, [q.tenant, ...params]);
      const rows = await this.db.all<AlertOutcomeRow>(
        `SELECT ${ALERT_SELECT} FROM ${from} ORDER BY ${alertOrder(q.sort)} LIMIT ? OFFSET ?`,
        [q.tenant, ...params, limit, offset],
      );
      return { items: rows.map((r) => readAlert(r, q.tenant)), total: Number(count?.n ?? 0) };
    });
  }

  // AlertTimeline

  timeline(q: TimelineQuery): Promise<TimelineBucket[]> {
    if (!(q.bucketMs >= 1) || !(q.to > q.from)) throw new StoreError(`timeline needs from < to and bucketMs >= 1 (got ${q.from}, ${q.to}, ${q.bucketMs})`);
    const n = Math.ceil((q.to - q.from) / q.bucketMs);
    if (n > MAX_TIMELINE_BUCKETS) throw new StoreError(`timeline of ${n} buckets; at most ${MAX_TIMELINE_BUCKETS}`);
    const range = [timeParam(q.from, 'from'), timeParam(q.to, 'to')];
    const bucket = (col: string) => `((floor(extract(epoch FROM ${col}) * 1000)::bigint - ${Math.floor(q.from)}) / ${Math.floor(q.bucketMs)})::BIGINT`;
    return this.db.exclusive(async () => {
      const alertRows = await this.db.all<{ b: string; severity: Severity; n: string }>(
        `SELECT ${bucket('ts')} AS b, severity, count(*) AS n FROM alerts
         WHERE tenant = (SELECT id FROM tenants WHERE name = ?) AND ts >= ? AND ts < ? GROUP BY 1, 2`,
        [q.tenant, ...range],
      );
      const incidentRows = await this.db.all<{ b: string; n: string }>(
        `SELECT ${bucket('created_at')} AS b, count(*) AS n FROM incidents WHERE tenant = ? AND created_at >= ? AND created_at < ? GROUP BY 1`,
        [q.tenant, ...range],
      );
      const out = Array.from({ length: n }, (_, i) => ({ start: q.from + i * q.bucketMs, alerts: zeroSeverities(), incidents: 0 }));
      for (const r of alertRows) {
        const b = out[Number(r.b)];
        if (b) b.alerts[r.severity] += Number(r.n);
      }
      for (const r of incidentRows) {
        const b = out[Number(r.b)];
        if (b) b.incidents += Number(r.n);
      }
      return out;
    });
  }

  alertsBySeverity(tenant: string): Promise<Record<Severity, number>> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ severity: Severity; n: string }>(
        'SELECT severity, count(*) AS n FROM alerts WHERE tenant = (SELECT id FROM tenants WHERE name = ?) GROUP BY severity',
        [tenant],
      );
      const out = zeroSeverities();
      for (const r of rows) out[r.severity] = Number(r.n);
      return out;
    });
  }

  firstAlertSince(tenant: string, since: number): Promise<number | undefined> {
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<{ t: string | null }>(
        'SELECT epoch_us(min(ts)) AS t FROM alerts WHERE tenant = (SELECT id FROM tenants WHERE name = ?) AND ts >= ?',
        [tenant, timeParam(since, 'since')],
      );
      return row?.t == null ? undefined : msValue(row.t);
    });
  }

  getAlert(tenant: string, id: string): Promise<AlertWithOutcome | undefined> {
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<AlertOutcomeRow>(
        `SELECT ${ALERT_SELECT} FROM alerts a LEFT JOIN alert_outcomes o ON o.tenant = ? AND o.alert = a.id
         WHERE a.tenant = (SELECT id FROM tenants WHERE name = ?) AND a.id = ?`,
        [tenant, tenant, id],
      );
      return row && readAlert(row, tenant);
    });
  }

  securityEventsIn(q: VehicleWindowQuery): Promise<SecurityEvent[]> {
    return this.windowOf(securityEvents, q);
  }

  apiEventsIn(q: VehicleWindowQuery): Promise<ApiEvent[]> {
    return this.windowOf(apiEvents, q);
  }

  fleetSize(tenant: string): Promise<number> {
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<{ n: string }>('SELECT count(*) AS n FROM vehicles WHERE tenant = (SELECT id FROM tenants WHERE name = ?)', [tenant]);
      return Number(row?.n ?? 0);
    });
  }

  decidedAlerts(tenant: string, ids: readonly string[]): Promise<Set<string>> {
    return this.db.exclusive(async () => {
      const out = new Set<string>();
      for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
        const part = ids.slice(i, i + IDS_PER_QUERY);
        const rows = await this.db.all<{ alert: string }>(
          `SELECT alert FROM alert_outcomes WHERE tenant = ? AND alert IN (${part.map(() => '?').join(', ')})`,
          [tenant, ...part],
        );
        for (const r of rows) out.add(r.alert);
      }
      return out;
    });
  }

  closedSince(since: number): Promise<{ tenant: string; id: string }[]> {
    const t = timeParam(since, 'since');
    return this.db.exclusive(() =>
      this.db.all<{ tenant: string; id: string }>(`SELECT tenant, id FROM incidents WHERE state IN ${CLOSED_STATES} AND updated_at >= ?`, [t]),
    );
  }

  private windowOf<R, Row>(table: { table: string; select: string; read(row: Row, tenant: string): R }, q: VehicleWindowQuery): Promise<R[]> {
    if (!isVehicleKey(q.vehicle)) return Promise.resolve([]);
    const params = [q.tenant, vehicleParam(q.vehicle), timeParam(q.from, 'from'), timeParam(q.to, 'to'), pageParams(q)[0]];
    return this.db.exclusive(async () => {
      const rows = await this.db.all<Row>(
        `SELECT ${table.select} FROM ${table.table} WHERE tenant = (SELECT id FROM tenants WHERE name = ?) AND vehicle = ? AND ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?`,
        params,
      );
      return rows.map((r) => table.read(r, q.tenant));
    });
  }

  /** The incidents of `keys` that exist, in one query per IDS_PER_QUERY keys. */
  private async readMany(keys: readonly { tenant: string; id: string }[], lock = false): Promise<Incident[]> {
    const out: Incident[] = [];
    for (let i = 0; i < keys.length; i += IDS_PER_QUERY) {
      const part = keys.slice(i, i + IDS_PER_QUERY);
      const rows = await this.db.all<IncidentRow>(
        `SELECT ${INCIDENT_SELECT} FROM incidents WHERE ${part.map(() => '(tenant = ? AND id = ?)').join(' OR ')}${lock ? ' FOR UPDATE' : ''}`,
        part.flatMap((k) => [k.tenant, k.id]),
      );
      out.push(...rows.map(readIncident));
    }
    return out;
  }

  private async readIncident(tenant: string, id: string): Promise<Incident | undefined> {
    const [row] = await this.db.all<IncidentRow>(`SELECT ${INCIDENT_SELECT} FROM incidents WHERE tenant = ? AND id = ?`, [tenant, id]);
    return row && readIncident(row);
  }
}

/** `SET` clause and parameters of a patch; `updated_at` always. */
function patchSql(patch: IncidentPatch, at: number): { sql: string; params: SqlParam[] } {
  const sets: string[] = ['updated_at = ?'];
  const params: SqlParam[] = [timeParam(at, 'at')];
  const set = (column: string, value: SqlParam): void => {
    sets.push(`${column} = ?`);
    params.push(value);
  };
  const time = (v: number | null, field: string): SqlParam => (v === null ? null : timeParam(v, field));
  for (const [field, value] of Object.entries(patch) as [keyof IncidentPatch, unknown][]) {
    if (value === undefined) continue;
    switch (field) {
      case 'title': case 'state': case 'severity': set(field, value as string); break;
      case 'risk': set('risk', checkNumber(value, 'risk')); break;
      case 'assignee': set('assignee', value as string | null); break;
      case 'tags': case 'rules': case 'context': set(field, jsonParam(value)); break;
      case 'vehicleCount': set('vehicle_count', checkNumber(value, 'vehicleCount')); break;
      case 'alertCount': set('alert_count', checkNumber(value, 'alertCount')); break;
      case 'lastAlertAt': set('last_alert_at', timeParam(value as number, 'lastAlertAt')); break;
      case 'slaDueAt': set('sla_due_at', time(value as number | null, 'slaDueAt')); break;
      case 'closedAt': set('closed_at', time(value as number | null, 'closedAt')); break;
      default: throw new StoreError(`incident field ${String(field)} cannot be changed`);
    }
  }
  return { sql: sets.join(', '), params };
}

function incidentParams(i: Incident): SqlParam[] {
  return [
    i.tenant, i.id, i.kind, i.groupKey, i.title, i.state, i.severity, checkNumber(i.risk, 'risk'), i.assignee ?? null,
    jsonParam(i.tags), optionalVehicleParam(i.vehicle), jsonParam(i.rules), checkNumber(i.vehicleCount, 'vehicleCount'),
    checkNumber(i.alertCount, 'alertCount'), timeParam(i.firstAlertAt, 'firstAlertAt'), timeParam(i.lastAlertAt, 'lastAlertAt'),
    timeParam(i.createdAt, 'createdAt'), timeParam(i.updatedAt, 'updatedAt'),
    i.slaDueAt === undefined ? null : timeParam(i.slaDueAt, 'slaDueAt'),
    i.closedAt === undefined ? null : timeParam(i.closedAt, 'closedAt'),
    jsonParam(i.context ?? {}),
  ];
}

function readIncident(r: IncidentRow): Incident {
  return {
    tenant: r.tenant,
    id: r.id,
    kind: r.kind,
    groupKey: r.group_key,
    title: r.title,
    state: r.state,
    severity: r.severity,
    risk: r.risk,
    ...(r.assignee === null ? {} : { assignee: r.assignee }),
    tags: jsonValue<string[]>(r.tags),
    ...(r.vehicle === null ? {} : { vehicle: r.vehicle }),
    rules: jsonValue<string[]>(r.rules),
    vehicleCount: r.vehicle_count,
    alertCount: r.alert_count,
    firstAlertAt: msValue(r.first_alert_at),
    lastAlertAt: msValue(r.last_alert_at),
    createdAt: msValue(r.created_at),
    updatedAt: msValue(r.updated_at),
    ...(r.sla_due_at === null ? {} : { slaDueAt: msValue(r.sla_due_at) }),
    ...(r.closed_at === null ? {} : { closedAt: msValue(r.closed_at) }),
    context: jsonValue<Record<string, unknown>>(r.context),
  };
}

interface SuppressionRow {
  tenant: string;
  id: string;
  rule: string | null;
  vehicle: string | null;
  match: string;
  reason: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  hits: string;
}

const SUPPRESSION_SELECT = `tenant, id, rule, ${vehicleSql('vehicle')} AS vehicle, match, reason, created_by, ${msSql('created_at')} AS created_at,
  ${msSql('expires_at')} AS expires_at, hits`;

function readSuppression(r: SuppressionRow): Suppression {
  return {
    tenant: r.tenant,
    id: r.id,
    ...(r.rule === null ? {} : { rule: r.rule }),
    ...(r.vehicle === null ? {} : { vehicle: r.vehicle }),
    match: jsonValue<Record<string, string | number | boolean>>(r.match),
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: msValue(r.created_at),
    expiresAt: msValue(r.expires_at),
    hits: Number(r.hits),
  };
}

type AlertRow = Parameters<typeof alerts.read>[0];
type AlertOutcomeRow = AlertRow & { outcome: AlertOutcome['outcome'] | null; ref: string | null; decided_at: string | null };

/** alerts.select with the alias of the join (the columns alerts.read expects). */
/** Most buckets one timeline answers. */
export const MAX_TIMELINE_BUCKETS = 1000;

const zeroSeverities = (): Record<Severity, number> => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

/** Sort fields of AlertQuery -> SQL; after the field, newest first then id: a total order, so offset pages neither skip nor repeat. */
const ALERT_SORT_COLUMNS: Record<AlertSortField, string> = {
  time: 'a.ts', detectedAt: 'a.detected_at', severity: `CASE a.severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`,
  rule: 'a.rule', vehicle: vehicleOrderSql('a.vehicle'), outcome: 'o.outcome',
};

function alertOrder(sort: AlertQuery['sort']): string {
  if (!sort) return 'a.ts DESC, a.id';
  const column = ALERT_SORT_COLUMNS[sort.field];
  if (column === undefined) throw new StoreError(`cannot sort alerts by ${String(sort.field)}`);
  return `${column} ${sort.desc ? 'DESC' : 'ASC'} NULLS LAST, a.ts DESC, a.id`;
}

const ALERT_SELECT = `a.id, ${vehicleSql('a.vehicle')} AS vehicle, ${msSql('a.ts')} AS ts, ${msSql('a.detected_at')} AS detected_at, a.rule, a.title, a.severity,
  a.tags, a.details, o.outcome, o.ref, ${msSql('o.decided_at')} AS decided_at`;

function readAlert(r: AlertOutcomeRow, tenant: string): AlertWithOutcome {
  const alert = alerts.read(r, tenant);
  if (r.outcome === null) return alert;
  return { ...alert, outcome: { kind: r.outcome, ref: r.ref!, at: msValue(r.decided_at!) } };
}

function checkNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new StoreError(`${field} must be a finite number, got ${String(value)}`);
  return value;
}
