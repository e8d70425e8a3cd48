/**
 * Asking, end to end over the AskExecutor port: a typed query is parsed, validated, compiled,
 * guarded, run within limits and answered; a power user's SQL is guarded and run within limits.
 * The CLI (`vigil ask`) and the API (`POST /v1/ask`, `POST /v1/ask/sql`) both call these.
 *
 *   const answer = await askQuery(executor, { entity: 'alerts', groupBy: ['vehicle.make'] }, { tenant: 'acme', clock });
 */
import type { Clock } from '../core/clock.js';
import { buildAnswer, type Answer } from './answer.js';
import { compileQuery, type CompiledQuery, type TenantScope } from './compile.js';
import { DEFAULT_LIMITS, type AskExecutor, type AskLimits, type Cell, type ResultTable } from './port.js';
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
  const counts = compiled.commonalityParts ? await commonalityCounts(exec, compiled.commonalityParts, scope, limits) : undefined;
  return buildAnswer(q, entity, compiled, result, counts);
}

/** Fleet sides of commonality kept per executor, by scope and fleet fingerprint (a few tenants' worth). */
const fleetSides = new WeakMap<AskExecutor, Map<string, ResultTable>>();
const MAX_FLEET_SIDES = 16;

/**
 * Commonality's counts as one table (attribute, value, fleet_count, set_count, fleet_size,
 * set_size, unknown_vehicles): the set side counted now, the fleet side kept while the fleet's
 * fingerprint is unchanged. When the two disagree (vehicles changed between the statements) the
 * fleet side is counted again once.
 */
async function commonalityCounts(
  exec: AskExecutor, parts: NonNullable<CompiledQuery['commonalityParts']>, scope: TenantScope, limits: AskLimits,
): Promise<ResultTable> {
  const all = { ...limits, maxRows: Number.MAX_SAFE_INTEGER };
  let cache = fleetSides.get(exec);
  if (!cache) fleetSides.set(exec, (cache = new Map()));
  const fp = await exec.run(parts.fingerprint, scope, all);
  const key = `${JSON.stringify(scope)}|${JSON.stringify(fp.rows[0])}`;
  const set = await exec.run(parts.set, scope, all);
  let elapsed = fp.elapsedMs + set.elapsedMs;
  for (let attempt = 0; ; attempt++) {
    let fleet = attempt === 0 ? cache.get(key) : undefined;
    if (!fleet) {
      fleet = await exec.run(parts.fleet, scope, all);
      elapsed += fleet.elapsedMs;
      if (cache.size >= MAX_FLEET_SIDES) cache.delete(cache.keys().next().value!);
      cache.set(key, fleet);
    }
    const merged = mergeSides(fleet, set, elapsed);
    if (merged) return merged;
    cache.delete(key);
    if (attempt > 0) throw new Error('the fleet changed while commonality was counted; ask again');
  }
}

/** One counts table from the two sides, or undefined when the set holds what the fleet does not. */
function mergeSides(fleet: ResultTable, set: ResultTable, elapsedMs: number): ResultTable | undefined {
  const fleetSize = Number(fleet.rows.find((r) => r[0] === null)?.[2] ?? 0);
  const totals = set.rows.find((r) => r[0] === null);
  const setSize = Number(totals?.[3] ?? 0);
  const unknown = Number(totals?.[4] ?? 0);
  const setCounts = new Map(set.rows.filter((r) => r[0] !== null).map((r) => [`${String(r[0])}\u0000${String(r[1])}`, Number(r[2])]));
  if (setSize > fleetSize) return undefined;
  const rows: Cell[][] = [];
  for (const r of fleet.rows) {
    if (r[0] === null) continue;
    const k = `${String(r[0])}\u0000${String(r[1])}`;
    const setCount = setCounts.get(k) ?? 0;
    if (setCount > Number(r[2])) return undefined;
    setCounts.delete(k);
    rows.push([r[0] ?? null, r[1] ?? null, r[2] ?? 0, setCount, fleetSize, setSize, unknown]);
  }
  if (setCounts.size > 0) return undefined;
  const names = ['attribute', 'value', 'fleet_count', 'set_count', 'fleet_size', 'set_size', 'unknown_vehicles'];
  return { columns: names.map((name) => ({ name, sqlType: 'BIGINT' })), rows, truncated: fleet.truncated || set.truncated, elapsedMs };
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
