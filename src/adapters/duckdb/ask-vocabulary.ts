/**
 * The values the ask vocabulary is built from, read from DuckDB (the `AskValueSource` port):
 * a tenant's makes, models, trims, regions, model years, ECU names with their software versions,
 * the rule ids and titles of its alerts, incident assignees, and the vulnerability ids the feeds
 * hold. Value sets, not rows: a million vehicles give a few hundred values. `CachedAskValues`
 * keeps each tenant's set for a while (refreshed after `ttlMs`), so questions do not pay the scans.
 */
import type { Clock } from '../../core/clock.js';
import type { AskValueSource, DataValues } from '../../ask/vocabulary.js';
import type { SerialConnection } from './connection.js';

/** Most values read per attribute (vulnerability ids are the long tail). */
export const MAX_VALUES_PER_FIELD = 20_000;

export class DuckDBAskValues implements AskValueSource {
  constructor(private readonly db: SerialConnection) {}

  async values(tenant: string): Promise<DataValues> {
    return this.db.exclusive(async () => {
      const [t] = await this.db.all<{ id: number }>('SELECT id FROM tenants WHERE name = $1', [tenant]);
      const fields: Record<string, (string | number)[]> = {};
      const put = (key: string, rows: { v: string | number | null }[]): void => {
        const list = rows.map((r) => r.v).filter((v): v is string | number => v !== null && v !== '');
        if (list.length) fields[key] = list;
      };
      const ruleTitles: Record<string, string> = {};
      if (t) {
        for (const col of ['make', 'model', 'trim', 'region', 'year'] as const) {
          put(col, await this.db.all(`SELECT DISTINCT ${col} AS v FROM vehicles WHERE tenant = $1 AND ${col} IS NOT NULL ORDER BY 1 LIMIT ${MAX_VALUES_PER_FIELD}`, [t.id]));
        }
        const software = await this.db.all<{ ecu: string; v: string }>(
          `SELECT DISTINCT e.key AS ecu, e.value ->> '$' AS v
             FROM vehicles, json_each(software) AS e
            WHERE tenant = $1 AND software IS NOT NULL
            ORDER BY 1, 2 LIMIT ${MAX_VALUES_PER_FIELD}`, [t.id]);
        for (const r of software) (fields[`software.${r.ecu}`] ??= []).push(r.v);
        const rules = await this.db.all<{ rule: string; title: string }>(
          `SELECT rule, min(title) AS title FROM alerts WHERE tenant = $1 GROUP BY rule ORDER BY rule LIMIT ${MAX_VALUES_PER_FIELD}`, [t.id]);
        put('rule', rules.map((r) => ({ v: r.rule })));
        for (const r of rules) if (r.title !== r.rule) ruleTitles[r.rule] = r.title;
      }
      put('assignee', await this.db.all(`SELECT DISTINCT assignee AS v FROM incidents WHERE tenant = $1 AND assignee IS NOT NULL LIMIT ${MAX_VALUES_PER_FIELD}`, [tenant]));
      put('vulnerability', await this.db.all(`SELECT id AS v FROM intel_vulnerabilities ORDER BY id LIMIT ${MAX_VALUES_PER_FIELD}`));
      put('component', await this.db.all(`SELECT DISTINCT name AS v FROM intel_sbom_components WHERE tenant = $1 LIMIT ${MAX_VALUES_PER_FIELD}`, [tenant]));
      return { fields, ruleTitles };
    });
  }
}

/** A tenant's values kept for `ttlMs` (default 5 minutes), then read again on the next question. */
export class CachedAskValues implements AskValueSource {
  private readonly cache = new Map<string, { at: number; values: Promise<DataValues> }>();

  constructor(
    private readonly source: AskValueSource,
    private readonly clock: Clock,
    private readonly ttlMs = 300_000,
  ) {}

  values(tenant: string): Promise<DataValues> {
    const now = this.clock.now();
    const hit = this.cache.get(tenant);
    if (hit && now - hit.at < this.ttlMs) return hit.values;
    const values = this.source.values(tenant);
    this.cache.set(tenant, { at: now, values });
    values.catch(() => this.cache.delete(tenant));
    return values;
  }
}
