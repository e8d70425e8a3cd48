import { describe, expect, it } from 'vitest';
import { SignalBatchBuilder } from '../../core/batch.js';
import { SignalCatalog } from '../../core/catalog.js';
import { ManualClock } from '../../core/clock.js';
import type { SecurityEvent } from '../../core/records.js';
import { compileRuleFiles, RuleRunner } from './index.js';
import { tunedSpec } from './tuning.js';

const catalog = new SignalCatalog(['Vehicle.Speed', 'Vehicle.TraveledDistance'].map((path) => ({ path, datatype: 'double' as const, kind: 'sensor' as const })));
const T0 = Date.UTC(2026, 2, 1);
const HEAD = 'status: test\nlevel: high\ntags: [ATM-T0070, R155-A5:4.1]\n';
const FLOOD = `id: can.flood\ntitle: unknown ids\n${HEAD}source: security\ntype: threshold\nthreshold: { count: 3, window: 1m }\nsuppress: 0s\ndetection:\n  u: { name: CAN_UNKNOWN_ID }\n  condition: u\n`;
const ODO = `---\nid: odo.rollback\ntitle: odometer\n${HEAD}source: Vehicle.TraveledDistance\ntype: change\nchange: { max-decrease: 1 }\nsuppress: 0s\n`;
const SILENT = `---\nid: tcu.silent\ntitle: silent\n${HEAD}type: absence\nabsence: { within: 1m, expect: { source: Vehicle.Speed } }\n`;

function runner(): RuleRunner {
  const pack = compileRuleFiles([{ file: 't.yaml', text: FLOOD + ODO + SILENT }], catalog);
  expect(pack.problems).toEqual([]);
  return new RuleRunner(pack, { clock: new ManualClock(T0) });
}

const unknownIds = (tenant: string, vehicle: string, n: number, from = 0): SecurityEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${tenant}-${from + i}`, tenant, vehicle, time: T0 + (from + i) * 1000, eventId: 0x8001, name: 'CAN_UNKNOWN_ID', sensor: 'gw', count: 1, severity: 'medium', source: 'test' }));

describe('per-tenant rule tuning', () => {
  it('raises a threshold for one tenant only; the others keep the pack threshold', () => {
    const r = runner();
    expect(r.tune('acme', 'can.flood', { threshold: 5 })).toEqual([]);
    // 4 unknown ids in a minute: acme (tuned to 5) stays quiet, globex (pack: 3) alerts.
    expect(r.security(unknownIds('acme', 'V1', 4))).toEqual([]);
    expect(r.security(unknownIds('globex', 'V1', 4)).map((a) => [a.tenant, a.rule])).toEqual([['globex', 'can.flood']]);
    // The fifth raises acme's, with the tuned count in the evidence.
    const a = r.security(unknownIds('acme', 'V1', 1, 4));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ tenant: 'acme', rule: 'can.flood', details: { count: 5 } });
    expect(r.tunedRules).toEqual({ 'can.flood': ['acme'] });
  });

  it('replaces an earlier tuning and tunes windows and change limits', () => {
    const r = runner();
    expect(r.tune('acme', 'can.flood', { threshold: 10 })).toEqual([]);
    expect(r.tune('acme', 'can.flood', { threshold: 2, window: '10s' })).toEqual([]);
    // Two events 1 s apart fire at the tuned count of 2; two 20 s apart do not (window 10 s).
    expect(r.security(unknownIds('acme', 'V9', 2))).toHaveLength(1);
    expect(r.security([...unknownIds('acme', 'V8', 1, 100), ...unknownIds('acme', 'V8', 1, 120)])).toEqual([]);

    expect(r.tune('acme', 'odo.rollback', { 'max-decrease': 10 })).toEqual([]);
    const b = new SignalBatchBuilder('acme', 2, T0);
    const odo = catalog.get('Vehicle.TraveledDistance')!.id;
    b.push(b.vehicleIndex('V1'), T0, odo, 1000);
    b.push(b.vehicleIndex('V1'), T0 + 1000, odo, 995);
    expect(r.signals(b.build())).toEqual([]);
    const g = new SignalBatchBuilder('globex', 2, T0);
    g.push(g.vehicleIndex('V1'), T0, odo, 1000);
    g.push(g.vehicleIndex('V1'), T0 + 1000, odo, 995);
    expect(r.signals(g.build()).map((a) => a.rule)).toEqual(['odo.rollback']);
  });

  it('refuses what does not fit the rule, and changes nothing then', () => {
    const r = runner();
    expect(r.tune('acme', 'can.flood', { threshold: 0, colour: 'red', tolerance: 2 })).toEqual([
      'threshold: must be an integer from 2 to 1000000',
      'colour: not a tunable parameter (threshold, count, window, timespan, tolerance, max-increase, max-decrease, max-rate, suppress)',
      'tolerance: applies to consistency rules, not to this threshold rule',
    ]);
    expect(r.tune('acme', 'can.flood', { window: 'soon' })).toEqual(['window: must be a positive duration such as 30s, 10m, 1h (or ms)']);
    expect(r.tune('acme', 'tcu.silent', { suppress: '1h' })[0]).toMatch(/absence rule/);
    expect(r.tune('acme', 'no.such-rule', { threshold: 2 })).toEqual(['no rule no.such-rule runs here']);
    expect(r.tunedRules).toEqual({});
    expect(r.security(unknownIds('acme', 'V1', 3))).toHaveLength(1);
  });

  it('tunedSpec leaves the pack spec untouched', () => {
    const pack = compileRuleFiles([{ file: 't.yaml', text: FLOOD }], catalog);
    const spec = pack.rules[0]!.spec;
    const t = tunedSpec(spec, { count: 7, suppress: '5m' });
    expect(t.spec?.threshold).toEqual({ count: 7, window: 60_000 });
    expect(t.spec?.suppress).toBe(300_000);
    expect(spec.threshold).toEqual({ count: 3, window: 60_000 });
  });
});
