/**
 * The PostgreSQL adapter of the ResponseStore port (src/alerts/response.ts): playbooks,
 * action_runs, deliveries and response_requests (schema v2), in the same schema and on the same
 * pool as the PostgresStore. A port of src/adapters/duckdb/response-store.ts statement for
 * statement through `Session` (sql.ts), with PostgreSQL's spelling (`jsonb_exists`, times through
 * `msSql`, vehicle keys through `vehicleSql`).
 *
 *   const response = new PostgresResponseStore(store.connection);
 *
 * - Playbooks are one row per (tenant, id); saving replaces the definition.
 * - Delivery attempts are idempotent by (tenant, id, attempt): a repeated attempt is skipped.
 * - Lists are newest first with `limit`/`offset` and the total count of matches.
 * - Malformed input rejects with StoreError before anything is written.
 */
import { StoreError } from '../../core/errors.js';
import { isVehicleKey } from '../../core/vehicle-key.js';
import { ATTEMPT_STATUSES, type AttemptStatus } from '../../alerts/notifier.js';
import {
  ACTION_KINDS, REQUEST_KINDS, REQUEST_STATUSES, RUN_STATUSES,
  type ActionKind, type ActionRun, type DeliveryRecord, type RequestKind, type RequestStatus, type ResponseRequest, type ResponseStore, type RunStatus, type StoredPlaybook,
} from '../../alerts/response.js';
import type { PgPool, SqlParam } from './connection.js';
import { Session } from './sql.js';
import { jsonParam, msSql, msValue, opt, pageParams, present, timeParam, vehicleOrderSql, vehicleSql } from './values.js';

/** JSONB columns come back parsed by the driver. */
const jsonValue = <T>(value: unknown): T => value as T;

type Where = { sql: string[]; params: SqlParam[] };

function where(tenant: string, conds: readonly [string, SqlParam | undefined][]): Where {
  text(tenant, 'tenant');
  const w: Where = { sql: ['tenant = ?'], params: [tenant] };
  for (const [sql, value] of conds) {
    if (value === undefined) continue;
    w.sql.push(sql);
    w.params.push(value);
  }
  return w;
}

export class PostgresResponseStore implements ResponseStore {
  private readonly db: Session;

  constructor(pool: PgPool) {
    this.db = new Session(pool);
  }

  async savePlaybook(p: StoredPlaybook): Promise<void> {
    for (const f of ['tenant', 'id', 'updatedBy'] as const) text(p[f], `playbook.${f}`);
    const params = [p.tenant, p.id, jsonParam(p.definition), p.updatedBy, timeParam(p.updatedAt, 'playbook.updatedAt')];
    await this.db.exclusive(() =>
      this.db.run(
        `INSERT INTO playbooks (tenant, id, definition, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        params,
      ),
    );
  }

  async getPlaybook(tenant: string, id: string): Promise<StoredPlaybook | undefined> {
    return (await this.playbooks(tenant, id))[0];
  }

  async listPlaybooks(tenant: string): Promise<StoredPlaybook[]> {
    return this.playbooks(tenant);
  }

  async deletePlaybook(tenant: string, id: string): Promise<boolean> {
    return this.db.exclusive(async () => (await this.db.run('DELETE FROM playbooks WHERE tenant = ? AND id = ?', [tenant, id])) > 0);
  }

  private playbooks(tenant: string, id?: string): Promise<StoredPlaybook[]> {
    const w = where(tenant, [['id = ?', id]]);
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ id: string; definition: string; updated_by: string; updated_at: string }>(
        `SELECT id, definition, updated_by, ${msSql('updated_at')} AS updated_at FROM playbooks WHERE ${w.sql.join(' AND ')} ORDER BY id`,
        w.params,
      );
      return rows.map((r) => ({ tenant, id: r.id, definition: jsonValue<Record<string, unknown>>(r.definition), updatedBy: r.updated_by, updatedAt: msValue(r.updated_at) }));
    });
  }

  async insertActionRun(run: ActionRun): Promise<void> {
    for (const f of ['tenant', 'id', 'actor'] as const) text(run[f], `run.${f}`);
    oneOf(run.action, ACTION_KINDS, 'run.action');
    oneOf(run.status, RUN_STATUSES, 'run.status');
    if (run.step !== undefined && !(Number.isInteger(run.step) && run.step >= 0)) throw new StoreError(`run.step must be an integer >= 0, got ${run.step}`);
    const params: SqlParam[] = [
      run.tenant, run.id, opt(run.incident), opt(run.playbook), opt(run.step), run.action, run.status, jsonParam(run.params), jsonParam(run.result), run.actor,
      timeParam(run.startedAt, 'run.startedAt'), run.finishedAt === undefined ? null : timeParam(run.finishedAt, 'run.finishedAt'),
    ];
    await this.db.exclusive(() =>
      this.db.run(
        `INSERT INTO action_runs (tenant, id, incident, playbook, step, action, status, params, result, actor, started_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params,
      ),
    );
  }

  async finishActionRun(tenant: string, id: string, status: RunStatus, result: Readonly<Record<string, unknown>>, at: number): Promise<boolean> {
    oneOf(status, RUN_STATUSES, 'status');
    const params = [status, jsonParam(result), timeParam(at, 'finishedAt'), tenant, id];
    return this.db.exclusive(async () => (await this.db.run('UPDATE action_runs SET status = ?, result = ?, finished_at = ? WHERE tenant = ? AND id = ?', params)) > 0);
  }

  async getActionRun(tenant: string, id: string): Promise<ActionRun | undefined> {
    const w = where(tenant, [['id = ?', id]]);
    return (await this.runs(w, 1, 0)).items[0];
  }

  async listActionRuns(q: { tenant: string; incident?: string; playbook?: string; action?: ActionKind; status?: RunStatus; limit: number; offset?: number }): Promise<{ items: ActionRun[]; total: number }> {
    const [limit, offset] = pageParams(q);
    return this.runs(where(q.tenant, [['incident = ?', q.incident], ['playbook = ?', q.playbook], ['action = ?', q.action], ['status = ?', q.status]]), limit, offset);
  }

  private runs(w: Where, limit: number, offset: number): Promise<{ items: ActionRun[]; total: number }> {
    type Row = { tenant: string; id: string; incident: string | null; playbook: string | null; step: number | null; action: ActionKind; status: RunStatus; params: string; result: string | null; actor: string; started_at: string; finished_at: string | null; total: string };
    return this.db.exclusive(async () => {
      const rows = await this.db.all<Row>(
        `SELECT tenant, id, incident, playbook, step, action, status, params, result, actor, ${msSql('started_at')} AS started_at, ${msSql('finished_at')} AS finished_at,
                count(*) OVER () AS total
         FROM action_runs WHERE ${w.sql.join(' AND ')} ORDER BY started_at DESC, step DESC NULLS LAST, id DESC LIMIT ? OFFSET ?`,
        [...w.params, limit, offset],
      );
      return {
        total: rows.length ? Number(rows[0]!.total) : await this.count('action_runs', w),
        items: rows.map((r) => ({
          tenant: r.tenant, id: r.id, ...present('incident', r.incident), ...present('playbook', r.playbook), ...present('step', r.step),
          action: r.action, status: r.status, params: jsonValue<Record<string, unknown>>(r.params),
          ...present('result', r.result === null ? null : jsonValue<Record<string, unknown>>(r.result)),
          actor: r.actor, startedAt: msValue(r.started_at), ...present('finishedAt', r.finished_at === null ? null : msValue(r.finished_at)),
        })),
      };
    });
  }

  async recordDeliveries(rows: readonly DeliveryRecord[]): Promise<void> {
    const params = rows.map((d, i): SqlParam[] => {
      for (const f of ['tenant', 'id', 'channel', 'target', 'event'] as const) text(d[f], `deliveries[${i}].${f}`);
      oneOf(d.status, ATTEMPT_STATUSES, `deliveries[${i}].status`);
      if (!Number.isInteger(d.attempt) || d.attempt < 1) throw new StoreError(`deliveries[${i}].attempt must be an integer >= 1, got ${d.attempt}`);
      return [d.tenant, d.id, d.attempt, d.channel, d.target, d.event, d.status, opt(d.httpStatus), opt(d.error), timeParam(d.at, `deliveries[${i}].at`)];
    });
    if (!params.length) return;
    await this.db.exclusive(() =>
      this.db.run(
        `INSERT INTO deliveries (tenant, id, attempt, channel, target, event, status, http_status, error, ts)
         VALUES ${params.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
        params.flat(),
      ),
    );
  }

  async listDeliveries(q: { tenant: string; id?: string; channel?: string; status?: AttemptStatus; event?: string; limit: number; offset?: number }): Promise<{ items: DeliveryRecord[]; total: number }> {
    const [limit, offset] = pageParams(q);
    const w = where(q.tenant, [['id = ?', q.id], ['channel = ?', q.channel], ['status = ?', q.status], ['event = ?', q.event]]);
    type Row = { id: string; attempt: number; channel: string; target: string; event: string; status: AttemptStatus; http_status: number | null; error: string | null; ts: string; total: string };
    return this.db.exclusive(async () => {
      const rows = await this.db.all<Row>(
        `SELECT id, attempt, channel, target, event, status, http_status, error, ${msSql('ts')} AS ts, count(*) OVER () AS total
         FROM deliveries WHERE ${w.sql.join(' AND ')} ORDER BY ts DESC, id DESC, attempt DESC LIMIT ? OFFSET ?`,
        [...w.params, limit, offset],
      );
      return {
        total: rows.length ? Number(rows[0]!.total) : await this.count('deliveries', w),
        items: rows.map((r) => ({
          tenant: q.tenant, id: r.id, attempt: r.attempt, channel: r.channel, target: r.target, event: r.event, status: r.status,
          ...present('httpStatus', r.http_status), ...present('error', r.error), at: msValue(r.ts),
        })),
      };
    });
  }

  async insertResponseRequest(r: ResponseRequest): Promise<void> {
    for (const f of ['tenant', 'id', 'createdBy'] as const) text(r[f], `request.${f}`);
    oneOf(r.kind, REQUEST_KINDS, 'request.kind');
    oneOf(r.status, REQUEST_STATUSES, 'request.status');
    if (!Array.isArray(r.vehicles)) throw new StoreError('request.vehicles must be a list of vehicle keys');
    r.vehicles.forEach((v, i) => {
      if (!isVehicleKey(v)) throw new StoreError(`request.vehicles[${i}] is not a vehicle key (16 lowercase hex digits): ${JSON.stringify(v)}`);
    });
    const params: SqlParam[] = [
      r.tenant, r.id, r.kind, opt(r.incident), jsonParam(r.vehicles), jsonParam(r.params), r.status, r.createdBy,
      timeParam(r.createdAt, 'request.createdAt'), r.expiresAt === undefined ? null : timeParam(r.expiresAt, 'request.expiresAt'),
    ];
    await this.db.exclusive(() =>
      this.db.run(
        `INSERT INTO response_requests (tenant, id, kind, incident, vehicles, params, status, created_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params,
      ),
    );
  }

  async setRequestStatus(tenant: string, id: string, status: RequestStatus): Promise<boolean> {
    oneOf(status, REQUEST_STATUSES, 'status');
    return this.db.exclusive(async () => (await this.db.run('UPDATE response_requests SET status = ? WHERE tenant = ? AND id = ?', [status, tenant, id])) > 0);
  }

  async listResponseRequests(q: { tenant: string; kind?: RequestKind; incident?: string; vehicle?: string; activeAt?: number; limit: number; offset?: number }): Promise<{ items: ResponseRequest[]; total: number }> {
    const [limit, offset] = pageParams(q);
    const w = where(q.tenant, [
      ['kind = ?', q.kind],
      ['incident = ?', q.incident],
      ['jsonb_exists(vehicles, ?)', q.vehicle],
      ["status <> 'failed' AND (expires_at IS NULL OR expires_at > ?)", q.activeAt === undefined ? undefined : timeParam(q.activeAt, 'activeAt')],
    ]);
    type Row = { id: string; kind: RequestKind; incident: string | null; vehicles: string; params: string; status: RequestStatus; created_by: string; created_at: string; expires_at: string | null; total: string };
    return this.db.exclusive(async () => {
      const rows = await this.db.all<Row>(
        `SELECT id, kind, incident, vehicles, params, status, created_by, ${msSql('created_at')} AS created_at, ${msSql('expires_at')} AS expires_at, count(*) OVER () AS total
         FROM response_requests WHERE ${w.sql.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
        [...w.params, limit, offset],
      );
      return {
        total: rows.length ? Number(rows[0]!.total) : await this.count('response_requests', w),
        items: rows.map((r) => ({
          tenant: q.tenant, id: r.id, kind: r.kind, ...present('incident', r.incident), vehicles: jsonValue<string[]>(r.vehicles), params: jsonValue<Record<string, unknown>>(r.params),
          status: r.status, createdBy: r.created_by, createdAt: msValue(r.created_at), ...present('expiresAt', r.expires_at === null ? null : msValue(r.expires_at)),
        })),
      };
    });
  }

  async incidentVehicles(tenant: string, incident: string): Promise<string[]> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ vehicle: string }>(
        `SELECT DISTINCT ${vehicleSql('vehicle')} AS vehicle, ${vehicleOrderSql('vehicle')} AS k FROM incident_alerts WHERE tenant = ? AND incident = ? AND vehicle IS NOT NULL ORDER BY k`,
        [tenant, incident],
      );
      return rows.map((r) => r.vehicle);
    });
  }

  /** The total of a page past the last match (the window count is then not there to read). The caller holds the turn. */
  private async count(table: string, w: Where): Promise<number> {
    const [row] = await this.db.all<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${w.sql.join(' AND ')}`, w.params);
    return Number(row?.n ?? 0);
  }
}

function text(v: unknown, field: string): void {
  if (typeof v !== 'string' || v === '') throw new StoreError(`${field} must be a non-empty string`);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): void {
  if (!allowed.includes(v as T)) throw new StoreError(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}
