/**
 * Compilation and validation, pure: what the SQL text may and may not contain whatever the query
 * says (results against real data are checked in src/adapters/duckdb/ask-executor.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { CATALOG, fieldOf, operatorsOf } from './catalog.js';
import { compileQuery, type TenantScope } from './compile.js';
import { parseTypedQuery, type Filter, type Scalar, type TypedQuery, type TypedQueryInput } from './query.js';
import { QueryError, queryProblems, validateQuery } from './validate.js';

const NOW = Date.UTC(2026, 10, 1);
const ACME: TenantScope = { kind: 'tenant', name: 'acme', id: 3 };

function parsed(q: TypedQueryInput): TypedQuery {
  const r = parseTypedQuery(q);
  if ('problems' in r) throw new Error(r.problems.join('; '));
  return r.query;
}
const compile = (q: TypedQueryInput, scope: TenantScope = ACME) => {
  const t = parsed(q);
  return compileQuery(t, validateQuery(t), { scope, now: NOW });
};

/** A value no SQL text should ever contain: it must arrive as a bound parameter. */
const EVIL = "x' OR 1=1; DROP TABLE alerts; --";

describe('compileQuery', () => {
  it('binds every value and keeps every filter value out of the text, for every filterable field of every entity', () => {
    for (const e of CATALOG) {
      for (const f of e.fields.filter((x) => x.filterable)) {
        for (const op of operatorsOf(f)) {
          const value = sample(f.type, f.values, op);
          if (value === null) continue;
          const c = compile({ entity: e.name, filters: [{ field: f.name, op, ...(value === undefined ? {} : { value }) }] });
          expect(c.sql, `${e.name}.${f.name} ${op}`).not.toContain(EVIL);
          expect(c.sql).toMatch(/\nLIMIT \$\d+$/);
          if (e.tenantScoped) expect(c.sql).toMatch(/tenant = \$\d+/);
          if (typeof value === 'string' && f.type !== 'enum' && f.type !== 'vehicle') expect(c.params).toContainEqual(EVIL);
        }
      }
    }
  });

  it('puts the tenant condition on the entity and on joined vehicles, and none for an operator reading all', () => {
    const c = compile({ entity: 'incidents', groupBy: ['vehicle.make'] });
    expect(c.sql).toContain('LEFT JOIN vehicles v ON v.tenant = $');
    expect(c.sql).toMatch(/WHERE e\.tenant = \$\d+/);
    expect(c.params).toEqual(expect.arrayContaining([{ tenantId: 3 }, 'acme']));
    const all = compile({ entity: 'alerts', groupBy: ['outcome'] }, { kind: 'all' });
    expect(all.sql).not.toMatch(/WHERE[^\n]*tenant/);
    expect(all.sql).toContain('JOIN tenants tn ON tn.id = e.tenant');
    const never = compile({ entity: 'alerts' }, { kind: 'tenant', name: 'new', id: null });
    expect(never.sql).toContain('WHERE false');
  });

  it('asks for one row more than the limit, and a top-N for n', () => {
    expect(compile({ entity: 'alerts', limit: 7 }).params.at(-1)).toBe(8);
    expect(compile({ entity: 'alerts', groupBy: ['rule'], analysis: { kind: 'top', n: 3 } }).params.at(-1)).toBe(4);
  });

  it('resolves a relative range against the clock and binds it as times', () => {
    const c = compile({ entity: 'alerts', time: { kind: 'relative', last: 2, unit: 'week' } });
    expect(c.time).toEqual({ from: NOW - 14 * 86_400_000, to: NOW, field: undefined });
    expect(c.params).toEqual(expect.arrayContaining([{ time: NOW - 14 * 86_400_000 }, { time: NOW }]));
  });

  it('turns an ordered-enum comparison into the values in range, and an empty range into false', () => {
    const c = compile({ entity: 'alerts', filters: [{ field: 'severity', op: 'gte', value: 'high' }] });
    expect(c.params.slice(1, 3)).toEqual(['high', 'critical']);
    expect(compile({ entity: 'alerts', filters: [{ field: 'severity', op: 'gt', value: 'critical' }] }).sql).toContain('AND false');
  });

  it('binds an ECU name as a JSON path, never as text of the statement', () => {
    const c = compile({ entity: 'alerts', groupBy: ['vehicle.software.TCU_2'] });
    expect(c.sql).toContain('json_extract_string(v.software, $');
    expect(c.params).toContainEqual('$."TCU_2"');
    expect(fieldOf(CATALOG[1]!, 'vehicle.software.T"CU')).toBeUndefined();
  });

  it('compiles commonality to a counts statement with its own bound values', () => {
    const c = compile({ entity: 'alerts', filters: [{ field: 'rule', op: 'eq', value: EVIL }], analysis: { kind: 'commonality' } });
    expect(c.commonality?.sql).toContain('WITH sel AS');
    expect(c.commonality?.sql).not.toContain(EVIL);
    expect(c.commonality?.params).toContainEqual(EVIL);
  });
});

describe('validateQuery', () => {
  const problems = (q: TypedQueryInput) => queryProblems(parsed(q));

  it('names the part of every problem, all at once', () => {
    expect(problems({
      entity: 'alerts', measures: [{ fn: 'avg', field: 'rule' }, { fn: 'count', field: 'rule' }],
      filters: [{ field: 'colour', op: 'eq', value: 'red' }, { field: 'ts', op: 'eq', value: 1 }, { field: 'severity', op: 'in', value: 'high' }, { field: 'vehicle', op: 'eq', value: 'ABC' }],
      groupBy: ['ts', 'title'], order: [{ by: 'nothing', dir: 'asc' }], analysis: { kind: 'top', n: 3, by: 'sum_risk' },
    }).map((p) => p.part)).toEqual([
      'measures[0].fn', 'measures[1].field', 'filters[0].field', 'filters[1].op', 'filters[2].value', 'filters[3].value',
      'groupBy[0]', 'analysis.by', 'order[0].by',
    ]);
  });

  it('refuses an unknown entity, commonality without vehicles, and a time range on a non-time field', () => {
    expect(problems({ entity: 'cars' })[0]?.part).toBe('entity');
    expect(problems({ entity: 'vulnerabilities', analysis: { kind: 'commonality' } })[0]?.part).toBe('analysis');
    expect(problems({ entity: 'alerts', time: { kind: 'relative', last: 1, unit: 'day', field: 'rule' } })[0]?.part).toBe('time.field');
    expect(() => validateQuery(parsed({ entity: 'cars' }))).toThrow(QueryError);
  });

  it('rejects unknown keys in the JSON', () => {
    expect(parseTypedQuery({ entity: 'alerts', where: {} })).toEqual({ problems: [expect.stringContaining('where')] });
  });
});

/** A value of the type for `op` (undefined: no value; null: skip). */
function sample(type: string, values: readonly string[] | undefined, op: string): Filter['value'] | null {
  if (op === 'is_null' || op === 'not_null') return undefined;
  const one: Scalar = type === 'enum' ? values![0]! : type === 'integer' || type === 'number' || type === 'time' ? 5 : type === 'boolean' ? true : type === 'vehicle' ? '00000000000000a1' : EVIL;
  if (op === 'in' || op === 'not_in' || op === 'has_any') return [one];
  if (op === 'between') return type === 'enum' ? [values![0]!, values![1]!] : [1, 5];
  return one;
}
