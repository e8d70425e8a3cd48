/**
 * The DuckDB adapter of the CustomDetectionStore port (src/intel/templates/ports.ts): tenants'
 * detections made from templates, one row per (tenant, id) in `custom_detections` (schema v5),
 * in the same database as the DuckDBStore, taking turns on its connection.
 */
import { StoreError } from '../../core/errors.js';
import type { CustomDetection, CustomDetectionStore } from '../../intel/templates/ports.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { timeParam, timeValue } from './values.js';

/** Rows one `list` returns at most. */
export const MAX_CUSTOM_DETECTIONS_PAGE = 1000;

interface Row {
  tenant: string; id: string; yaml: string; template: string; vulnerability: string | null;
  enabled: boolean; created_by: string; created_at: bigint;
}

const COLUMNS = 'tenant, id, yaml, template, vulnerability, enabled, created_by, epoch_us(created_at) AS created_at';

const toDetection = (r: Row): CustomDetection => ({
  tenant: r.tenant, id: r.id, yaml: r.yaml, template: r.template, ...(r.vulnerability !== null ? { vulnerability: r.vulnerability } : {}),
  enabled: r.enabled, createdBy: r.created_by, createdAt: timeValue(r.created_at),
});

function text(v: unknown, field: string): void {
  if (typeof v !== 'string' || v === '') throw new StoreError(`${field} must be a non-empty string`);
}

function filter(opts: { tenant?: string; enabled?: boolean }): { where: string[]; params: SqlParam[] } {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (opts.tenant !== undefined) {
    where.push('tenant = ?');
    params.push(opts.tenant);
  }
  if (opts.enabled !== undefined) {
    where.push('enabled = ?');
    params.push(opts.enabled);
  }
  return { where, params };
}

export class DuckDBCustomDetections implements CustomDetectionStore {
  constructor(private readonly db: SerialConnection) {}

  async save(d: CustomDetection): Promise<void> {
    for (const f of ['tenant', 'id', 'yaml', 'template', 'createdBy'] as const) text(d[f], `detection.${f}`);
    const at = timeParam(d.createdAt, 'detection.createdAt');
    return this.db.exclusive(async () => {
      await this.db.run(
        `INSERT INTO custom_detections (tenant, id, yaml, template, vulnerability, enabled, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, id) DO UPDATE SET yaml = excluded.yaml, template = excluded.template, vulnerability = excluded.vulnerability,
           enabled = excluded.enabled, created_by = excluded.created_by, created_at = excluded.created_at`,
        [d.tenant, d.id, d.yaml, d.template, d.vulnerability ?? null, d.enabled, d.createdBy, at],
      );
    });
  }

  async get(tenant: string, id: string): Promise<CustomDetection | undefined> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM custom_detections WHERE tenant = ? AND id = ?`, [tenant, id]);
      return rows[0] && toDetection(rows[0]);
    });
  }

  async list(opts: { tenant?: string; enabled?: boolean; limit?: number; offset?: number }): Promise<CustomDetection[]> {
    const { where, params } = filter(opts);
    const limit = Math.min(opts.limit ?? MAX_CUSTOM_DETECTIONS_PAGE, MAX_CUSTOM_DETECTIONS_PAGE + 1);
    return this.db.exclusive(async () => {
      const rows = await this.db.all<Row>(
        `SELECT ${COLUMNS} FROM custom_detections ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY tenant, id LIMIT ? OFFSET ?`,
        [...params, limit, opts.offset ?? 0],
      );
      return rows.map(toDetection);
    });
  }

  async count(opts: { tenant?: string; enabled?: boolean }): Promise<number> {
    const { where, params } = filter(opts);
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM custom_detections ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`, params);
      return Number(rows[0]?.n ?? 0);
    });
  }

  /** Every stored detection that runs, for start-up (all tenants, no cap: each is one compiled rule). */
  async enabled(): Promise<CustomDetection[]> {
    return this.db.exclusive(async () => (await this.db.all<Row>(`SELECT ${COLUMNS} FROM custom_detections WHERE enabled ORDER BY tenant, id`, [])).map(toDetection));
  }

  async setEnabled(tenant: string, id: string, enabled: boolean): Promise<boolean> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ id: string }>('UPDATE custom_detections SET enabled = ? WHERE tenant = ? AND id = ? RETURNING id', [enabled, tenant, id]);
      return rows.length > 0;
    });
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ id: string }>('DELETE FROM custom_detections WHERE tenant = ? AND id = ? RETURNING id', [tenant, id]);
      return rows.length > 0;
    });
  }
}
