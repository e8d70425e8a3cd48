/**
 * The guard: whether one SQL text may run as an asked query. It judges the store parser's own
 * syntax tree (DuckDB: `json_serialize_sql`), never the text, so comments, quoting, odd spacing
 * and unicode look-alikes cannot hide anything: what is judged is what the engine would run.
 *
 * Accepted: exactly one SELECT (with CTEs, subqueries, joins, set operations, VALUES) whose every
 * table is an allow-listed table or a CTE of its own, whose every function is allow-listed, and
 * which names no schema or catalog. Everything else is refused with the reason: other statement
 * kinds (the serializer only knows SELECT), several statements, table functions (read_csv, glob,
 * duckdb_settings(), query(), ...) except `unnest`, system views (information_schema, sqlite_master,
 * duckdb_tables ...), time travel (AT), DESCRIBE/SHOW/SUMMARIZE, and any node kind not listed here
 * (new parser features are refused until someone looks at them).
 *
 * The adapter adds what the tree cannot: one statement by the parser's own splitting, the
 * statement type, no file or network access on the instance, and row and time limits.
 */
import { VigilError } from '../core/errors.js';

/** The SQL was refused; `reason` says which part and why. */
export class GuardError extends VigilError {
  readonly _tag = 'GuardError';
}

export interface GuardPolicy {
  /** Tables and views a query may read (lower case). */
  readonly tables: ReadonlySet<string>;
  /** Scalar, aggregate and window functions and operators a query may call (lower case). */
  readonly functions: ReadonlySet<string>;
  /** Table functions a query may call in FROM (lower case). */
  readonly tableFunctions: ReadonlySet<string>;
  /**
   * Names a CTE may not take (lower case): every table, view and function of the database, so a
   * CTE name can only ever resolve to the CTE — a reference outside its scope fails to bind
   * instead of reaching a system view of the same name.
   */
  readonly reservedNames: ReadonlySet<string>;
}

/** Longest SQL text accepted. */
export const MAX_SQL_LENGTH = 20_000;

/**
 * Control and format characters (zero-width spaces and joiners, bidirectional overrides, NUL...)
 * other than tab, line feed and carriage return: they can make the query shown differ from the
 * query run, so they are refused outright.
 */
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

/** Checks the text before it reaches the parser: length and hidden characters. */
export function checkSqlText(sql: string): void {
  if (sql.length > MAX_SQL_LENGTH) throw new GuardError(`the query is ${sql.length} characters long; at most ${MAX_SQL_LENGTH}`);
  const m = HIDDEN_CHARACTERS.exec(sql.replace(/[\t\n\r]/g, ' '));
  if (m) throw new GuardError(`the query holds a hidden character U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${m.index}`);
  if (sql.trim() === '') throw new GuardError('the query is empty');
}

const EXPRESSION_CLASSES = new Set([
  'FUNCTION', 'AGGREGATE', 'WINDOW', 'COLUMN_REF', 'CONSTANT', 'CAST', 'COMPARISON', 'CONJUNCTION', 'OPERATOR', 'CASE',
  'BETWEEN', 'STAR', 'SUBQUERY', 'PARAMETER', 'LAMBDA', 'COLLATE', 'POSITIONAL_REFERENCE',
]);
const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);
const TABLE_REFS = new Set(['BASE_TABLE', 'JOIN', 'SUBQUERY', 'EMPTY', 'EXPRESSION_LIST', 'TABLE_FUNCTION']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Judges the serialized tree of one SQL text (the JSON `json_serialize_sql` returns).
 * Throws GuardError with the reason; returns normally when the query may run.
 */
export function checkSyntaxTree(serialized: string, policy: GuardPolicy): void {
  let tree: Json;
  try {
    tree = JSON.parse(serialized) as Json;
  } catch {
    throw new GuardError('the parser returned no syntax tree');
  }
  if (!isObject(tree)) throw new GuardError('the parser returned no syntax tree');
  if (tree['error'] !== false) {
    const message = typeof tree['error_message'] === 'string' ? tree['error_message'] : 'unknown error';
    throw new GuardError(/Only SELECT/i.test(message) ? 'only a SELECT statement may run (this is another kind of statement)' : `the query does not parse: ${message}`);
  }
  const statements = tree['statements'];
  if (!Array.isArray(statements) || statements.length !== 1) {
    throw new GuardError(`exactly one statement may run; this text holds ${Array.isArray(statements) ? statements.length : 'no'} statements`);
  }
  const cteNames = new Set<string>();
  collectCteNames(statements[0]!, cteNames);
  for (const name of cteNames) {
    if (policy.reservedNames.has(name) || policy.tables.has(name)) {
      throw new GuardError(`a CTE may not be named ${JSON.stringify(name)}: that is the name of a table, view or function`);
    }
  }
  walk(statements[0]!, policy, cteNames, 'statement');
}

function isObject(x: Json): x is { [k: string]: Json } {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function collectCteNames(node: Json, out: Set<string>): void {
  if (Array.isArray(node)) return node.forEach((n) => collectCteNames(n, out));
  if (!isObject(node)) return;
  const map = isObject(node['cte_map'] ?? null) ? (node['cte_map'] as { [k: string]: Json })['map'] : undefined;
  if (Array.isArray(map)) for (const e of map) if (isObject(e) && typeof e['key'] === 'string') out.add(e['key'].toLowerCase());
  for (const v of Object.values(node)) collectCteNames(v, out);
}

const str = (x: Json | undefined): string => (typeof x === 'string' ? x : '');

function walk(node: Json, policy: GuardPolicy, ctes: ReadonlySet<string>, where: string): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, policy, ctes, where);
    return;
  }
  if (!isObject(node)) return;

  const cls = node['class'];
  if (typeof cls === 'string') {
    if (!EXPRESSION_CLASSES.has(cls)) throw new GuardError(`expression kind ${cls} is not allowed`);
    if (cls === 'FUNCTION' || cls === 'AGGREGATE' || cls === 'WINDOW') {
      const name = str(node['function_name']).toLowerCase();
      const schema = str(node['schema']).toLowerCase();
      if (str(node['catalog']) !== '' || (schema !== '' && schema !== 'main')) {
        throw new GuardError(`function ${JSON.stringify(name)} may not be called through a schema or catalog (${[str(node['catalog']), schema].filter(Boolean).join('.')})`);
      }
      if (!policy.functions.has(name)) throw new GuardError(`function ${JSON.stringify(name)} is not allowed`);
    }
  } else if (typeof node['type'] === 'string' && 'modifiers' in node) {
    if (!QUERY_NODES.has(node['type'])) throw new GuardError(`query kind ${node['type']} is not allowed`);
  } else if (typeof node['type'] === 'string' && 'sample' in node) {
    const type = node['type'];
    if (!TABLE_REFS.has(type)) throw new GuardError(`table source ${type} is not allowed (only tables, subqueries, joins and VALUES)`);
    if (type === 'BASE_TABLE') {
      const name = str(node['table_name']).toLowerCase();
      if (str(node['schema_name']) !== '' || str(node['catalog_name']) !== '') {
        throw new GuardError(`table ${JSON.stringify(name)} may not be named with a schema or catalog`);
      }
      if (node['at_clause'] !== null && node['at_clause'] !== undefined) throw new GuardError(`table ${JSON.stringify(name)}: AT (time travel) is not allowed`);
      if (!policy.tables.has(name) && !ctes.has(name)) {
        throw new GuardError(`table ${JSON.stringify(name)} is not allowed; allowed: ${[...policy.tables].sort().join(', ')}`);
      }
    }
    if (type === 'TABLE_FUNCTION') {
      const fn = node['function'];
      const name = isObject(fn ?? null) ? str((fn as { [k: string]: Json })['function_name']).toLowerCase() : '';
      if (!policy.tableFunctions.has(name)) throw new GuardError(`table function ${JSON.stringify(name)} is not allowed`);
      // Its arguments are expressions like any other.
      walk(isObject(fn ?? null) ? ((fn as { [k: string]: Json })['children'] ?? null) : null, policy, ctes, where);
      for (const [k, v] of Object.entries(node)) if (k !== 'function') walk(v, policy, ctes, where);
      return;
    }
  }
  for (const v of Object.values(node)) walk(v, policy, ctes, where);
}

/**
 * Functions and operators asked queries may use: arithmetic, comparison, logic, text, time, list,
 * struct, JSON and the usual aggregates and window functions. Nothing that reads settings, files,
 * sequences, variables or the environment.
 */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // operators
  '+', '-', '*', '/', '//', '%', '^', '**', '=', '==', '<>', '!=', '<', '<=', '>', '>=', '||', '~~', '!~~', '~~*', '!~~*',
  '->', '->>', '@>', '<@', '&&', '&', '|', '<<', '>>', '~', '!', 'array_extract', 'array_slice', 'list_extract', 'list_slice',
  // aggregates
  'count', 'count_star', 'sum', 'avg', 'mean', 'min', 'max', 'median', 'mode', 'quantile', 'quantile_cont', 'quantile_disc',
  'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'any_value', 'first', 'last', 'arg_max', 'arg_min',
  'argmax', 'argmin', 'max_by', 'min_by', 'bool_and', 'bool_or', 'string_agg', 'group_concat', 'list', 'array_agg', 'approx_count_distinct',
  'approx_quantile', 'histogram', 'bit_xor', 'bit_and', 'bit_or', 'count_if', 'countif', 'sum_no_overflow', 'product', 'corr', 'covar_pop', 'covar_samp', 'entropy',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // numbers
  'abs', 'round', 'floor', 'ceil', 'ceiling', 'sqrt', 'ln', 'log', 'log10', 'log2', 'exp', 'pow', 'power', 'greatest', 'least',
  'sign', 'trunc', 'isnan', 'isinf', 'isfinite', 'even', 'round_even',
  // text
  'lower', 'upper', 'lcase', 'ucase', 'length', 'strlen', 'char_length', 'character_length', 'concat', 'concat_ws', 'substr',
  'substring', 'left', 'right', 'trim', 'ltrim', 'rtrim', 'replace', 'contains', 'starts_with', 'ends_with', 'prefix', 'suffix',
  'like_escape', 'ilike_escape', 'strpos', 'instr', 'position', 'split_part', 'string_split', 'str_split', 'regexp_matches',
  'regexp_extract', 'regexp_replace', 'regexp_full_match', 'lpad', 'rpad', 'reverse', 'hex', 'to_hex', 'format', 'printf', 'md5',
  'sha256', 'hash', 'levenshtein', 'jaro_winkler_similarity', 'chr', 'ascii', 'unicode', 'string_to_array', 'array_to_string',
  'list_aggregate', 'nullif', 'coalesce', 'ifnull', 'if', 'typeof', 'try_cast',
  // time
  'epoch_ms', 'epoch_us', 'epoch', 'to_timestamp', 'make_timestamp', 'date_trunc', 'datetrunc', 'date_part', 'datepart',
  'date_diff', 'datediff', 'date_sub', 'datesub', 'date_add', 'extract', 'year', 'month', 'day', 'hour', 'minute', 'second',
  'dayofweek', 'dayofyear', 'week', 'weekofyear', 'isodow', 'quarter', 'strftime', 'strptime', 'time_bucket', 'to_days',
  'to_hours', 'to_minutes', 'to_seconds', 'to_weeks', 'to_months', 'to_years', 'last_day', 'dayname', 'monthname',
  // lists, structs, maps
  'list_value', 'list_pack', 'list_contains', 'list_has', 'list_has_any', 'list_has_all', 'array_contains', 'array_has',
  'array_has_any', 'array_has_all', 'len', 'array_length', 'list_distinct', 'list_sort', 'list_reverse_sort', 'list_unique',
  'list_transform', 'list_filter', 'list_reduce', 'array_transform', 'array_filter', 'list_position', 'list_indexof',
  'array_position', 'flatten', 'list_concat', 'array_concat', 'unnest', 'generate_subscripts', 'struct_pack', 'struct_extract',
  'row', 'map', 'map_entries', 'map_keys', 'map_values', 'map_extract', 'element_at', 'cardinality',
  // JSON
  'json_extract', 'json_extract_string', 'json_extract_path', 'json_extract_path_text', 'json_value', 'json_keys', 'json_array_length',
  'json_type', 'json_valid', 'json_contains', 'to_json', 'json_object', 'json_array', 'json_quote', 'json_exists',
]);

/** Table functions asked queries may call in FROM: only unnest (it reads its argument, nothing else). */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['unnest']);
