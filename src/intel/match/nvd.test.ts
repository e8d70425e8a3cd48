import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { parseNvd } from '../feeds/nvd.js';
import type { AffectedEntry, Vulnerability } from '../model.js';
import { evaluateConfiguration, evaluateCpeMatch, nvdConfigurations } from './nvd.js';

const nvd = dataset('intel/nvd', 'nvd match test');
const load = (id: string): Vulnerability => parseNvd(JSON.parse(readFileSync(`${nvd.path}/${id}.json`, 'utf8')), `nvd/${id}.json`).vulnerabilities[0]!;
const kernel = (v: string): string => `cpe:2.3:o:linux:linux_kernel:${v}:*:*:*:*:*:*:*`;
const src = { kind: 'nvd' as const, document: 't' };

describe('cpeMatch with version bounds', () => {
  const e: AffectedEntry = { basis: 'cpe', source: src, versions: [], ranges: [], cpe: 'cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*', vulnerable: true, versionStartIncluding: '4.5', versionEndExcluding: '4.9.50' };
  it('start including, end excluding', () => {
    expect(evaluateCpeMatch(e, [kernel('4.5')]).match).toBe(true);
    expect(evaluateCpeMatch(e, [kernel('4.9.49')]).match).toBe(true);
    expect(evaluateCpeMatch(e, [kernel('4.9.50')]).match).toBe(false);
    expect(evaluateCpeMatch(e, [kernel('4.4.99')]).match).toBe(false);
  });
  it('start excluding, end including', () => {
    const f = { ...e, versionStartIncluding: undefined, versionEndExcluding: undefined, versionStartExcluding: '4.5', versionEndIncluding: '4.9.50' };
    expect(evaluateCpeMatch(f, [kernel('4.5')]).match).toBe(false);
    expect(evaluateCpeMatch(f, [kernel('4.9.50')]).match).toBe(true);
  });
  it('an unorderable version, a component CPE without version, or criteria for every version are unknown, not a match', () => {
    expect(evaluateCpeMatch(e, [kernel('4.9.30-rt21')])).toMatchObject({ identity: true, match: 'unknown' });
    expect(evaluateCpeMatch(e, [kernel('*')])).toMatchObject({ identity: true, match: 'unknown', reason: expect.stringContaining('ANY') });
    const every = { ...e, versionStartIncluding: undefined, versionEndExcluding: undefined };
    expect(evaluateCpeMatch(every, [kernel('4.9.30')])).toMatchObject({ identity: true, match: 'unknown', reason: expect.stringContaining('every version') });
    expect(evaluateCpeMatch(e, ['cpe:2.3:o:google:android:8.0:*:*:*:*:*:*:*'])).toMatchObject({ identity: false, match: false });
  });
});

describe.skipIf(nvd.skip)('NVD configurations of the shared records', () => {
  it('CVE-2017-1000251 (BlueBorne, kernel L2CAP): kernel versions inside and outside the eight ranges', () => {
    const v = load('CVE-2017-1000251');
    const [kernelConfig] = nvdConfigurations(v.affected);
    expect(evaluateConfiguration(kernelConfig!, [kernel('4.9.30')], []).value).toBe(true);
    expect(evaluateConfiguration(kernelConfig!, [kernel('4.9.50')], []).value).toBe(false);
    expect(evaluateConfiguration(kernelConfig!, [kernel('3.16.48')], []).value).toBe(true);
    expect(evaluateConfiguration(kernelConfig!, [kernel('2.6.31')], []).value).toBe(false);
    expect(evaluateConfiguration(kernelConfig!, [kernel('4.13.2')], []).value).toBe(false);
  });

  it('CVE-2022-27948 (Tesla): firmware AND hardware; date-like versions are not ordered; the platform comes from the SBOM', () => {
    const v = load('CVE-2022-27948');
    const [config] = nvdConfigurations(v.affected);
    const fw = ['cpe:2.3:o:tesla:model_3_firmware:2022-03-20:*:*:*:*:*:*:*'];
    const o = evaluateConfiguration(config!, fw, ['cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*']);
    expect(o.value).toBe('unknown');
    expect(o.reasons.join(' ')).toContain('2022-03-20 vs versionEndIncluding 2022-03-26');
  });

  it('CVE-2021-22156 (QNX BadAlloc): an exact criteria CPE with an update, and a bound that excludes later releases', () => {
    const v = load('CVE-2021-22156');
    const [config] = nvdConfigurations(v.affected);
    const sp1 = evaluateConfiguration(config!, ['cpe:2.3:a:blackberry:qnx_software_development_platform:6.5.0:sp1:*:*:*:*:*:*'], []);
    expect(sp1.value).toBe(true);
    expect(sp1.hits.some((h) => h.outcome.match === true && h.entry.cpe!.includes(':6.5.0:sp1:'))).toBe(true);
    expect(evaluateConfiguration(config!, ['cpe:2.3:a:blackberry:qnx_software_development_platform:7.0.0:*:*:*:*:*:*:*'], []).value).toBe(false);
    expect(evaluateConfiguration(config!, ['cpe:2.3:o:blackberry:qnx_os_for_safety:1.0.2:*:*:*:*:*:*:*'], []).value).toBe(true);
    expect(evaluateConfiguration(config!, ['cpe:2.3:o:blackberry:qnx_os_for_safety:2.0:*:*:*:*:*:*:*'], []).value).toBe(false);
  });

  it('CVE-2017-9647 (Infineon S-Gold 2 baseband): hardware CPE with version NA on both sides needs review', () => {
    const v = load('CVE-2017-9647');
    const [config] = nvdConfigurations(v.affected);
    const o = evaluateConfiguration(config!, ['cpe:2.3:h:infineon:s-gold_2_pmb_8876:-:*:*:*:*:*:*:*'], []);
    expect(o.value).toBe('unknown');
    expect(o.reasons[0]).toContain('NA');
  });
});

describe('configuration logic', () => {
  const m = (cpe: string, node: number, extra: Partial<AffectedEntry> = {}): AffectedEntry => ({ basis: 'cpe', source: src, versions: [], ranges: [], cpe, vulnerable: true, nvdConfiguration: { config: 0, node, operator: 'OR', negate: false, configOperator: 'AND' }, ...extra });
  it('AND of a vulnerable node and a platform node; negate inverts a node', () => {
    const fw = m('cpe:2.3:o:acme:tcu_firmware:1.0:*:*:*:*:*:*:*', 0);
    const hw = m('cpe:2.3:h:acme:tcu:-:*:*:*:*:*:*:*', 1, { vulnerable: false });
    const comp = ['cpe:2.3:o:acme:tcu_firmware:1.0:*:*:*:*:*:*:*'];
    expect(evaluateConfiguration([fw, hw], comp, ['cpe:2.3:h:acme:tcu:-:*:*:*:*:*:*:*']).value).toBe(true);
    expect(evaluateConfiguration([fw, hw], comp, []).value).toBe('unknown');
    const negated = { ...hw, nvdConfiguration: { ...hw.nvdConfiguration!, negate: true } };
    expect(evaluateConfiguration([fw, negated], comp, ['cpe:2.3:h:acme:tcu:-:*:*:*:*:*:*:*']).value).toBe(false);
  });
});
