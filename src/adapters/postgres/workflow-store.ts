/**
 * The PostgreSQL adapter of the WorkflowStore port (src/alerts/ports.ts): an incident's history
 * (`incident_events`), the links between incidents (`incident_links`) and per-tenant rule
 * tuning (`rule_tuning`), in the same schema as the PostgresStore, on its pool.
 *
 *   const workflow = new PostgresWorkflowStore(store.connection);
 *
 * The rules are the DuckDB adapter's (src/adapters/duckdb/workflow-store.ts):
 * - Events are append-only and idempotent by (tenant, incident, id): a repeated id is skipped,
 *   the first write wins. `events()` is oldest first; events of the same millisecond come back
 *   in the order they were appended (the identity column `seq`).
 * - A link joins two incidents once, whichever way round: linking b to a after a to b adds
 *   nothing (checked and inserted under a transaction-scoped advisory lock on the pair, so two
 *   processes linking at once add one link). `links()` lists the links on either end.
 * - Tuning is one row per (tenant, rule); saving replaces the previous parameters.
 */
import { StoreError } from '../../core/errors.js';
import type { IncidentEvent, IncidentLink, RuleTuning, WorkflowStore } from '../../alerts/ports.js';
import type { PgPool, SqlParam } from './connection.js';
import { all, insertRows, run } from './sql.js';
import { jsonParam, msSql, msValue, timeParam } from './values.js';

/** First key of the link advisory lock; the second is hashtext of the tenant and the pair. */
const LOCK_CLASS_LINK = 0x5649_4703;

export class PostgresWorkflowStore implements WorkflowStore {
  constructor(private readonly pool: PgPool) {}

  async appendEvents(events: readonly IncidentEvent[]): Promise<void> {
    // Validate all before writing any: a malformed event rejects the whole call.
    const rows = events.map((e, i) => eventRow(e, i));
    if (!rows.length) return;
    await insertRows(this.pool, 'incident_events', ['tenant', 'incident', 'id', 'ts', 'actor', 'kind', 'body'], rows, 'ON CONFLICT DO NOTHING');
  }

  async events(tenant: string, incident: string): Promise<IncidentEvent[]> {
    const rows = await all<{ id: string; ts: string; actor: string; kind: string; body: Record<string, unknown> }>(
      this.pool,
      `SELECT id, ${msSql('ts')} AS ts, actor, kind, body FROM incident_events WHERE tenant = ? AND incident = ? ORDER BY ts, seq`,
      [tenant, incident],
    );
    return rows.map((r) => ({ tenant, incident, id: r.id, time: msValue(r.ts), actor: r.actor, kind: r.kind, body: r.body }));
  }

  async insertLink(link: IncidentLink): Promise<boolean> {
    for (const f of ['tenant', 'a', 'b', 'relation', 'createdBy'] as const) text(link[f], `link.${f}`);
    if (link.a === link.b) throw new StoreError(`an incident cannot be linked to itself (${link.a})`);
    const at = timeParam(link.createdAt, 'link.createdAt');
    // JSON, not a separator character: PostgreSQL text cannot hold NUL.
    const pair = JSON.stringify([link.tenant, ...[link.a, link.b].sort()]);
    return this.pool.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS_LINK, pair]);
      const [existing] = await all<{ n: string }>(
        client,
        'SELECT count(*) AS n FROM incident_links WHERE tenant = ? AND ((a = ? AND b = ?) OR (a = ? AND b = ?))',
        [link.tenant, link.a, link.b, link.b, link.a],
      );
      if (existing && Number(existing.n) > 0) return false;
      const added = await run(
        client,
        'INSERT INTO incident_links (tenant, a, b, relation, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [link.tenant, link.a, link.b, link.relation, link.createdBy, at],
      );
      return added > 0;
    });
  }

  async links(tenant: string, incident: string): Promise<IncidentLink[]> {
    const rows = await all<{ a: string; b: string; relation: string; created_by: string; created_at: string }>(
      this.pool,
      `SELECT a, b, relation, created_by, ${msSql('created_at')} AS created_at FROM incident_links
       WHERE tenant = ? AND (a = ? OR b = ?) ORDER BY incident_links.created_at, a, b`,
      [tenant, incident, incident],
    );
    return rows.map((r) => ({ tenant, a: r.a, b: r.b, relation: r.relation, createdBy: r.created_by, createdAt: msValue(r.created_at) }));
  }

  async saveTuning(t: RuleTuning): Promise<void> {
    for (const f of ['tenant', 'rule', 'createdBy'] as const) text(t[f], `tuning.${f}`);
    if (typeof t.reason !== 'string') throw new StoreError('tuning.reason must be a string');
    if (t.params === null || typeof t.params !== 'object' || Array.isArray(t.params)) throw new StoreError('tuning.params must be an object');
    const at = timeParam(t.createdAt, 'tuning.createdAt');
    await run(
      this.pool,
      `INSERT INTO rule_tuning (tenant, rule, params, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, rule) DO UPDATE SET params = excluded.params, reason = excluded.reason,
         created_by = excluded.created_by, created_at = excluded.created_at`,
      [t.tenant, t.rule, jsonParam(t.params), t.reason, t.createdBy, at],
    );
  }

  async listTuning(tenant?: string): Promise<RuleTuning[]> {
    const rows = await all<{ tenant: string; rule: string; params: Record<string, unknown>; reason: string; created_by: string; created_at: string }>(
      this.pool,
      `SELECT tenant, rule, params, reason, created_by, ${msSql('created_at')} AS created_at FROM rule_tuning
       ${tenant === undefined ? '' : 'WHERE tenant = ?'} ORDER BY tenant, rule`,
      tenant === undefined ? [] : [tenant],
    );
    return rows.map((r) => ({ tenant: r.tenant, rule: r.rule, params: r.params, reason: r.reason, createdBy: r.created_by, createdAt: msValue(r.created_at) }));
  }
}

function eventRow(e: IncidentEvent, i: number): SqlParam[] {
  for (const f of ['tenant', 'incident', 'id', 'actor', 'kind'] as const) text(e[f], `events[${i}].${f}`);
  if (e.body === null || typeof e.body !== 'object' || Array.isArray(e.body)) throw new StoreError(`events[${i}].body must be an object`);
  return [e.tenant, e.incident, e.id, timeParam(e.time, `events[${i}].time`), e.actor, e.kind, jsonParam(e.body)];
}

function text(value: unknown, field: string): void {
  if (typeof value !== 'string' || value === '') throw new StoreError(`${field} must be a non-empty string`);
}
