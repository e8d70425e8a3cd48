/**
 * The ECU software of the fleet, unpacked for the fleet views: `vehicles.software` is JSON
 * (ECU -> version), and parsing 100,000 documents costs a few hundred ms on every query that
 * groups by `software.<ECU>` or computes commonality. This keeps them parsed, one row per
 * (tenant, vehicle, ECU), in temporary tables of the connection, and brings them up to date
 * before each such query by comparing a hash of every vehicle's `software` text with the hash
 * it was parsed from: only new, changed or vanished vehicles are parsed again (a live fleet
 * changes a handful between two queries; the first query of a tenant parses all of it).
 *
 * Temporary tables live in the connection's memory, are never written to the database file,
 * and vanish with the connection. Every method assumes the caller holds the connection's turn.
 */
import type { SerialConnection } from './connection.js';

/** `(tenant USMALLINT, id UBIGINT, ecu VARCHAR, version VARCHAR)`: one row per ECU of every vehicle. */
export const SOFTWARE_TABLE = 'fleet_views_software';
const HASHES = 'fleet_views_software_hash';
const DELTA = 'fleet_views_software_delta';

export class FleetSoftware {
  private created = false;

  constructor(private readonly db: SerialConnection) {}

  /** Makes SOFTWARE_TABLE match `vehicles.software` for tenant `tid`; returns the vehicles parsed again. */
  async refresh(tid: number): Promise<number> {
    if (!this.created) {
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${SOFTWARE_TABLE} (tenant USMALLINT, id UBIGINT, ecu VARCHAR, version VARCHAR)`);
      await this.db.run(`CREATE TEMP TABLE IF NOT EXISTS ${HASHES} (tenant USMALLINT, id UBIGINT, h UBIGINT)`);
      this.created = true;
    }
    // Vehicles whose software text is new or changed (h: the new hash), or gone (h NULL).
    await this.db.run(`CREATE OR REPLACE TEMP TABLE ${DELTA} AS
      SELECT coalesce(c.id, o.id) AS id, c.h AS h
      FROM (SELECT id, hash(software) AS h FROM vehicles WHERE tenant = ?) c
      FULL JOIN (SELECT id, h FROM ${HASHES} WHERE tenant = ?) o ON c.id = o.id
      WHERE c.h IS DISTINCT FROM o.h`, [tid, tid]);
    const [row] = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${DELTA}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) {
      await this.db.transaction(async () => {
        await this.db.run(`DELETE FROM ${SOFTWARE_TABLE} WHERE tenant = ? AND id IN (SELECT id FROM ${DELTA})`, [tid]);
        await this.db.run(`DELETE FROM ${HASHES} WHERE tenant = ? AND id IN (SELECT id FROM ${DELTA})`, [tid]);
        await this.db.run(`INSERT INTO ${SOFTWARE_TABLE}
          SELECT v.tenant, v.id, e.key, e.value ->> '$'
          FROM vehicles v JOIN ${DELTA} d ON d.id = v.id AND d.h IS NOT NULL, json_each(v.software) e
          WHERE v.tenant = ? AND v.software IS NOT NULL AND json_type(e.value) <> 'NULL'`, [tid]);
        await this.db.run(`INSERT INTO ${HASHES} SELECT ?, id, h FROM ${DELTA} WHERE h IS NOT NULL`, [tid]);
      });
    }
    await this.db.run(`DROP TABLE ${DELTA}`);
    return n;
  }
}
