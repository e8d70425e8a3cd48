/**
 * Asked queries on DuckDB (the `AskExecutor` port of src/ask/port.ts).
 *
 * Isolation, in layers:
 * 1. A connection of its own (SerialConnection.connectAnother): asked queries never queue behind
 *    the store's writes, and interrupting one at its time limit cannot touch the store's work.
 * 2. The guard: one statement by DuckDB's own statement splitter, and the syntax tree from
 *    `json_serialize_sql` judged by src/ask/guard.ts (SELECT only, allow-listed tables and
 *    functions, no table functions but unnest, no schema- or catalog-qualified names).
 * 3. Tenant views: on this connection the allow-listed names are TEMP views over the real tables
 *    (named through the database catalog, which a guarded query cannot name) holding only the
 *    scope's rows. A power user's SQL therefore sees one tenant's rows whatever it says; compiled
 *    queries carry their own tenant condition as well.
 * 4. No file or network access: `enable_external_access=false` and `lock_configuration=true` are
 *    set on the instance when the executor opens. Both settings are instance-wide in DuckDB (there
 *    is no per-connection form), so they hold for the store too: the store never reads or writes
 *    files through SQL (checked: no COPY, read_*, ATTACH, INSTALL/LOAD or SET in src/), and its
 *    inserts, appenders, temp tables and checkpoints keep working under both (measured in
 *    ask-executor.test.ts). A second DuckDB instance on the same file is not an option: DuckDB
 *    allows one read-write process per file, and read-only opening needs every opener read-only.
 * 5. Limits: compiled SQL carries LIMIT; a power user's SQL is wrapped in
 *    `SELECT * FROM (...) LIMIT maxRows + 1` (the wrapped text is guarded again); a timer
 *    interrupts the connection at the time limit.
 *
 * Three derived names are allow-listed besides the tables (`CODE_VIEWS`), scoped the same way:
 * `vehicle_attribute_codes (tenant, id, codes)`, every vehicle's make, model, year, trim, region
 * and `software.<ECU>` values as codes; `attribute_codes (tenant, code, attribute, value)`; and
 * `vehicle_value_counts (tenant, code, fleet)`, the vehicles holding each code. They are views
 * over this connection's temporary tables (ask-attributes.ts), brought up to date before a
 * statement that names them when the tenant's fleet fingerprint (its size and an xor of a hash
 * of every vehicle's attributes: one scan, no JSON) changed since: only changed vehicles are
 * unpacked again. Commonality reads them instead of parsing the vehicles' software JSON.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { StoreError } from '../../core/errors.js';
import type { CompiledSql, SqlValue, TenantScope } from '../../ask/compile.js';
import {
  ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, checkSqlText, checkSyntaxTree, GuardError, type GuardPolicy,
} from '../../ask/guard.js';
import { AskTimeoutError, type AskExecutor, type AskLimits, type Cell, type ResultTable } from '../../ask/port.js';
import { ATTRIBUTE_CODES, AskAttributeCodes, CODE_COUNTS, VEHICLE_CODES, type CodesConnection } from './ask-attributes.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { timeParam, vehicleParam } from './values.js';

/** How each allow-listed table is scoped to a tenant. */
type Tenancy = 'id' | 'name' | 'self' | 'global';

/** The tables asked queries may read, and how each holds its tenant. */
export const ASK_TABLES: Readonly<Record<string, Tenancy>> = {
  vehicles: 'id',
  alerts: 'id',
  tenants: 'self',
  incidents: 'name',
  incident_alerts: 'name',
  alert_outcomes: 'name',
  intel_sboms: 'name',
  intel_matches: 'name',
  intel_first_exposure: 'name',
  intel_vex_decisions: 'name',
  intel_vulnerabilities: 'global',
  intel_aliases: 'global',
};

/** Derived names asked queries may read: views over ask-attributes.ts's tables (see the file comment). */
export const CODE_VIEWS: Readonly<Record<string, { readonly table: string; readonly columns: string }>> = {
  vehicle_attribute_codes: { table: VEHICLE_CODES, columns: 'tenant, id, codes' },
  attribute_codes: { table: ATTRIBUTE_CODES, columns: 'tenant, code, attribute, value' },
  vehicle_value_counts: { table: CODE_COUNTS, columns: 'tenant, code, fleet' },
};
const NAMES_CODES = /\b(vehicle_attribute_codes|attribute_codes|vehicle_value_counts)\b/i;

/** DuckDB's statement type of a SELECT (node-api StatementType.SELECT). */
const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const quoteText = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export class DuckDBAskExecutor implements AskExecutor {
  private tail: Promise<unknown> = Promise.resolve();
  /** The scope the tenant views are built for (a key), undefined before the first query. */
  private viewScope: string | undefined;
  private closed = false;
  /** The packed attribute tables on this connection (ask-attributes.ts). */
  private readonly codes: AskAttributeCodes;
  /** Tenant id -> the fleet fingerprint the codes were last brought up to date at. */
  private readonly codeFingerprints = new Map<number, string>();

  private constructor(
    private readonly conn: DuckDBConnection,
    private readonly database: string,
    private readonly policy: GuardPolicy,
  ) {
    const args = (params: readonly SqlParam[]): DuckDBValue[] | undefined => (params.length ? ([...params] as DuckDBValue[]) : undefined);
    const run = async (sql: string, params: readonly SqlParam[] = []): Promise<number> => (await conn.run(sql, args(params))).rowsChanged;
    const db: CodesConnection = {
      run,
      all: async <T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> =>
        (await conn.runAndReadAll(sql, args(params))).getRowObjectsJS() as unknown as T[],
      transaction: async <T>(body: () => Promise<T>): Promise<T> => {
        await run('BEGIN TRANSACTION');
        try {
          const result = await body();
          await run('COMMIT');
          return result;
        } catch (error) {
          await run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      },
    };
    this.codes = new AskAttributeCodes(db, `${quoteIdent(database)}.main.vehicles`);
  }

  /** Opens the executor on the store's database; locks the instance's configuration (see the file comment). */
  static async open(store: SerialConnection): Promise<DuckDBAskExecutor> {
    const conn = await store.connectAnother();
    try {
      const read = async <T>(sql: string): Promise<T[]> => (await conn.runAndReadAll(sql)).getRowObjectsJS() as unknown as T[];
      const [db] = await read<{ name: string }>('SELECT current_database() AS name');
      const [locked] = await read<{ v: string }>("SELECT current_setting('lock_configuration')::VARCHAR AS v");
      if (locked?.v !== 'true') {
        await conn.run('SET enable_external_access = false');
        await conn.run('SET lock_configuration = true');
      } else {
        const [ext] = await read<{ v: string }>("SELECT current_setting('enable_external_access')::VARCHAR AS v");
        if (ext?.v !== 'false') throw new StoreError('the DuckDB configuration is locked with external access enabled; asked queries cannot be isolated');
      }
      const names = await read<{ n: string }>(`SELECT lower(table_name) AS n FROM duckdb_tables() UNION SELECT lower(view_name) FROM duckdb_views()
        UNION SELECT lower(function_name) FROM duckdb_functions() UNION SELECT lower(schema_name) FROM duckdb_schemas()
        UNION SELECT lower(database_name) FROM duckdb_databases()`);
      const policy: GuardPolicy = {
        tables: new Set([...Object.keys(ASK_TABLES), ...Object.keys(CODE_VIEWS)]),
        functions: ALLOWED_FUNCTIONS,
        tableFunctions: ALLOWED_TABLE_FUNCTIONS,
        reservedNames: new Set([...names.map((r) => r.n), ...Object.keys(CODE_VIEWS)]),
      };
      return new DuckDBAskExecutor(conn, db!.name, policy);
    } catch (cause) {
      conn.closeSync();
      if (cause instanceof StoreError) throw cause;
      throw new StoreError(`cannot prepare the connection for asked queries: ${String(cause)}`, undefined, undefined, { cause });
    }
  }

  /** Closes the executor's connection (before the store closes). */
  close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      this.closed = true;
      this.conn.closeSync();
    });
  }

  scope(tenant: string | undefined): Promise<TenantScope> {
    if (tenant === undefined) return Promise.resolve({ kind: 'all' });
    return this.enqueue(async () => {
      // The real table, through the catalog name: the tenant views may be scoped elsewhere.
      const reader = await this.conn.runAndReadAll(`SELECT id FROM ${quoteIdent(this.database)}.main.tenants WHERE name = $1`, [tenant]);
      const row = reader.getRowsJS()[0];
      return { kind: 'tenant', name: tenant, id: row ? Number(row[0]) : null };
    });
  }

  check(sql: string): Promise<void> {
    return this.enqueue(() => this.guard(sql));
  }

  run(sql: CompiledSql, scope: TenantScope, limits: AskLimits): Promise<ResultTable> {
    return this.enqueue(async () => {
      await this.guard(sql.sql);
      return this.execute(sql.sql, sql.params.map(toParam), scope, limits, Number.POSITIVE_INFINITY);
    });
  }

  runSql(sql: string, scope: TenantScope, limits: AskLimits): Promise<ResultTable & { sql: string }> {
    return this.enqueue(async () => {
      await this.guard(sql);
      // A trailing `;` ends the one statement; inside the wrapper it would be a syntax error.
      const body = sql.replace(/[\s;]+$/u, '');
      const wrapped = `SELECT * FROM (\n${body}\n) AS asked LIMIT ${limits.maxRows + 1}`;
      await this.guard(wrapped);
      const table = await this.execute(wrapped, [], scope, limits, limits.maxRows);
      return { ...table, sql: wrapped };
    });
  }

  /** Throws GuardError unless `sql` is one statement the guard accepts. */
  private async guard(sql: string): Promise<void> {
    checkSqlText(sql);
    let count: number;
    try {
      count = (await this.conn.extractStatements(sql)).count;
    } catch (cause) {
      throw new GuardError(`the query does not parse: ${firstLine(cause)}`, { cause });
    }
    if (count !== 1) throw new GuardError(`exactly one statement may run; this text holds ${count}`);
    const reader = await this.conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [sql]);
    const tree = reader.getRowsJS()[0]?.[0];
    checkSyntaxTree(typeof tree === 'string' ? tree : '', this.policy);
  }

  private async execute(sql: string, params: DuckDBValue[], scope: TenantScope, limits: AskLimits, cap: number): Promise<ResultTable> {
    await this.scopeViews(scope);
    const started = performance.now();
    if (NAMES_CODES.test(sql)) await this.refreshCodes(scope);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.conn.interrupt();
    }, limits.timeoutMs);
    try {
      const reader = await this.conn.runAndReadAll(sql, params.length ? params : undefined);
      const names = reader.columnNames();
      const types = reader.columnTypes().map((t) => t.toString());
      const rows = reader.getRowsJS().map((r) => r.map(cell));
      const keep = Math.min(cap, limits.maxRows);
      return {
        columns: names.map((name, i) => ({ name, sqlType: types[i] ?? 'UNKNOWN' })),
        rows: rows.length > keep ? rows.slice(0, keep) : rows,
        truncated: rows.length > keep,
        elapsedMs: Math.round((performance.now() - started) * 10) / 10,
      };
    } catch (cause) {
      if (timedOut || /INTERRUPT/i.test(String(cause))) throw new AskTimeoutError(`the query ran longer than ${limits.timeoutMs} ms and was stopped`, { cause });
      throw new StoreError(firstLine(cause), sql, params.map(String), { cause });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Makes the allow-listed names on this connection show the scope's rows only. */
  private async scopeViews(scope: TenantScope): Promise<void> {
    const key = scope.kind === 'all' ? '*' : `${scope.name}\u0000${scope.id ?? ''}`;
    if (key === this.viewScope) return;
    this.viewScope = undefined;
    for (const [table, tenancy] of Object.entries(ASK_TABLES)) {
      const real = `${quoteIdent(this.database)}.main.${quoteIdent(table)}`;
      let where = '';
      if (scope.kind === 'tenant' && tenancy !== 'global') {
        // Tenant names are checked (TENANT_NAME) before they get here, and quoted anyway.
        if (tenancy === 'name') where = ` WHERE tenant = ${quoteText(scope.name)}`;
        else if (scope.id === null) where = ' WHERE false';
        else where = ` WHERE ${tenancy === 'self' ? 'id' : 'tenant'} = ${scope.id}`;
      }
      await this.conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(table)} AS SELECT * FROM ${real}${where}`);
    }
    await this.codes.create();
    for (const [view, { table, columns }] of Object.entries(CODE_VIEWS)) {
      const where = scope.kind === 'all' ? '' : scope.id === null ? ' WHERE false' : ` WHERE tenant = ${scope.id}`;
      await this.conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(view)} AS SELECT ${columns} FROM temp.main.${quoteIdent(table)}${where}`);
    }
    this.viewScope = key;
  }

  /** Brings the packed attributes up to date for the scope's tenants whose fleet fingerprint changed. */
  private async refreshCodes(scope: TenantScope): Promise<void> {
    if (scope.kind === 'tenant' && scope.id === null) return;
    const where = scope.kind === 'all' ? '' : ` WHERE tenant = ${scope.id}`;
    const reader = await this.conn.runAndReadAll(`SELECT tenant, count(*) AS n, bit_xor(hash(id, make, model, year, trim, region, software)) AS h
      FROM ${quoteIdent(this.database)}.main.vehicles${where} GROUP BY tenant`);
    const seen = new Set<number>();
    for (const [tenant, n, h] of reader.getRowsJS()) {
      const tid = Number(tenant);
      seen.add(tid);
      const fingerprint = `${String(n)}:${String(h)}`;
      if (this.codeFingerprints.get(tid) === fingerprint) continue;
      this.codeFingerprints.delete(tid);
      await this.codes.refresh(tid);
      this.codeFingerprints.set(tid, fingerprint);
    }
    // A tenant of the scope whose vehicles are all gone: its rows go too.
    for (const tid of [...this.codeFingerprints.keys()]) {
      if (seen.has(tid) || (scope.kind === 'tenant' && scope.id !== tid)) continue;
      await this.codes.refresh(tid);
      this.codeFingerprints.delete(tid);
    }
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(() => {
      if (this.closed) throw new StoreError('the ask executor is closed');
      return op();
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function toParam(v: SqlValue): DuckDBValue {
  if (v === null || typeof v !== 'object') return v;
  if ('time' in v) return timeParam(v.time, 'time');
  if ('vehicle' in v) return vehicleParam(v.vehicle);
  return v.tenantId;
}

/** A DuckDB JS value as a result cell: bigints as numbers when exact (else text), dates as epoch ms. */
function cell(x: unknown): Cell {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint') return x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(x) : x.toString();
  if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') return x;
  if (x instanceof Date) return x.getTime();
  if (Array.isArray(x)) return x.map(cell);
  if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
  if (typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, cell(v)]));
  return String(x);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? message;
}
