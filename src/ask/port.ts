/**
 * The port asked queries run through. A store adapter (DuckDB: src/adapters/duckdb/ask-executor.ts)
 * parses every statement with its own parser and judges the tree with the guard (guard.ts), runs
 * it where it can read nothing but the scope's rows of the allow-listed tables, and stops it at
 * the row and time limits.
 */
import { VigilError } from '../core/errors.js';
import type { CompiledSql, TenantScope } from './compile.js';

/** Row and time limits of one asked query. */
export interface AskLimits {
  /** Rows returned at most; a result with more is cut and marked truncated. */
  readonly maxRows: number;
  /** The query is interrupted after this long. */
  readonly timeoutMs: number;
}

export const DEFAULT_LIMITS: AskLimits = { maxRows: 10_000, timeoutMs: 5_000 };

/** A result cell: numbers (64-bit integers beyond 2^53 as text), text, booleans, lists, objects, NULL. */
export type Cell = string | number | boolean | null | readonly Cell[] | { readonly [k: string]: Cell };

/** Rows of a result with the store's column types. */
export interface ResultTable {
  readonly columns: readonly { readonly name: string; readonly sqlType: string }[];
  readonly rows: readonly (readonly Cell[])[];
  /** More rows existed than were kept. */
  readonly truncated: boolean;
  /** Time spent in the store, ms. */
  readonly elapsedMs: number;
}

/** The query ran past its time limit and was interrupted. */
export class AskTimeoutError extends VigilError {
  readonly _tag = 'AskTimeoutError';
}

/** What runs asked queries. */
export interface AskExecutor {
  /** The scope of a tenant name (its store ids looked up), or of every tenant (undefined). */
  scope(tenant: string | undefined): Promise<TenantScope>;
  /** Runs a compiled query (its LIMIT is the row limit), after the guard has passed it. */
  run(sql: CompiledSql, scope: TenantScope, limits: AskLimits): Promise<ResultTable>;
  /** Runs a power user's SELECT: guarded, read only over the scope's rows, at most `maxRows` rows. */
  runSql(sql: string, scope: TenantScope, limits: AskLimits): Promise<ResultTable & { readonly sql: string }>;
  /** Throws GuardError when the text may not run (the same check run and runSql make). */
  check(sql: string): Promise<void>;
}
