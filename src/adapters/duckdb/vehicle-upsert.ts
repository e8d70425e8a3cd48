/**
 * Bulk vehicle upsert. Twin summaries arrive by the tens of thousands a second; row-wise
 * `INSERT ... ON CONFLICT` costs ~80 µs a row in DuckDB. Instead the rows are appended to a
 * temporary staging table, folded per (tenant, id) in SQL — earliest first_seen, latest
 * last_seen, counts summed, the last given attribute wins — and merged in one statement.
 */
import type { DuckDBTimestampValue } from '@duckdb/node-api';
import type { VehicleRecord } from '../../core/records.js';
import type { SerialConnection } from './connection.js';
import { VEHICLE_MERGE } from './tables.js';
import { timeParam, vehicleParam } from './values.js';

const STAGE = 'vehicles_stage';

const CREATE_STAGE = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (
  ord INTEGER, tenant USMALLINT, id UBIGINT, make VARCHAR, model VARCHAR, year INTEGER, trim VARCHAR,
  region VARCHAR, software VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP, signal_count BIGINT)`;

const last = (col: string): string => `arg_max(${col}, ord) FILTER (WHERE ${col} IS NOT NULL)`;

const MERGE = `INSERT INTO vehicles (tenant, id, make, model, year, trim, region, software, first_seen, last_seen, signal_count)
  SELECT tenant, id, ${last('make')}, ${last('model')}, ${last('year')}, ${last('trim')}, ${last('region')},
    ${last('software')}::JSON, min(first_seen), max(last_seen), sum(signal_count)
  FROM ${STAGE} GROUP BY tenant, id
  ${VEHICLE_MERGE}`;

/** Append `list` to the staging table and merge it into `vehicles`; the caller holds the connection's turn. */
export async function bulkUpsertVehicles(db: SerialConnection, list: readonly VehicleRecord[], tenantIds: ReadonlyMap<string, number>): Promise<void> {
  await db.run(CREATE_STAGE);
  await db.run(`DELETE FROM ${STAGE}`);
  const app = await db.appender(STAGE);
  const str = (v: string | undefined): void => (v === undefined ? app.appendNull() : app.appendVarchar(v));
  const time = (ms: number | undefined, field: string): void => {
    if (ms === undefined) app.appendNull();
    else app.appendTimestamp(timeParam(ms, field) as DuckDBTimestampValue);
  };
  list.forEach((v, ord) => {
    app.appendInteger(ord);
    app.appendUSmallInt(tenantIds.get(v.tenant)!);
    app.appendUBigInt(vehicleParam(v.id));
    str(v.make);
    str(v.model);
    if (v.year === undefined) app.appendNull();
    else app.appendInteger(v.year);
    str(v.trim);
    str(v.region);
    str(v.software === undefined ? undefined : JSON.stringify(v.software));
    time(v.firstSeen, 'firstSeen');
    time(v.lastSeen, 'lastSeen');
    app.appendBigInt(BigInt(v.signalCount));
    app.endRow();
  });
  app.flushSync();
  app.closeSync();
  await db.transaction(async () => {
    await db.run(MERGE);
    await db.run(`DELETE FROM ${STAGE}`);
  });
}
