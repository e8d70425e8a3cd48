/**
 * The DuckDB adapter of the WorkflowStore port (src/alerts/ports.ts): an incident's history
 * (`incident_events`), the links between incidents (`incident_links`) and per-tenant rule
 * tuning (`rule_tuning`), in the same database as the DuckDBStore, taking turns on its
 * connection.
 *
 *   const workflow = new DuckDBWorkflowStore(store.connection);
 *
 * - Events are append-only and idempotent by (tenant, incident, id): a repeated id is skipped,
 *   the first write wins. `events()` is oldest first; events of the same millisecond come back
 *   in the order they were appended.
 * - A link joins two incidents once, whichever way round: linking b to a after a to b adds
 *   nothing. `links()` lists the links on either end.
 * - Tuning is one row per (tenant, rule); saving replaces the previous parameters.
 */
import { StoreError } from '../../core/errors.js';
import type { IncidentEvent, IncidentLink, RuleTuning, WorkflowStore } from '../../alerts/ports.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { jsonParam, jsonValue, timeParam, timeValue } from './values.js';

/** Events per INSERT statement. */
const EVENTS_PER_INSERT = 200;

export class DuckDBWorkflowStore implements WorkflowStore {
  constructor(private readonly db: SerialConnection) {}

  async appendEvents(events: readonly IncidentEvent[]): Promise<void> {
    // Validate all before writing any: a malformed event rejects the whole call.
    const rows = events.map((e, i) => eventRow(e, i));
    return this.db.exclusive(async () => {
      if (!rows.length) return;
      await this.db.transaction(async () => {
        for (let i = 0; i < rows.length; i += EVENTS_PER_INSERT) {
          const chunk = rows.slice(i, i + EVENTS_PER_INSERT);
          await this.db.run(
            `INSERT INTO incident_events (tenant, incident, id, ts, actor, kind, body) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
             ON CONFLICT DO NOTHING`,
            chunk.flat(),
          );
        }
      });
    });
  }

  async events(tenant: string, incident: string): Promise<IncidentEvent[]> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ id: string; ts: bigint; actor: string; kind: string; body: string }>(
        // rowid: the order of appending, for events of the same time.
        `SELECT id, epoch_us(ts) AS ts, actor, kind, body FROM incident_events
         WHERE tenant = ? AND incident = ? ORDER BY ts, rowid`,
        [tenant, incident],
      );
      return rows.map((r) => ({ tenant, incident, id: r.id, time: timeValue(r.ts), actor: r.actor, kind: r.kind, body: jsonValue<Record<string, unknown>>(r.body) }));
    });
  }

  async insertLink(link: IncidentLink): Promise<boolean> {
    for (const f of ['tenant', 'a', 'b', 'relation', 'createdBy'] as const) text(link[f], `link.${f}`);
    if (link.a === link.b) throw new StoreError(`an incident cannot be linked to itself (${link.a})`);
    const at = timeParam(link.createdAt, 'link.createdAt');
    return this.db.exclusive(async () => {
      const [existing] = await this.db.all<{ n: bigint }>(
        'SELECT count(*) AS n FROM incident_links WHERE tenant = ? AND ((a = ? AND b = ?) OR (a = ? AND b = ?))',
        [link.tenant, link.a, link.b, link.b, link.a],
      );
      if (existing && existing.n > 0n) return false;
      const added = await this.db.run(
        'INSERT INTO incident_links (tenant, a, b, relation, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [link.tenant, link.a, link.b, link.relation, link.createdBy, at],
      );
      return added > 0;
    });
  }

  async links(tenant: string, incident: string): Promise<IncidentLink[]> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ a: string; b: string; relation: string; created_by: string; created_at: bigint }>(
        `SELECT a, b, relation, created_by, epoch_us(created_at) AS created_at FROM incident_links
         WHERE tenant = ? AND (a = ? OR b = ?) ORDER BY created_at, a, b`,
        [tenant, incident, incident],
      );
      return rows.map((r) => ({ tenant, a: r.a, b: r.b, relation: r.relation, createdBy: r.created_by, createdAt: timeValue(r.created_at) }));
    });
  }

  async saveTuning(t: RuleTuning): Promise<void> {
    for (const f of ['tenant', 'rule', 'createdBy'] as const) text(t[f], `tuning.${f}`);
    if (typeof t.reason !== 'string') throw new StoreError('tuning.reason must be a string');
    if (t.params === null || typeof t.params !== 'object' || Array.isArray(t.params)) throw new StoreError('tuning.params must be an object');
    const at = timeParam(t.createdAt, 'tuning.createdAt');
    return this.db.exclusive(async () => {
      await this.db.run(
        `INSERT INTO rule_tuning (tenant, rule, params, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, rule) DO UPDATE SET params = excluded.params, reason = excluded.reason,
           created_by = excluded.created_by, created_at = excluded.created_at`,
        [t.tenant, t.rule, jsonParam(t.params), t.reason, t.createdBy, at],
      );
    });
  }

  async listTuning(tenant?: string): Promise<RuleTuning[]> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ tenant: string; rule: string; params: string; reason: string; created_by: string; created_at: bigint }>(
        `SELECT tenant, rule, params, reason, created_by, epoch_us(created_at) AS created_at FROM rule_tuning
         ${tenant === undefined ? '' : 'WHERE tenant = ?'} ORDER BY tenant, rule`,
        tenant === undefined ? [] : [tenant],
      );
      return rows.map((r) => ({ tenant: r.tenant, rule: r.rule, params: jsonValue<Record<string, unknown>>(r.params), reason: r.reason, createdBy: r.created_by, createdAt: timeValue(r.created_at) }));
    });
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
