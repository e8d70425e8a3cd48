/**
 * Asking, end to end over the AskExecutor port: a typed query is parsed, validated, compiled,
 * guarded, run within limits and answered; a power user's SQL is guarded and run within limits.
 * The CLI (`vigil ask`) and the API (`POST /v1/ask`, `POST /v1/ask/sql`) both call these.
 *
 *   const answer = await askQuery(executor, { entity: 'alerts', groupBy: ['vehicle.make'] }, { tenant: 'acme', clock });
 */
import type { Clock } from '../core/clock.js';
import { buildAnswer, type Answer } from './answer.js';
import { compileQuery } from './compile.js';
import { DEFAULT_LIMITS, type AskExecutor, type AskLimits, type Cell } from './port.js';
import { parseTypedQuery } from './query.js';
import { QueryError, validateQuery } from './validate.js';

export interface AskContext {
  /** The tenant whose rows are read; undefined: every tenant (operators only; the caller decides). */
  readonly tenant: string | undefined;
  readonly clock: Clock;
  readonly limits?: AskLimits;
}

/** Answers a typed query (untrusted JSON: parsed, then validated against the catalog). Throws QueryError, GuardError, AskTimeoutError. */
export async function askQuery(exec: AskExecutor, input: unknown, ctx: AskContext): Promise<Answer> {
  const parsed = parseTypedQuery(input);
  if ('problems' in parsed) throw new QueryError(parsed.problems.map((p) => ({ part: p.split(':')[0]!, message: p.slice(p.indexOf(':') + 2) })));
  const q = parsed.query;
  const entity = validateQuery(q);
  const limits = ctx.limits ?? DEFAULT_LIMITS;
  const scope = await exec.scope(ctx.tenant);
  const compiled = compileQuery(q, entity, { scope, now: ctx.clock.now() });
  const result = await exec.run(compiled, scope, limits);
  const counts = compiled.commonality ? await exec.run(compiled.commonality, scope, { ...limits, maxRows: Number.MAX_SAFE_INTEGER }) : undefined;
  return buildAnswer(q, entity, compiled, result, counts);
}

/** The answer to a power user's SQL: the rows as returned, and the SQL that ran (with its row limit). */
export interface SqlAnswer {
  readonly sql: string;
  readonly columns: readonly { readonly name: string; readonly sqlType: string }[];
  readonly rows: readonly (readonly Cell[])[];
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

/** Runs a power user's SELECT within the guard and the limits. Throws GuardError, AskTimeoutError. */
export async function askSql(exec: AskExecutor, sql: string, ctx: Omit<AskContext, 'clock'>): Promise<SqlAnswer> {
  const scope = await exec.scope(ctx.tenant);
  const r = await exec.runSql(sql, scope, ctx.limits ?? DEFAULT_LIMITS);
  return { sql: r.sql, columns: r.columns, rows: r.rows, truncated: r.truncated, elapsedMs: r.elapsedMs };
}
