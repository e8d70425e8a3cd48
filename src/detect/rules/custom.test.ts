import { describe, expect, it } from 'vitest';
import { SignalCatalog } from '../../core/catalog.js';
import { ManualClock } from '../../core/clock.js';
import type { SecurityEvent } from '../../core/records.js';
import { compileRuleFiles, RuleRunner } from './index.js';

const catalog = new SignalCatalog(['Vehicle.Speed'].map((path) => ({ path, datatype: 'double' as const, kind: 'sensor' as const })));
const T0 = Date.UTC(2026, 2, 1);
const HEAD = 'status: test\nlevel: high\ntags: [ATM-T0070, R155-A5:4.1, cve:CVE-2017-1000251]\n';
const PACK = `id: can.flood\ntitle: unknown ids\n${HEAD}source: security\ntype: threshold\nthreshold: { count: 3, window: 1m }\ndetection:\n  u: { name: CAN_UNKNOWN_ID }\n  condition: u\n`;
const OWN = `id: custom.root\ntitle: root shell\n${HEAD}source: security\nsuppress: 0s\ndetails: { cve: CVE-2017-1000251, template: t }\ndetection:\n  r: { name: IVI_ROOT_DETECTED }\n  condition: r\n`;

const root = (tenant: string, n = 0): SecurityEvent => ({ id: `${tenant}-${n}`, tenant, vehicle: 'V1', time: T0 + n * 1000, eventId: 0x8803, name: 'IVI_ROOT_DETECTED', sensor: 'IviIds', count: 1, severity: 'high', source: 'test' });

function runner(): RuleRunner {
  const pack = compileRuleFiles([{ file: 't.yaml', text: PACK }], catalog);
  expect(pack.problems).toEqual([]);
  return new RuleRunner(pack, { clock: new ManualClock(T0) });
}

describe("a tenant's own rule", () => {
  it('runs for its tenant only, carries its constant details, and stops when removed', () => {
    const r = runner();
    expect(r.addCustom({ tenant: 'acme', id: 'custom.root', yaml: OWN })).toEqual([]);
    const a = r.security([root('acme'), root('globex')]);
    expect(a.map((x) => [x.tenant, x.rule])).toEqual([['acme', 'custom.root']]);
    expect(a[0]!.details).toMatchObject({ cve: 'CVE-2017-1000251', template: 't', type: 'match' });
    expect(r.customRules).toEqual(['acme/custom.root']);
    expect(r.removeCustom('acme', 'custom.root')).toBe(true);
    expect(r.security([root('acme', 1)])).toEqual([]);
    expect(r.removeCustom('acme', 'custom.root')).toBe(false);
  });

  it('replaces one of the same id instead of running both', () => {
    const r = runner();
    r.addCustom({ tenant: 'acme', id: 'custom.root', yaml: OWN });
    r.addCustom({ tenant: 'acme', id: 'custom.root', yaml: OWN.replace('level: high', 'level: critical') });
    const a = r.security([root('acme')]);
    expect(a.map((x) => x.severity)).toEqual(['critical']);
  });

  it('refuses a pack id, a mismatched id, absence and alert-source rules, unknown signals, and bad YAML, changing nothing', () => {
    const r = runner();
    const refuse = (id: string, yaml: string): string => r.addCustom({ tenant: 'acme', id, yaml }).join('; ');
    expect(refuse('can.flood', OWN.replace('custom.root', 'can.flood'))).toMatch(/is a rule of the pack/);
    expect(refuse('custom.other', OWN)).toMatch(/the rule's id is custom.root, not custom.other/);
    expect(refuse('custom.silent', `id: custom.silent\ntitle: s\n${HEAD}type: absence\nabsence: { within: 1m, expect: { source: Vehicle.Speed } }\n`)).toMatch(/absence rules cannot run for one tenant/);
    expect(refuse('custom.corr', `id: custom.corr\ntitle: c\n${HEAD}source: alert\ndetection:\n  a: { rule: can.flood }\n  condition: a\n`)).toMatch(/cannot read alerts/);
    expect(refuse('custom.sig', `id: custom.sig\ntitle: s\n${HEAD}source: Vehicle.Nope\ndetection:\n  a: { value|gt: 1 }\n  condition: a\n`)).toMatch(/not in the catalog: Vehicle.Nope/);
    expect(refuse('custom.bad', 'id: [')).not.toBe('');
    expect(r.customRules).toEqual([]);
    expect(r.security([root('acme')])).toEqual([]);
  });
});
