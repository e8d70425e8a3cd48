/**
 * Validation of a typed query against the catalog: every field exists on the entity, every
 * operator suits the field's type, values have the right type and shape, group-by fields are
 * groupable, measures aggregate what they can, order names something the result has, and the
 * analysis fits the entity. Every problem is reported at once, each naming the part of the
 * query it is about (`filters[1].op`), so a language model's repair round gets the whole list.
 */
import { VigilError } from '../core/errors.js';
import { VEHICLE_KEY } from '../core/vehicle-key.js';
import { entityOf, fieldOf, operatorsOf, type EntitySpec, type FieldSpec } from './catalog.js';
import { ENTITY_NAMES } from './catalog.js';
import { measureName, type Filter, type Scalar, type TypedQuery } from './query.js';

/** One thing wrong with a query: where (`groupBy[0]`) and what. */
export interface QueryProblem {
  readonly part: string;
  readonly message: string;
}

/** A typed query that does not fit the catalog; `problems` lists every one found. */
export class QueryError extends VigilError {
  readonly _tag = 'QueryError';
  constructor(readonly problems: readonly QueryProblem[]) {
    super(`invalid query: ${problems.map((p) => `${p.part}: ${p.message}`).join('; ')}`);
  }
}

/** The query's entity; throws QueryError listing every problem of `q`. */
export function validateQuery(q: TypedQuery): EntitySpec {
  const problems = queryProblems(q);
  if (problems.length) throw new QueryError(problems);
  return entityOf(q.entity)!;
}

/** Every problem of `q` (empty when it is valid). */
export function queryProblems(q: TypedQuery): QueryProblem[] {
  const problems: QueryProblem[] = [];
  const add = (part: string, message: string): void => void problems.push({ part, message });
  const entity = entityOf(q.entity);
  if (!entity) {
    add('entity', `unknown entity ${quote(q.entity)}; known: ${ENTITY_NAMES.join(', ')}`);
    return problems;
  }
  const lookup = (part: string, name: string): FieldSpec | undefined => {
    const f = fieldOf(entity, name);
    if (!f) add(part, `${entity.name} have no field ${quote(name)}; known: ${entity.fields.map((x) => x.name).join(', ')}${entity.softwarePrefix ? `, ${entity.softwarePrefix}<ECU>` : ''}`);
    return f;
  };

  q.measures.forEach((m, i) => {
    const part = `measures[${i}]`;
    if (m.fn === 'count') {
      if (m.field !== undefined) add(`${part}.field`, 'count takes no field (use count_distinct to count distinct values)');
      return;
    }
    if (m.field === undefined) return add(`${part}.field`, `${m.fn} needs a field`);
    const f = lookup(`${part}.field`, m.field);
    if (!f) return;
    if (!f.aggregatable) return add(`${part}.field`, `${f.name} (${f.type}) cannot be aggregated`);
    if ((m.fn === 'avg' || m.fn === 'sum') && f.type !== 'number' && f.type !== 'integer') {
      add(`${part}.fn`, `${m.fn} needs a number field; ${f.name} is ${f.type}`);
    }
  });
  const names = q.measures.map(measureName);
  names.forEach((n, i) => { if (names.indexOf(n) !== i) add(`measures[${i}]`, `measure ${n} is given twice`); });

  q.filters.forEach((f, i) => checkFilter(entity, f, `filters[${i}]`, lookup, add));

  q.groupBy.forEach((g, i) => {
    const f = lookup(`groupBy[${i}]`, g);
    if (f && !f.groupable) add(`groupBy[${i}]`, `${f.name} (${f.type}) cannot be grouped by${f.type === 'time' ? '; use analysis trend with a bucket' : ''}`);
    if (q.groupBy.indexOf(g) !== i) add(`groupBy[${i}]`, `${g} is given twice`);
  });

  if (q.time) {
    const name = q.time.field ?? entity.timeField;
    const f = lookup('time.field', name);
    if (f && f.type !== 'time') add('time.field', `${name} is not a time field (${f.type})`);
    if (q.time.kind === 'absolute' && q.time.from >= q.time.to) add('time', `from (${q.time.from}) must be before to (${q.time.to})`);
  }

  const a = q.analysis;
  const listing = q.measures.length === 0 && q.groupBy.length === 0;
  if (q.measures.length === 0 && q.groupBy.length > 0) add('measures', 'a group-by needs at least one measure');
  if (a.kind !== 'none' && a.kind !== 'commonality' && q.measures.length === 0) add('measures', `analysis ${a.kind} needs at least one measure`);
  if (a.kind === 'commonality' && !entity.vehicleField) add('analysis', `commonality compares vehicles; ${entity.name} have no vehicle`);
  if (a.kind === 'top' && a.by !== undefined && !names.includes(a.by)) add('analysis.by', `top by ${quote(a.by)}: not a measure of the query (${names.join(', ') || 'none'})`);
  if (a.kind === 'comparison') {
    for (const side of ['a', 'b'] as const) {
      const s = a[side];
      s.filters.forEach((f, i) => checkFilter(entity, f, `analysis.${side}.filters[${i}]`, lookup, add));
      if (s.time?.kind === 'absolute' && s.time.from >= s.time.to) add(`analysis.${side}.time`, 'from must be before to');
      if (s.time?.field !== undefined && s.time.field !== (q.time?.field ?? entity.timeField)) add(`analysis.${side}.time.field`, 'a slice compares on the query\'s time field');
    }
  }

  const orderable = new Set<string>([...q.groupBy, ...names, ...(a.kind === 'trend' ? ['bucket'] : [])]);
  if (listing) for (const f of entity.listFields) orderable.add(f);
  if (a.kind === 'comparison') for (const n of names) for (const s of ['a', 'b']) orderable.add(`${n}_${s}`);
  q.order.forEach((o, i) => {
    if (!orderable.has(o.by)) add(`order[${i}].by`, `cannot order by ${quote(o.by)}; the result has ${[...orderable].join(', ') || 'no columns to order by'}`);
  });
  return problems;
}

function checkFilter(
  entity: EntitySpec, filter: Filter, part: string,
  lookup: (part: string, name: string) => FieldSpec | undefined, add: (part: string, message: string) => void,
): void {
  const f = lookup(`${part}.field`, filter.field);
  if (!f) return;
  if (!f.filterable) return add(`${part}.field`, `${f.name} cannot be filtered on`);
  const ops = operatorsOf(f);
  if (!ops.includes(filter.op)) return add(`${part}.op`, `${filter.op} does not apply to ${f.name} (${f.type}${f.ordered ? ', ordered' : ''}); use one of ${ops.join(', ')}`);
  const v = filter.value;
  const many = filter.op === 'in' || filter.op === 'not_in' || filter.op === 'has_any';
  if (filter.op === 'is_null' || filter.op === 'not_null') {
    if (v !== undefined) add(`${part}.value`, `${filter.op} takes no value`);
    return;
  }
  if (v === undefined) return add(`${part}.value`, `${filter.op} needs a value`);
  if (filter.op === 'between') {
    if (!Array.isArray(v) || v.length !== 2) return add(`${part}.value`, 'between takes [low, high]');
  } else if (many !== Array.isArray(v)) {
    return add(`${part}.value`, many ? `${filter.op} takes a list of values` : `${filter.op} takes one value, not a list`);
  }
  const values = Array.isArray(v) ? v : [v];
  values.forEach((x, i) => {
    const problem = valueProblem(f, x, filter.op);
    if (problem) add(Array.isArray(v) ? `${part}.value[${i}]` : `${part}.value`, problem);
  });
  void entity;
}

/** Why `x` is not a value of field `f` (undefined when it is). */
function valueProblem(f: FieldSpec, x: Scalar, op: string): string | undefined {
  switch (f.type) {
    case 'string': case 'list':
      return typeof x === 'string' ? undefined : `${f.name} takes text, got ${quote(x)}`;
    case 'enum':
      return typeof x === 'string' && f.values!.includes(x) ? undefined : `${f.name} is one of ${f.values!.join(', ')}; got ${quote(x)}`;
    case 'integer':
      return typeof x === 'number' && Number.isSafeInteger(x) ? undefined : `${f.name} takes a whole number, got ${quote(x)}`;
    case 'number':
      return typeof x === 'number' ? undefined : `${f.name} takes a number, got ${quote(x)}`;
    case 'time':
      return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 9.0e12 ? undefined : `${f.name} takes a time in epoch ms, got ${quote(x)}`;
    case 'boolean':
      return typeof x === 'boolean' ? undefined : `${f.name} takes true or false, got ${quote(x)}`;
    case 'vehicle':
      return typeof x === 'string' && VEHICLE_KEY.test(x) ? undefined : `${f.name} takes a vehicle key (16 lowercase hex digits), got ${quote(x)}${op === 'contains' ? '' : ''}`;
  }
}

const quote = (x: unknown): string => JSON.stringify(typeof x === 'string' ? x.slice(0, 60) : x) ?? String(x);
