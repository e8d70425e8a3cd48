/**
 * Statement builders shared by the store. Only our own table and column names are spliced into
 * SQL; every value travels as a bound parameter.
 */
import { isVehicleKey } from '../../core/vehicle-key.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { vehicleParam } from './values.js';

/** Rows per multi-row INSERT: large enough to amortize parsing, small enough to keep SQL short. */
export const ROWS_PER_INSERT = 256;

/** Marks a filter no row can match, so the query can be skipped. */
export const NO_MATCH = Symbol('no match');

/** A WHERE clause with its one `?` parameter. */
export type Filter = readonly [clause: string, value: SqlParam | typeof NO_MATCH];

/** `column = key` for a vehicle-key column. Reads treat a malformed key as a vehicle without rows. */
export function keyFilter(column: 'vehicle' | 'id', key: string): Filter {
  return [`${column} = ?`, isVehicleKey(key) ? vehicleParam(key) : NO_MATCH];
}

/**
 * Multi-row INSERTs of `rows` (values in `columns` order), each followed by `conflict` (e.g.
 * `ON CONFLICT DO NOTHING`). Returns the rows the database reports inserted or updated.
 */
export async function insertRows(
  db: SerialConnection,
  table: string,
  columns: readonly string[],
  rows: readonly SqlParam[][],
  conflict = '',
): Promise<number> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  let changed = 0;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const part = rows.slice(i, i + ROWS_PER_INSERT);
    changed += await db.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => tuple).join(', ')} ${conflict}`.trimEnd(),
      part.flat(),
    );
  }
  return changed;
}
