/**
 * Bulk `INSERT ... ON CONFLICT DO NOTHING` for the record tables (security events, API
 * events, alerts, dead letters). Multi-row parameterised inserts cost DuckDB ~0.5 ms a row
 * with a primary-key check; a flood of malformed input (100,000 dead letters) would then hold
 * the store for minutes. Instead the rows are appended to a temporary staging table of the
 * same columns and merged in one statement, keeping the first row of each key, so a batch
 * that repeats a record id counts it once, as the row-wise path does.
 */
import type { SerialConnection, SqlParam } from './connection.js';

/** Below this many rows the plain multi-row INSERT is cheaper than the staging round trip. */
export const STAGED_INSERT_MIN_ROWS = 64;

const created = new WeakMap<SerialConnection, Set<string>>();

/**
 * Insert `rows` (values in `columns` order) into `table`, skipping rows whose `key` exists
 * already or repeats an earlier row of the batch; returns the rows inserted. The caller
 * holds the connection's turn and the transaction.
 */
export async function stagedInsertIgnoringDuplicates(
  db: SerialConnection,
  table: string,
  columns: readonly string[],
  key: readonly string[],
  rows: readonly SqlParam[][],
): Promise<number> {
  const stage = `${table}_stage`;
  const cols = columns.join(', ');
  const known = created.get(db) ?? new Set<string>();
  created.set(db, known);
  if (!known.has(stage)) {
    await db.run(`CREATE TEMP TABLE IF NOT EXISTS ${stage} AS SELECT 0::UBIGINT AS ord, ${cols} FROM ${table} LIMIT 0`);
    known.add(stage);
  }
  await db.run(`DELETE FROM ${stage}`);
  const app = await db.appender(stage);
  try {
    const types = Array.from({ length: app.columnCount }, (_, i) => app.columnType(i));
    rows.forEach((row, ord) => {
      app.appendUBigInt(BigInt(ord));
      for (let c = 0; c < row.length; c++) {
        const v = row[c];
        if (v === null || v === undefined) app.appendNull();
        else app.appendValue(v, types[c + 1]);
      }
      app.endRow();
    });
    app.flushSync();
  } finally {
    app.closeSync();
  }
  const keys = key.join(', ');
  const inserted = await db.run(
    `INSERT INTO ${table} (${cols})
     SELECT ${cols} FROM (SELECT * FROM ${stage} QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ord) = 1)
     ON CONFLICT DO NOTHING`,
  );
  await db.run(`DELETE FROM ${stage}`);
  return inserted;
}
