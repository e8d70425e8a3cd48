import { describe, expect, it } from 'vitest';
import { SignalCatalog } from '../../core/catalog.js';
import { parseCondition } from './condition.js';
import { compileRuleFiles } from './index.js';

const catalog = new SignalCatalog([
  { path: 'Vehicle.Speed', datatype: 'float', kind: 'sensor' },
  { path: 'Vehicle.LowVoltageSystemState', datatype: 'string', kind: 'sensor' },
]);

describe('rule compilation', () => {
  it('reports every problem of every rule in every file at once, with file, line and rule id', () => {
    const a = [
      'id: ok.rule', 'title: fine', 'status: test', 'level: low', 'tags: [ATM-T0070, R155-A5:4.1]', 'source: security',
      'detection: { s: { name: X }, condition: s }',
      '---',
      'id: bad.one', 'title: t', 'status: test', 'level: severe', 'tags: [ATM-T0070]', 'source: security', 'colour: red',
      'detection: { s: { name: X }, condition: s }',
    ].join('\n');
    const b = [
      'id: bad.two', 'title: t', 'status: test', 'level: high', 'tags: [ATM-7, R155-A5:14.1, nist]', 'source: api',
      'threshold: { count: 3, window: 1m }',
      'detection:', '  s: { nope: 1, status|between: 3 }', '  f: { state.Vehicle.LowVoltageSystemState: ON }', '  condition: s and (g or', '---',
      'id: ok.rule', 'title: dup', 'status: test', 'level: low', 'tags: [ATM-T0070]', 'type: change', 'source: Vehicle.Sped', 'change: { max-rate: 3 }',
    ].join('\n');
    const pack = compileRuleFiles([{ file: 'a.yaml', text: a }, { file: 'b.yaml', text: b }], catalog);
    expect(pack.problems).toEqual([
      'a.yaml:12: rule bad.one: level: Invalid option: expected one of "informational"|"low"|"medium"|"high"|"critical"',
      'a.yaml:15: rule bad.one: Unrecognized key: "colour"',
      'b.yaml:5: rule bad.two: tags.0: ATM-7: an ATM id is ATM-T#### (technique) or ATM-TA#### (tactic)',
      'b.yaml:5: rule bad.two: tags.1: R155-A5:14.1: not a UN R155 Annex 5 Part A reference (a group 4.3.1-4.3.7 or a Table A1 example such as 4.1, 20.4)',
      'b.yaml:5: rule bad.two: tags.2: nist: tags are ATM ids (ATM-T0070), R155 Annex 5 refs (R155-A5:4.1) or CVE ids (cve:CVE-2017-1000251)',
      'b.yaml:13: rule ok.rule: id: already used at a.yaml:1',
      'b.yaml:1: rule bad.two: threshold: only for rules of type threshold',
      'b.yaml:1: rule bad.two: detection.s: nope: unknown field "nope" for api (fields: service, endpoint, method, status, actor, ip, ua, vehicle, source, detail.<key>, state.<path>)',
      'b.yaml:1: rule bad.two: detection.s: status|between: unknown modifier (modifiers: gt, gte, lt, lte, contains, startswith, endswith, re, exists, cidr)',
      'b.yaml:1: rule bad.two: detection.f: state.Vehicle.LowVoltageSystemState: Vehicle.LowVoltageSystemState is not numeric: it cannot be read from state',
      'b.yaml:1: rule bad.two: detection.condition: unknown selection "g" (have: s, f)',
      'b.yaml:13: rule ok.rule: signals not in the catalog: Vehicle.Sped',
    ]);
    expect(pack.rules.map((r) => r.meta.id)).toEqual(['ok.rule']);
  });

  it('with unknownSignals: disable, a rule reading a signal the catalog lacks is left out, not a problem', () => {
    const text = 'id: x.y\ntitle: t\nstatus: test\nlevel: low\ntags: [ATM-T0070]\nsource: Vehicle.Cabin.Seat\ndetection: { s: { value: 1 }, condition: s }\n';
    const pack = compileRuleFiles([{ file: 'x', text }], catalog, { unknownSignals: 'disable' });
    expect(pack.problems).toEqual([]);
    expect(pack.disabled).toEqual([{ id: 'x.y', file: 'x', missing: ['Vehicle.Cabin.Seat'] }]);
  });
});

describe('condition language', () => {
  const names = ['sel_a', 'sel_b', 'filter'];
  it('parses and/or/not with precedence, parentheses and quantifiers', () => {
    expect(parseCondition('sel_a or sel_b and not filter', names)).toEqual({
      op: 'or', args: [{ op: 'sel', name: 'sel_a' }, { op: 'and', args: [{ op: 'sel', name: 'sel_b' }, { op: 'not', arg: { op: 'sel', name: 'filter' } }] }],
    });
    expect(parseCondition('all of sel_* and not 1 of filter', names)).toEqual({
      op: 'and', args: [{ op: 'and', args: [{ op: 'sel', name: 'sel_a' }, { op: 'sel', name: 'sel_b' }] }, { op: 'not', arg: { op: 'sel', name: 'filter' } }],
    });
    expect(parseCondition('1 of them', names)).toMatchObject({ op: 'or', args: [{}, {}, {}] });
  });
  it('refuses unknown names, dangling operators and bare patterns', () => {
    expect(() => parseCondition('sel_c', names)).toThrow('unknown selection "sel_c"');
    expect(() => parseCondition('sel_a and', names)).toThrow('ends too early');
    expect(() => parseCondition('sel_*', names)).toThrow('needs "1 of"');
    expect(() => parseCondition('1 of x*', names)).toThrow('matches no selection');
    expect(() => parseCondition('sel_a sel_b', names)).toThrow('unexpected "sel_b"');
  });
});
