/** Answers, pure: the chart a shape gets, the numbers the summary cites, commonality's statistics. */
import { describe, expect, it } from 'vitest';
import { buildAnswer, shownValue } from './answer.js';
import { compileQuery } from './compile.js';
import type { ResultTable } from './port.js';
import { parseTypedQuery, type TypedQueryInput } from './query.js';
import { validateQuery } from './validate.js';

const NOW = Date.UTC(2026, 10, 1);

function answer(input: TypedQueryInput, rows: unknown[][], counts?: ResultTable) {
  const r = parseTypedQuery(input);
  if ('problems' in r) throw new Error(r.problems.join());
  const entity = validateQuery(r.query);
  const c = compileQuery(r.query, entity, { scope: { kind: 'tenant', name: 'acme', id: 1 }, now: NOW });
  const table: ResultTable = { columns: c.columns.map((x) => ({ name: x.name, sqlType: 'X' })), rows: rows as ResultTable['rows'], truncated: false, elapsedMs: 1 };
  return buildAnswer(r.query, entity, c, table, counts);
}

describe('buildAnswer', () => {
  it('draws a bar chart for a group-by and cites the largest groups', () => {
    const a = answer({ entity: 'alerts', groupBy: ['vehicle.make'], time: { kind: 'relative', last: 30, unit: 'day' } }, [['Volvo', 1200], ['BMW', 300], ['Kia', 2]]);
    expect(a.chart).toMatchObject({ mark: 'bar', encoding: { x: { field: 'vehicle.make', type: 'nominal', sort: '-y' }, y: { field: 'count', type: 'quantitative' } } });
    expect(a.summary).toBe('Alerts from 2026-10-02 to 2026-11-01 by vehicle make: 3 groups; they are: Volvo (count 1,200); BMW (count 300); Kia (count 2).');
    expect(a.sql.params).toEqual([1, '2026-10-02T00:00:00.000Z', '2026-11-01T00:00:00.000Z', 101]);
  });

  it('draws a line for a trend and names its peak', () => {
    const day = 86_400_000;
    const a = answer({ entity: 'alerts', analysis: { kind: 'trend', bucket: 'day' } }, [[NOW - 2 * day, 5], [NOW - day, 40], [NOW, 7]]);
    expect(a.chart).toMatchObject({ mark: 'line', encoding: { x: { field: 'bucket', type: 'temporal' } } });
    expect(a.summary).toContain('the highest count is 40 (2026-10-31), the first 5 and the last 7');
  });

  it('has no chart for a single number, and says the change of a comparison', () => {
    const a = answer({ entity: 'alerts', analysis: { kind: 'comparison', a: { label: 'before', filters: [] }, b: { label: 'after', filters: [{ field: 'severity', op: 'eq', value: 'high' }] } } }, [[80, 100, 20]]);
    expect(a.chart).toBeUndefined();
    expect(a.summary).toContain('count (before) 80, count (after) 100');
    expect(a.summary).toContain('Change: 20 (+25%)');
  });

  it('scores commonality from the counts: one-sided Fisher (hypergeometric) p against a known value', () => {
    // Fisher's tea-tasting table: fleet 8, value held by 4, set of 4 holding it 3 times: P(X >= 3) = 17/70.
    const counts: ResultTable = {
      columns: ['attribute', 'value', 'fleet_count', 'set_count', 'fleet_size', 'set_size', 'unknown_vehicles'].map((name) => ({ name, sqlType: 'X' })),
      rows: [['make', 'Volvo', 4, 3, 8, 4, 1], ['year', '2019', 2, 1, 8, 4, 1]],
      truncated: false, elapsedMs: 1,
    };
    const a = answer({ entity: 'alerts', analysis: { kind: 'commonality', minCount: 1, alpha: 1 } }, [[9]], counts);
    const volvo = a.commonality!.items.find((i) => i.value === 'Volvo')!;
    expect(volvo.pValue).toBeCloseTo(17 / 70, 12);
    expect(volvo.pAdjusted).toBeCloseTo(34 / 70, 12); // two values tested
    expect([volvo.support, volvo.fleetShare, volvo.lift]).toEqual([0.75, 0.5, 1.5]);
    expect(a.commonality!.items.map((i) => i.value)).toEqual(['Volvo']); // 2019: 1/4 = its fleet share, not over-represented
    expect(a.summary).toContain('make = Volvo: 3 vehicles (75% against 50% of the fleet, lift 1.5, p = 0.49)');
    expect(a.summary).toContain('1 vehicles are not in the fleet register');
  });

  it('shows bound values as written', () => {
    expect([shownValue({ time: 0 }), shownValue({ vehicle: '00000000000000a1' }), shownValue({ tenantId: 4 }), shownValue('x')]).toEqual(['1970-01-01T00:00:00.000Z', '00000000000000a1', 4, 'x']);
  });
});
