/**
 * The thin PostgreSQL driver: a `pg` pool whose connections all work in one schema, and a
 * transaction helper. Unlike DuckDB's single connection, PostgreSQL serializes concurrent
 * writers itself (row locks, unique indexes), so operations run side by side on pooled
 * connections; a transaction holds one connection from BEGIN to COMMIT.
 *
 * Driver errors leave this file as `PostgresStoreError` (a `StoreError`) carrying the failing
 * SQL text, the SQLSTATE code and the number of parameters — never their values, which may be
 * tenant data or secrets — and the original error as `cause`.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { StoreError } from '../../core/errors.js';

/** A value bound to a `$n` placeholder. */
export type SqlParam = string | number | boolean | null | Buffer | readonly (string | number | boolean | null)[];

/** Schema names we accept: plain lowercase identifiers, so they can be spliced into SQL unquoted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Connections per pool unless configured: enough for a writer and the API's readers. */
export const DEFAULT_POOL_SIZE = 8;

/** Where and how to connect. */
export interface PostgresOptions {
  /** `postgres://user@host:port/db`; libpq environment variables fill what it leaves out. */
  readonly url: string;
  /** The schema holding every Vigil table; created by `migrate()`. */
  readonly schema: string;
  /** Pool size; default DEFAULT_POOL_SIZE. */
  readonly poolSize?: number;
}

/** A storage failure in PostgreSQL: a StoreError that also names the SQLSTATE and the parameter count. */
export class PostgresStoreError extends StoreError {
  constructor(
    reason: string,
    query: string | undefined,
    /** How many parameters the statement had (their values are not kept). */
    readonly paramCount: number,
    /** The SQLSTATE (e.g. `23505` unique violation), when the server reported one. */
    readonly sqlState: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(reason, query, undefined, options);
  }
}

/** Something statements can run on: the pool, or the one client of a transaction. */
export interface Queryable {
  /** Executes a statement and returns its rows; `T` is the caller's promise of the row shape. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** Executes a statement and returns the rows it changed (or returned). */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

/** One client checked out of the pool (inside a transaction). */
export class Client implements Queryable {
  constructor(readonly raw: pg.PoolClient) {}

  async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return (await this.exec(sql, params)).rows as T[];
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return (await this.exec(sql, params)).rowCount ?? 0;
  }

  /** Streams `chunks` into `COPY ... FROM STDIN`; returns the rows copied. */
  async copyIn(sql: string, chunks: Iterable<Buffer>): Promise<number> {
    try {
      const stream = this.raw.query(copyFrom(sql));
      const done = new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
      });
      // Observed below; until then an early failure must not count as unhandled.
      done.catch(() => undefined);
      for (const chunk of chunks) {
        if (!stream.write(chunk)) await new Promise<void>((resolve, reject) => {
          const onDrain = (): void => { stream.off('error', reject); resolve(); };
          stream.once('drain', onDrain);
          stream.once('error', reject);
        });
      }
      stream.end();
      await done;
      return stream.rowCount;
    } catch (cause) {
      throw storeError(sql, 0, cause);
    }
  }

  private async exec(sql: string, params: readonly SqlParam[]): Promise<pg.QueryResult> {
    try {
      return await this.raw.query(sql, params as unknown[]);
    } catch (cause) {
      throw storeError(sql, params.length, cause);
    }
  }
}

/** A pool of connections working in one schema. */
export class PgPool implements Queryable {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** The schema every statement works in (its search_path). */
    readonly schema: string,
  ) {}

  /** A pool whose connections use `schema` as search_path. Connects lazily. */
  static open(options: PostgresOptions): PgPool {
    if (!SCHEMA_NAME.test(options.schema)) {
      throw new StoreError(`PostgreSQL schema must be a lowercase identifier ([a-z_][a-z0-9_]*), got ${JSON.stringify(options.schema)}`);
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      // Every connection resolves unqualified names in our schema only.
      options: `-c search_path=${options.schema}`,
      application_name: 'vigil',
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    return new PgPool(pool, options.schema);
  }

  query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.withClient((c) => c.query<T>(sql, params));
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return this.withClient((c) => c.run(sql, params));
  }

  /** Runs `body` on one client between BEGIN and COMMIT; rolls back and rethrows when it fails. */
  transaction<T>(body: (client: Client) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.run('BEGIN');
      try {
        const result = await body(client);
        await client.run('COMMIT');
        return result;
      } catch (error) {
        // Also after a failed COMMIT; the rollback's own failure would hide the error that caused it.
        await client.run('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Runs `body` on one checked-out client, outside any transaction. */
  async withClient<T>(body: (client: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('the store is closed');
    let raw: pg.PoolClient;
    try {
      raw = await this.pool.connect();
    } catch (cause) {
      throw new PostgresStoreError(`cannot connect to PostgreSQL: ${messageOf(cause)}`, undefined, 0, sqlStateOf(cause), { cause });
    }
    let broken: Error | undefined;
    try {
      return await body(new Client(raw));
    } catch (error) {
      // A connection-level failure (not a statement error) must not go back into the pool.
      if (error instanceof PostgresStoreError && error.sqlState === undefined) broken = error;
      throw error;
    } finally {
      raw.release(broken);
    }
  }

  /** Waits for checked-out clients and closes every connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** Wraps a driver error; a StoreError raised by our own checks passes through. */
export function storeError(sql: string, paramCount: number, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  const state = sqlStateOf(cause);
  const reason = state ? `${messageOf(cause)} (SQLSTATE ${state})` : messageOf(cause);
  return new PostgresStoreError(reason, sql, paramCount, state, { cause });
}

function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
