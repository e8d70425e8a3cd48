/**
 * The thin DuckDB driver: one database, one connection, one operation at a time.
 *
 * A DuckDB connection has one transaction state, so two callers must never interleave on it:
 * an appender flushed between another caller's BEGIN and COMMIT would join (or be rolled back
 * with) that transaction. Every store operation therefore runs inside `exclusive()`, a promise
 * chain that starts the next operation only when the previous one has settled. `run`, `all`,
 * `transaction` and `appender` assume the caller holds that turn; they never take it themselves,
 * so they can be combined freely inside one operation.
 *
 * Driver errors leave this file as `StoreError` carrying the failing SQL, its parameters and
 * the original error as `cause`.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection, DuckDBValue, JS } from '@duckdb/node-api';
import { StoreError } from '../../core/errors.js';

/** A value bound to a `?` placeholder. */
export type SqlParam = DuckDBValue;

/** A result row as plain JS values (BIGINT -> bigint, BLOB -> Uint8Array, VARCHAR -> string). */
export type SqlRow = Record<string, JS>;

/** True for the DuckDB in-memory database paths (`:memory:`, `:memory:name`). */
export function isInMemory(file: string): boolean {
  return file === '' || file.startsWith(':memory:');
}

/** A DuckDB database with its one connection; see the file comment for the turn-taking rule. */
export class SerialConnection {
  /** Settles when the last queued operation has; never rejects. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** True between the BEGIN and the COMMIT or ROLLBACK of `transaction()`. */
  private inTransaction = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** Opens (creating if needed) a database file, or an in-memory database for `:memory:`. */
  static async open(file: string, threads?: number): Promise<SerialConnection> {
    const options: Record<string, string> = {};
    if (threads !== undefined) options['threads'] = String(threads);
    try {
      if (!isInMemory(file)) await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      const instance = await DuckDBInstance.create(file, options);
      return new SerialConnection(instance, await instance.connect());
    } catch (cause) {
      throw new StoreError(`cannot open DuckDB database '${file}': ${firstLine(cause)}`, undefined, undefined, {
        cause,
      });
    }
  }

  /** Runs `op` after every operation queued before it; rejects once the connection is closed. */
  exclusive<T>(op: () => Promise<T>): Promise<T> {
    return this.enqueue(() => {
      if (this.closed) throw new StoreError('the store is closed');
      return op();
    });
  }

  /**
   * Another connection to the same database, outside the turn-taking of this one: for work that
   * must not queue behind (or be interrupted with) the store's own operations, such as asked
   * queries (src/adapters/duckdb/ask-executor.ts). The caller closes it before this one closes.
   */
  async connectAnother(): Promise<DuckDBConnection> {
    if (this.closed) throw new StoreError('the store is closed');
    try {
      return await this.instance.connect();
    } catch (cause) {
      throw new StoreError(`cannot open another connection: ${firstLine(cause)}`, undefined, undefined, { cause });
    }
  }

  /** Waits for queued operations, then closes connection and database. Safe to call twice. */
  close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      this.closed = true;
      this.conn.closeSync();
      this.instance.closeSync();
    });
  }

  /** Executes a statement; returns the number of rows it changed. */
  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    try {
      const result = await this.conn.run(sql, params.length ? [...params] : undefined);
      return result.rowsChanged;
    } catch (cause) {
      throw storeError(sql, params, cause);
    }
  }

  /**
   * Executes a query and returns every row. `T` describes the row shape the SQL produces; it is
   * the caller's promise, not checked here.
   */
  async all<T = SqlRow>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    try {
      const reader = await this.conn.runAndReadAll(sql, params.length ? [...params] : undefined);
      return reader.getRowObjectsJS() as unknown as T[];
    } catch (cause) {
      throw storeError(sql, params, cause);
    }
  }

  /**
   * Runs `body` between BEGIN and COMMIT; rolls back and rethrows when it fails. Called inside
   * another `transaction()`, `body` joins the outer one (DuckDB has no nested transactions), so
   * helpers that commit alone can also be parts of one larger write (Store.writeGroup).
   */
  async transaction<T>(body: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return body();
    await this.run('BEGIN TRANSACTION');
    this.inTransaction = true;
    try {
      const result = await body();
      await this.run('COMMIT');
      return result;
    } catch (error) {
      // Also after a failed COMMIT; the rollback's own failure would hide the error that caused it.
      await this.run('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }

  /** An appender on `table`; inside `transaction()` its flushes join that transaction. */
  async appender(table: string): Promise<DuckDBAppender> {
    try {
      return await this.conn.createAppender(table);
    } catch (cause) {
      throw storeError(`APPEND ${table}`, [], cause);
    }
  }

  private enqueue<T>(op: () => T | Promise<T>): Promise<T> {
    const next = this.tail.then(op);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** Wraps a driver error; an error that already is a StoreError (raised by our own checks) passes through. */
export function storeError(sql: string, params: readonly unknown[], cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  return new StoreError(firstLine(cause), sql, params, { cause });
}

/** DuckDB messages continue with a caret diagram of the SQL; the reason keeps the first line. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? message;
}
