/**
 * The vehicles' attribute values packed for commonality on the asked-query connection: per
 * vehicle one row holding the codes of its make, model, year, trim, region and `software.<ECU>`
 * values (`ask_vehicle_codes`), the codes' (attribute, value) per tenant (`ask_attribute_codes`)
 * and the vehicles holding each code (`ask_code_counts`).
 *
 * Why: commonality's set side read every vehicle's row to find the set's vehicles and parse their
 * software JSON — the join probes all rows of `vehicles`, fetching the wide columns (0.43 s of
 * CPU for 2,000 set vehicles among 1,000,000, EXPLAIN ANALYZE); the fleet side unpacked every
 * vehicle's JSON (~0.6-0.9 s). A narrow row of (id, a list of ~9 integers) per vehicle makes the
 * set side a join on ids and the fleet side a read of the counts. (One row per vehicle and value,
 * as fleet-attributes.ts keeps for the fleet views, was measured too: scanning its 9M rows cost
 * 140-210 ms, more than the JSON join it would replace.)
 *
 * Kept as fleet-attributes.ts keeps its tables: brought up to date for a tenant by comparing a
 * hash of every vehicle's attributes with the hash its codes were made from; only new, changed
 * or vanished vehicles are unpacked again, and the counts of the codes they held or hold
 * adjusted; more than a tenth of the fleet changed (or a tenant's first use) rebuilds the
 * tenant. The executor calls `refresh` only when the tenant's fleet fingerprint changed.
 * Temporary tables: the connection's memory only. The caller holds the connection's turn.
 */
import type { SerialConnection } from './connection.js';

/** What the tables need of a connection (the ask executor adapts its own to this). */
export type CodesConnection = Pick<SerialConnection, 'run' | 'all' | 'transaction'>;

/** `(tenant USMALLINT, code UINTEGER, attribute VARCHAR, value VARCHAR)`. */
export const ATTRIBUTE_CODES = 'ask_attribute_codes';
/** `(tenant USMALLINT, id UBIGINT, h UBIGINT, codes UINTEGER[])`: every vehicle, with the hash its codes were made from. */
export const VEHICLE_CODES = 'ask_vehicle_codes';
/** `(tenant USMALLINT, code UINTEGER, fleet BIGINT)`: the tenant's vehicles holding each code. */
export const CODE_COUNTS = 'ask_code_counts';
const DELTA = 'ask_codes_delta';
const RAW = 'ask_codes_raw';
const ADJUST = 'ask_codes_adjust';

const PLAIN: readonly (readonly [string, string])[] = [
  ['make', 'v.make'], ['model', 'v.model'], ['year', 'CAST(v.year AS VARCHAR)'], ['trim', 'v.trim'], ['region', 'v.region'],
];

export class AskAttributeCodes {
  private created = false;

  /** `vehicles`: the name of the real vehicles table (catalog-qualified). */
  constructor(private readonly db: CodesConnection, private readonly vehicles: string) {}

  async create(): Promise<void> {
    if (this.created) return;
    await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${ATTRIBUTE_CODES} (tenant USMALLINT, code UINTEGER, attribute VARCHAR, value VARCHAR)`);
    await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${VEHICLE_CODES} (tenant USMALLINT, id UBIGINT, h UBIGINT, codes UINTEGER[])`);
    await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${CODE_COUNTS} (tenant USMALLINT, code UINTEGER, fleet BIGINT)`);
    this.created = true;
  }

  /** Brings tenant `tid`'s codes up to date with `vehicles`; returns the vehicles unpacked again. */
  async refresh(tid: number): Promise<number> {
    await this.create();
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${DELTA} AS
      SELECT coalesce(c.id, o.id) AS id, c.h AS h
      FROM (SELECT id, hash(make, model, year, trim, region, software) AS h FROM ${this.vehicles} WHERE tenant = ?::USMALLINT) c
      FULL JOIN (SELECT id, h FROM ${VEHICLE_CODES} WHERE tenant = ?::USMALLINT) o ON c.id = o.id
      WHERE c.h IS DISTINCT FROM o.h`, [tid, tid]);
    const [row] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${DELTA}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) {
      const [fleet] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${VEHICLE_CODES} WHERE tenant = ?::USMALLINT`, [tid]);
      const all = n * 10 > Number(fleet?.n ?? 0);
      await this.db.transaction(async () => {
        const changed = all ? '' : ` AND id IN (SELECT id FROM ${DELTA})`;
        // The codes the changed vehicles held: their counts go down.
        await this.db.run(`CREATE OR REPLACE TEMP TABLE ${ADJUST} AS
          SELECT unnest(codes) AS code, -1 AS d FROM ${VEHICLE_CODES} WHERE tenant = ?::USMALLINT${all ? ' AND false' : changed}`, [tid]);
        await this.db.run(`DELETE FROM ${VEHICLE_CODES} WHERE tenant = ?::USMALLINT${changed}`, [tid]);
        await this.db.run(`CREATE OR REPLACE TEMP TABLE ${RAW} AS
          WITH v AS MATERIALIZED (${all
            ? `SELECT v.id, v.make, v.model, v.year, v.trim, v.region, v.software, hash(v.make, v.model, v.year, v.trim, v.region, v.software) AS h
                FROM ${this.vehicles} v WHERE v.tenant = ?::USMALLINT`
            : `SELECT v.id, v.make, v.model, v.year, v.trim, v.region, v.software, d.h FROM ${this.vehicles} v JOIN ${DELTA} d ON d.id = v.id
                WHERE v.tenant = ?::USMALLINT AND d.h IS NOT NULL`})
          SELECT v.id, v.h, NULL AS attribute, NULL AS value FROM v
          ${PLAIN.map(([a, sql]) => `UNION ALL SELECT v.id, v.h, '${a}', ${sql} FROM v WHERE ${sql} IS NOT NULL`).join('\n          ')}
          UNION ALL SELECT v.id, v.h, 'software.' || e.key, e.value ->> '$' FROM v, json_each(v.software) e
            WHERE v.software IS NOT NULL AND json_type(e.value) <> 'NULL'`, [tid]);
        await this.db.run(`INSERT INTO ${ATTRIBUTE_CODES}
          SELECT ?::USMALLINT, (SELECT coalesce(max(code), 0) FROM ${ATTRIBUTE_CODES}) + row_number() OVER (), attribute, value
          FROM (SELECT DISTINCT attribute, value FROM ${RAW} WHERE attribute IS NOT NULL) r
          WHERE NOT EXISTS (SELECT 1 FROM ${ATTRIBUTE_CODES} c WHERE c.tenant = ?::USMALLINT AND c.attribute = r.attribute AND c.value = r.value)`, [tid, tid]);
        // Every changed vehicle gets a row (an empty list when it holds nothing), so it is not unpacked again.
        await this.db.run(`INSERT INTO ${VEHICLE_CODES}
          SELECT ?::USMALLINT, r.id, any_value(r.h), coalesce(list(c.code ORDER BY c.code) FILTER (WHERE c.code IS NOT NULL), [])
          FROM ${RAW} r LEFT JOIN ${ATTRIBUTE_CODES} c ON c.tenant = ?::USMALLINT AND c.attribute = r.attribute AND c.value = r.value
          GROUP BY r.id`, [tid, tid]);
        if (all) {
          await this.db.run(`DELETE FROM ${CODE_COUNTS} WHERE tenant = ?::USMALLINT`, [tid]);
          await this.db.run(`INSERT INTO ${CODE_COUNTS} SELECT ?::USMALLINT, code, count(*) FROM
            (SELECT unnest(codes) AS code FROM ${VEHICLE_CODES} WHERE tenant = ?::USMALLINT) GROUP BY code`, [tid, tid]);
        } else {
          await this.db.run(`INSERT INTO ${ADJUST} SELECT unnest(codes), 1 FROM ${VEHICLE_CODES} WHERE tenant = ?::USMALLINT${changed}`, [tid]);
          await this.db.run(`CREATE OR REPLACE TEMP TABLE ${ADJUST} AS
            SELECT a.code, coalesce(any_value(k.fleet), 0) + sum(a.d) AS fleet FROM ${ADJUST} a
            LEFT JOIN ${CODE_COUNTS} k ON k.tenant = ?::USMALLINT AND k.code = a.code GROUP BY a.code`, [tid]);
          await this.db.run(`DELETE FROM ${CODE_COUNTS} WHERE tenant = ?::USMALLINT AND code IN (SELECT code FROM ${ADJUST})`, [tid]);
          await this.db.run(`INSERT INTO ${CODE_COUNTS} SELECT ?::USMALLINT, code, fleet FROM ${ADJUST} WHERE fleet > 0`, [tid]);
        }
      });
      await this.db.run(`DROP TABLE IF EXISTS ${RAW}`);
      await this.db.run(`DROP TABLE IF EXISTS ${ADJUST}`);
    }
    await this.db.run(`DROP TABLE ${DELTA}`);
    return n;
  }
}
