/**
 * The fleet's ECU software, unpacked for exposure (intel-store.ts): one row per (tenant, vehicle,
 * ECU software entry) of `vehicles.software`, the (ECU, version) pair as a number into a table of
 * the distinct pairs, which also holds them normalised as sbom/binding.ts compares them (ECU
 * lower-cased and trimmed, version trimmed), and the vehicle's make, model, year and region as a
 * number into a table of the distinct ones (exposure counts group by them without reading
 * `vehicles` again). Unpacking a million vehicles' JSON costs seconds;
 * joining the pairs an SBOM binding selects with ten million small rows costs tens of ms.
 *
 * Kept as fleet-attributes.ts keeps the fleet views' attributes: temporary tables of the
 * connection, brought up to date before each fleet-wide exposure query by comparing a hash of
 * every vehicle's `software`, make, model, year and region with the hash it was unpacked from; only new, changed or vanished
 * vehicles are unpacked again. A tenant's first query, or one after more than a tenth of its
 * vehicles changed software, unpacks it all. Every method assumes the caller holds the
 * connection's turn.
 */
import type { SerialConnection } from './connection.js';

/** `(sw UINTEGER, ecu VARCHAR, version VARCHAR, ecu_key VARCHAR, version_key VARCHAR)`: each distinct (ECU, version) as a vehicle wrote it, and normalised. */
export const SOFTWARE_VALUES = 'intel_software_values';
/** `(a UINTEGER, make VARCHAR, model VARCHAR, year INTEGER, region VARCHAR, model_key VARCHAR)`: each distinct (make, model, year, region) of the vehicles unpacked. */
export const VEHICLE_ATTRS = 'intel_vehicle_attrs';
/** `(tenant USMALLINT, id UBIGINT, sw UINTEGER, a UINTEGER)`: one row per software entry of every vehicle, with the vehicle's attributes. */
export const SOFTWARE_PAIRS = 'intel_software_pairs';
/** `(tenant USMALLINT, id UBIGINT, h UBIGINT)`: the vehicles unpacked, with the hash of the software they were unpacked from. */
const UNPACKED = 'intel_software_unpacked';
const DELTA = 'intel_software_delta';
const RAW = 'intel_software_raw';

export class SoftwarePairs {
  private created = false;

  constructor(private readonly db: SerialConnection) {}

  /** Brings the tables up to date with `vehicles.software` for tenant `tid`; returns the vehicles unpacked again. */
  async refresh(tid: number): Promise<number> {
    if (!this.created) {
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${SOFTWARE_VALUES} (sw UINTEGER, ecu VARCHAR, version VARCHAR, ecu_key VARCHAR, version_key VARCHAR)`);
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${VEHICLE_ATTRS} (a UINTEGER, make VARCHAR, model VARCHAR, year INTEGER, region VARCHAR, model_key VARCHAR)`);
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${SOFTWARE_PAIRS} (tenant USMALLINT, id UBIGINT, sw UINTEGER, a UINTEGER)`);
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${UNPACKED} (tenant USMALLINT, id UBIGINT, h UBIGINT)`);
      this.created = true;
    }
    // Vehicles whose software is new or changed (h: the new hash), or gone (h NULL).
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${DELTA} AS
      SELECT coalesce(c.id, o.id) AS id, c.h AS h
      FROM (SELECT id, hash(software, make, model, year, region) AS h FROM vehicles WHERE tenant = ?::USMALLINT AND software IS NOT NULL) c
      FULL JOIN (SELECT id, h FROM ${UNPACKED} WHERE tenant = ?::USMALLINT) o ON c.id = o.id
      WHERE c.h IS DISTINCT FROM o.h`, [tid, tid]);
    const [row] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${DELTA}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) {
      const [fleet] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${UNPACKED} WHERE tenant = ?::USMALLINT`, [tid]);
      const all = n * 10 > Number(fleet?.n ?? 0);
      await this.db.transaction(async () => {
        const changed = all ? '' : `AND id IN (SELECT id FROM ${DELTA})`;
        await this.db.run(`DELETE FROM ${SOFTWARE_PAIRS} WHERE tenant = ?::USMALLINT ${changed}`, [tid]);
        await this.db.run(`DELETE FROM ${UNPACKED} WHERE tenant = ?::USMALLINT ${changed}`, [tid]);
        const source = all
          ? 'SELECT id, make, model, year, region, software FROM vehicles WHERE tenant = ?::USMALLINT AND software IS NOT NULL'
          : `SELECT v.id, v.make, v.model, v.year, v.region, v.software FROM vehicles v JOIN ${DELTA} d ON d.id = v.id AND d.h IS NOT NULL WHERE v.tenant = ?::USMALLINT`;
        await this.db.run(`CREATE OR REPLACE TEMP TABLE ${RAW}_v AS ${source}`, [tid]);
        await this.db.run(`INSERT INTO ${VEHICLE_ATTRS}
          SELECT (SELECT coalesce(max(a), 0) FROM ${VEHICLE_ATTRS}) + row_number() OVER (), make, model, year, region, lower(trim(model))
          FROM (SELECT DISTINCT make, model, year, region FROM ${RAW}_v) r
          WHERE NOT EXISTS (SELECT 1 FROM ${VEHICLE_ATTRS} s WHERE s.make IS NOT DISTINCT FROM r.make AND s.model IS NOT DISTINCT FROM r.model
            AND s.year IS NOT DISTINCT FROM r.year AND s.region IS NOT DISTINCT FROM r.region)`);
        await this.db.run(`CREATE OR REPLACE TEMP TABLE ${RAW} AS
          SELECT v.id, d.a, e.key AS ecu, e.value ->> '$' AS version FROM ${RAW}_v v
          JOIN ${VEHICLE_ATTRS} d ON d.make IS NOT DISTINCT FROM v.make AND d.model IS NOT DISTINCT FROM v.model AND d.year IS NOT DISTINCT FROM v.year AND d.region IS NOT DISTINCT FROM v.region,
          json_each(v.software) e WHERE json_type(e.value) <> 'NULL'`);
        await this.db.run(`DROP TABLE ${RAW}_v`);
        await this.db.run(`INSERT INTO ${SOFTWARE_VALUES}
          SELECT (SELECT coalesce(max(sw), 0) FROM ${SOFTWARE_VALUES}) + row_number() OVER (), ecu, version, lower(trim(ecu)), trim(version)
          FROM (SELECT DISTINCT ecu, version FROM ${RAW}) r
          WHERE NOT EXISTS (SELECT 1 FROM ${SOFTWARE_VALUES} s WHERE s.ecu = r.ecu AND s.version = r.version)`);
        await this.db.run(`INSERT INTO ${SOFTWARE_PAIRS} SELECT ?::USMALLINT, r.id, s.sw, r.a FROM ${RAW} r JOIN ${SOFTWARE_VALUES} s ON s.ecu = r.ecu AND s.version = r.version`, [tid]);
        await this.db.run(`INSERT INTO ${UNPACKED} SELECT ?::USMALLINT, id, h FROM ${DELTA} WHERE h IS NOT NULL`, [tid]);
      });
      await this.db.run(`DROP TABLE ${RAW}`);
    }
    await this.db.run(`DROP TABLE ${DELTA}`);
    return n;
  }
}
