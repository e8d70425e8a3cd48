/**
 * The fleet's attribute values, unpacked for the fleet views: one row per (tenant, vehicle,
 * attribute, value) — `make`, `model`, `year`, `trim`, `region` and `software.<ECU>` — and the
 * number of the tenant's vehicles holding each value. `vehicles.software` is JSON, and parsing
 * 100,000 documents costs a few hundred ms on every query that groups by `software.<ECU>` or
 * computes commonality; counting 1.1M (vehicle, value) pairs for the fleet side of commonality
 * costs as much again. Both are kept here, in temporary tables of the connection, and brought up
 * to date before each such query by comparing a hash of every vehicle's attributes with the hash
 * they were unpacked from: only new, changed or vanished vehicles are unpacked again, and only
 * the values they held or hold are counted again (a live fleet changes a handful of vehicles
 * between two queries). A tenant's first query, or one after more than a tenth of its vehicles
 * changed, unpacks and counts it all from scratch (100,000 vehicles: ~1.1M pairs, 1-2 s on the
 * shared 2-core development machine).
 *
 * Temporary tables live in the connection's memory, are never written to the database file, and
 * vanish with the connection. Every method assumes the caller holds the connection's turn.
 */
import type { SerialConnection } from './connection.js';

/** `(tenant USMALLINT, id UBIGINT, attribute VARCHAR, value VARCHAR)`: one row per attribute value of every vehicle. */
export const ATTRIBUTE_TABLE = 'fleet_views_attrs';
/** `(tenant USMALLINT, attribute VARCHAR, value VARCHAR, fleet BIGINT)`: vehicles holding each value. */
export const VALUE_COUNT_TABLE = 'fleet_views_value_counts';
/** `(tenant USMALLINT, id UBIGINT, h UBIGINT)`: the vehicles unpacked, with the hash of what they were unpacked from. */
export const UNPACKED_TABLE = 'fleet_views_unpacked';
const DELTA = 'fleet_views_delta';
const KEYS = 'fleet_views_changed_values';

/** The attribute columns of `vehicles`, as (attribute, SQL value) pairs. */
const PLAIN: readonly (readonly [string, string])[] = [
  ['make', 'v.make'], ['model', 'v.model'], ['year', 'CAST(v.year AS VARCHAR)'], ['trim', 'v.trim'], ['region', 'v.region'],
];

export class FleetAttributes {
  private created = false;

  constructor(private readonly db: SerialConnection) {}

  /** Brings the tables up to date with `vehicles` for tenant `tid`; returns the vehicles unpacked again. */
  async refresh(tid: number): Promise<number> {
    if (!this.created) {
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${ATTRIBUTE_TABLE} (tenant USMALLINT, id UBIGINT, attribute VARCHAR, value VARCHAR)`);
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${VALUE_COUNT_TABLE} (tenant USMALLINT, attribute VARCHAR, value VARCHAR, fleet BIGINT)`);
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${UNPACKED_TABLE} (tenant USMALLINT, id UBIGINT, h UBIGINT)`);
      this.created = true;
    }
    // Vehicles that are new or changed (h: the new hash), or gone (h NULL).
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${DELTA} AS
      SELECT coalesce(c.id, o.id) AS id, c.h AS h
      FROM (SELECT id, hash(make, model, year, trim, region, software) AS h FROM vehicles WHERE tenant = ?::USMALLINT) c
      FULL JOIN (SELECT id, h FROM ${UNPACKED_TABLE} WHERE tenant = ?::USMALLINT) o ON c.id = o.id
      WHERE c.h IS DISTINCT FROM o.h`, [tid, tid]);
    const [row] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${DELTA}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) {
      const [fleet] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${UNPACKED_TABLE} WHERE tenant = ?::USMALLINT`, [tid]);
      // Many changes (or none unpacked yet, a tenant's first query): unpack and count it all again.
      if (n * 10 > Number(fleet?.n ?? 0)) await this.rebuild(tid);
      else await this.update(tid);
    }
    await this.db.run(`DROP TABLE ${DELTA}`);
    return n;
  }

  /** Every pair and count of the tenant, from scratch. */
  private async rebuild(tid: number): Promise<void> {
    await this.db.transaction(async () => {
      for (const t of [ATTRIBUTE_TABLE, UNPACKED_TABLE, VALUE_COUNT_TABLE]) await this.db.run(`DELETE FROM ${t} WHERE tenant = ?::USMALLINT`, [tid]);
      await this.db.run(this.unpack('SELECT * FROM vehicles WHERE tenant = ?::USMALLINT'), [tid]);
      await this.db.run(`INSERT INTO ${VALUE_COUNT_TABLE} SELECT tenant, attribute, value, count(*) FROM ${ATTRIBUTE_TABLE}
        WHERE tenant = ?::USMALLINT GROUP BY tenant, attribute, value`, [tid]);
      await this.db.run(`INSERT INTO ${UNPACKED_TABLE} SELECT ?, id, h FROM ${DELTA} WHERE h IS NOT NULL`, [tid]);
    });
  }

  /** The pairs of the changed vehicles, and the counts of every value they held or hold. */
  private async update(tid: number): Promise<void> {
    const changedIds = `id IN (SELECT id FROM ${DELTA})`;
    await this.db.transaction(async () => {
      await this.db.run(`CREATE OR REPLACE TEMP TABLE ${KEYS} AS
        SELECT DISTINCT attribute, value FROM ${ATTRIBUTE_TABLE} WHERE tenant = ?::USMALLINT AND ${changedIds}`, [tid]);
      await this.db.run(`DELETE FROM ${ATTRIBUTE_TABLE} WHERE tenant = ?::USMALLINT AND ${changedIds}`, [tid]);
      await this.db.run(`DELETE FROM ${UNPACKED_TABLE} WHERE tenant = ?::USMALLINT AND ${changedIds}`, [tid]);
      await this.db.run(this.unpack(`SELECT v.* FROM vehicles v JOIN ${DELTA} d ON d.id = v.id AND d.h IS NOT NULL WHERE v.tenant = ?::USMALLINT`), [tid]);
      await this.db.run(`INSERT INTO ${KEYS}
        SELECT DISTINCT attribute, value FROM ${ATTRIBUTE_TABLE} WHERE tenant = ?::USMALLINT AND ${changedIds}`, [tid]);
      await this.db.run(`DELETE FROM ${VALUE_COUNT_TABLE} c USING ${KEYS} k
        WHERE c.tenant = ?::USMALLINT AND c.attribute = k.attribute AND c.value = k.value`, [tid]);
      await this.db.run(`INSERT INTO ${VALUE_COUNT_TABLE}
        SELECT a.tenant, a.attribute, a.value, count(*) FROM ${ATTRIBUTE_TABLE} a
        SEMI JOIN (SELECT DISTINCT attribute, value FROM ${KEYS}) k ON k.attribute = a.attribute AND k.value = a.value
        WHERE a.tenant = ?::USMALLINT GROUP BY a.tenant, a.attribute, a.value`, [tid]);
      await this.db.run(`INSERT INTO ${UNPACKED_TABLE} SELECT ?, id, h FROM ${DELTA} WHERE h IS NOT NULL`, [tid]);
    });
    await this.db.run(`DROP TABLE ${KEYS}`);
  }

  /** INSERT of the attribute pairs of the vehicles `source` selects (one `?`: the tenant). */
  private unpack(source: string): string {
    return `INSERT INTO ${ATTRIBUTE_TABLE}
      WITH v AS MATERIALIZED (${source})
      ${PLAIN.map(([a, sql]) => `SELECT v.tenant, v.id, '${a}', ${sql} FROM v WHERE ${sql} IS NOT NULL`).join(' UNION ALL ')}
      UNION ALL SELECT v.tenant, v.id, 'software.' || e.key, e.value ->> '$' FROM v, json_each(v.software) e
        WHERE v.software IS NOT NULL AND json_type(e.value) <> 'NULL'`;
  }
}
