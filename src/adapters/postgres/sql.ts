/**
 * Statement helpers for the analyst-scale adapters (incidents, workflow, access), which keep
 * the DuckDB adapters' SQL nearly word for word: `?` placeholders are numbered `$1, $2, ...`
 * here. Only our own SQL goes through this (no `?` inside its string literals, no JSONB `?`
 * operator: use `jsonb_exists`); every value travels as a bound parameter.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Client, PgPool, Queryable, SqlParam } from './connection.js';

/** Parameters per statement stay well below PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;

/** `?` placeholders numbered in order: `a = ? AND b = ?` -> `a = $1 AND b = $2`. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Runs a `?`-placeholder statement, returning its rows. */
export function all<T>(db: Queryable, sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
  return db.query<T>(numbered(sql), params);
}

/** Runs a `?`-placeholder statement, returning the rows it changed. */
export function run(db: Queryable, sql: string, params: readonly SqlParam[] = []): Promise<number> {
  return db.run(numbered(sql), params);
}

/**
 * Multi-row INSERTs of `rows` (values in `columns` order), each followed by `conflict` (e.g.
 * `ON CONFLICT DO NOTHING`). Returns the rows the database reports inserted or updated.
 */
export async function insertRows(
  db: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly SqlParam[][],
  conflict = '',
): Promise<number> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  let changed = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const part = rows.slice(i, i + perStatement);
    changed += await run(
      db,
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => tuple).join(', ')} ${conflict}`.trimEnd(),
      part.flat(),
    );
  }
  return changed;
}

/**
 * The DuckDB adapters' connection interface (`exclusive`, `all`, `run`, `transaction` with
 * `?` placeholders) over a pool, so ported adapters keep their shape. `exclusive` only runs the
 * operation (PostgreSQL needs no turn-taking); inside `transaction(body)` every `all`/`run` of
 * the same async flow goes to the transaction's client (AsyncLocalStorage), joining it.
 */
export class Session implements Queryable {
  private readonly inTransaction = new AsyncLocalStorage<Client>();

  constructor(readonly pool: PgPool) {}

  exclusive<T>(op: () => Promise<T>): Promise<T> {
    return op();
  }

  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return all<T>(this.current(), sql, params);
  }

  /** `$n`-placeholder statements (Queryable); `?` ones go through `all`. */
  query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.current().query<T>(sql, params);
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return run(this.current(), sql, params);
  }

  /** Runs `body` in one transaction; a nested call joins the enclosing one. */
  transaction<T>(body: () => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()) return body();
    return this.pool.transaction((client) => this.inTransaction.run(client, body));
  }

  private current(): Queryable {
    return this.inTransaction.getStore() ?? this.pool;
  }
}
