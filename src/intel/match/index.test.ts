import { describe, expect, it } from 'vitest';
import type { AffectedEntry, SourceRef, VexStatement, Vulnerability } from '../model.js';
import type { SbomComponent } from '../sbom/types.js';
import { BASIS_CONFIDENCE, componentIdentity, matchComponent } from './index.js';

const src = (kind: SourceRef['kind']): SourceRef => ({ kind, document: `${kind}.json` });
const vuln = (affected: AffectedEntry[], extra: Partial<Vulnerability> = {}): Vulnerability => ({
  id: 'CVE-2099-0001', aliases: ['GHSA-xxxx-yyyy-zzzz'], sources: [], cvss: [], ssvc: [], cwes: [], references: [], affected, ...extra,
});
const entry = (e: Partial<AffectedEntry> & Pick<AffectedEntry, 'basis'>): AffectedEntry => ({ source: src('osv'), versions: [], ranges: [], ...e });
const comp = (c: Partial<SbomComponent> & { name: string }): SbomComponent => ({ bomRef: c.name, cpes: [], parents: [], ...c });

const openssl = comp({ name: 'openssl', version: '1.1.1n-0+deb11u4', purl: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u4?arch=armhf' });
const debRange = entry({ basis: 'osv-package', ecosystem: 'Debian:11', packageName: 'openssl', ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1.1n-0+deb11u5' }] }] });

describe('matchComponent', () => {
  it('purl + ECOSYSTEM range: affected below the fix, fixed at it, with the highest confidence', () => {
    const [m] = matchComponent(openssl, vuln([debRange]));
    expect(m).toMatchObject({ vulnerabilityId: 'CVE-2099-0001', componentRef: 'openssl', result: 'affected', basis: 'purl+range', confidence: BASIS_CONFIDENCE['purl+range'] });
    const fixed = comp({ ...openssl, version: '1.1.1n-0+deb11u5', purl: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u5' });
    expect(matchComponent(fixed, vuln([debRange]))[0]).toMatchObject({ result: 'fixed', reason: expect.stringContaining('fixed in 1.1.1n-0+deb11u5') });
    // another package of the same ecosystem is not named
    expect(matchComponent(comp({ name: 'bluez', version: '5.55-3.1', purl: 'pkg:deb/debian/bluez@5.55-3.1' }), vuln([debRange]))).toEqual([]);
  });

  it('a component without a version needs review', () => {
    const [m] = matchComponent(comp({ name: 'openssl', purl: 'pkg:deb/debian/openssl' }), vuln([debRange]));
    expect(m).toMatchObject({ result: 'needs_review', reason: expect.stringContaining('no version') });
  });

  it('CVE 5 product by name: exact version -> affected; custom version type -> needs_review even on the same string', () => {
    const bosch = comp({ name: 'Infotainment system ECU', version: '283C30861E', supplier: 'Robert Bosch GmbH' });
    const plain = entry({ basis: 'cve5-product', source: src('cve5-cna'), vendor: 'Bosch', product: 'Infotainment system ECU', versions: [{ version: '283C30861E', status: 'affected' }], defaultStatus: 'unaffected' });
    expect(matchComponent(bosch, vuln([plain]))[0]).toMatchObject({ result: 'affected', basis: 'cve5-product', confidence: 0.6 });
    const custom = { ...plain, versions: [{ version: '283C30861E', status: 'affected' as const, versionType: 'custom' }] };
    expect(matchComponent(bosch, vuln([custom]))[0]).toMatchObject({ result: 'needs_review', reason: expect.stringContaining('custom') });
    // a vendor that is not the supplier rules the entry out
    expect(matchComponent({ ...bosch, supplier: 'Harman' }, vuln([plain]))).toEqual([]);
    // sharing only a legal form is not sharing a vendor
    const gmbh = { ...plain, vendor: 'Robert Bosch GmbH' };
    expect(matchComponent({ ...bosch, supplier: 'Vector Informatik GmbH' }, vuln([gmbh]))).toEqual([]);
    expect(matchComponent(bosch, vuln([gmbh]))).toHaveLength(1);
  });

  it('CVE 5 product named only by contained words is never affected on its own', () => {
    const qnx = comp({ name: 'QNX Software Development Platform', version: '6.5.0' });
    const e = entry({ basis: 'cve5-product', source: src('cve5-cna'), vendor: 'n/a', product: 'BlackBerry QNX Software Development Platform (SDP) and QNX OS', versions: [{ version: '6.5.0', status: 'affected' }] });
    expect(matchComponent(qnx, vuln([e]))[0]).toMatchObject({ result: 'needs_review', confidence: 0.4 });
  });

  it('ADP CPE: lower confidence than the CNA; an NA version needs review', () => {
    const tesla = comp({ name: 'Model 3', version: '2023.6', cpes: ['cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*'] });
    const adp = entry({ basis: 'cpe', source: src('cve5-adp'), cpe: 'cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*', cpes: ['cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*'], versions: [{ version: '-', lessThan: '2023.12', status: 'affected', versionType: 'custom' }], defaultStatus: 'unknown' });
    expect(matchComponent(tesla, vuln([adp]))[0]).toMatchObject({ result: 'needs_review', basis: 'adp-cpe', confidence: BASIS_CONFIDENCE['adp-cpe'] });
  });

  it('description only: the lowest confidence, and only when nothing structured names the component', () => {
    const bluez = comp({ name: 'bluez', version: '5.55' });
    const v = vuln([], { description: 'The native Bluetooth stack in the Linux Kernel (BlueZ) is vulnerable to a stack overflow.' });
    expect(matchComponent(bluez, v)).toMatchObject([{ result: 'needs_review', basis: 'description-only', confidence: 0.2 }]);
    expect(matchComponent(comp({ name: 'zlib', version: '1.2.11' }), v)).toEqual([]);
  });

  it('a withdrawn record retracts: nothing is affected', () => {
    const [m] = matchComponent(openssl, vuln([debRange], { withdrawn: { at: '2018-10-11T17:29:49Z', source: src('osv') } }));
    expect(m).toMatchObject({ result: 'not_affected', reason: expect.stringContaining('withdrawn') });
  });

  it('a statement from a withdrawn record (e.g. a GHSA) retracts only that statement', () => {
    const withdrawnGhsa = { ...debRange, withdrawn: true };
    const cna = entry({ basis: 'purl', source: src('cve5-cna'), purl: 'pkg:deb/debian/openssl', versions: [{ version: '0', lessThan: '1.1.1n-0+deb11u5', status: 'affected', versionType: 'deb' }] });
    const ms = matchComponent(openssl, vuln([withdrawnGhsa, cna]));
    expect(ms.map((m) => m.result)).toEqual(['not_affected', 'affected']);
    expect(ms[0]!.reason).toContain('withdrawn');
  });

  it('a VEX decision overrides per vulnerability (or alias) and component identity, and keeps the computed result', () => {
    const decision: VexStatement = {
      vulnerabilityId: 'GHSA-xxxx-yyyy-zzzz', productId: 'x', product: { purl: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u4' },
      status: 'not_affected', statedStatus: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', source: src('cyclonedx-vex'),
    };
    const [m] = matchComponent(openssl, vuln([debRange]), { vex: [decision] });
    expect(m).toMatchObject({ result: 'not_affected', vex: { computed: 'affected', justification: 'vulnerable_code_not_in_execute_path' } });
    // another version of the package is another identity: the decision does not apply
    const other = comp({ ...openssl, version: '1.1.1n-0+deb11u3', purl: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u3' });
    expect(matchComponent(other, vuln([debRange]), { vex: [decision] })[0]).toMatchObject({ result: 'affected' });
    expect(matchComponent(other, vuln([debRange]), { vex: [decision] })[0]!.vex).toBeUndefined();
    // the latest decision wins
    const later: VexStatement = { ...decision, status: 'affected', statedStatus: 'exploitable' };
    expect(matchComponent(openssl, vuln([debRange]), { vex: [decision, later] })[0]).toMatchObject({ result: 'affected', vex: { statedStatus: 'exploitable' } });
  });

  it('an SBOM CPE left at version ANY takes the component version for NVD bounds', () => {
    const nvd = entry({ basis: 'cpe', source: src('nvd'), cpe: 'cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*', vulnerable: true, versionStartIncluding: '4.5', versionEndExcluding: '4.9.50', nvdConfiguration: { config: 0, node: 0, operator: 'OR', negate: false } });
    const k = comp({ name: 'linux-kernel', version: '4.9.30', cpes: ['cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*'] });
    expect(matchComponent(k, vuln([nvd]))).toMatchObject([{ result: 'affected', basis: 'cpe+range' }]);
    expect(matchComponent({ ...k, version: undefined }, vuln([nvd]))).toMatchObject([{ result: 'needs_review', reason: expect.stringContaining('ANY') }]);
  });

  it('an analyst decision stored under the component identity applies; a bare bom-ref of another BOM does not', () => {
    const byIdentity: VexStatement = { vulnerabilityId: 'CVE-2099-0001', productId: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u4', status: 'fixed', statedStatus: 'resolved', source: src('cyclonedx-vex') };
    expect(matchComponent(openssl, vuln([debRange]), { vex: [byIdentity] })[0]).toMatchObject({ result: 'fixed' });
    const byRef: VexStatement = { ...byIdentity, productId: 'openssl' };
    expect(matchComponent(openssl, vuln([debRange]), { vex: [byRef] })[0]).toMatchObject({ result: 'affected' });
  });

  it('component identity: purl without qualifiers, else CPE, else name@version', () => {
    expect(componentIdentity(openssl)).toBe('pkg:deb/debian/openssl@1.1.1n-0+deb11u4');
    expect(componentIdentity(comp({ name: 'k', cpes: ['cpe:2.3:o:linux:linux_kernel:4.9.30:*:*:*:*:*:*:*'] }))).toBe('cpe:2.3:o:linux:linux_kernel:4.9.30:*:*:*:*:*:*:*');
    expect(componentIdentity(comp({ name: 'CycurHSM', version: '3.8.2' }))).toBe('CycurHSM@3.8.2');
  });
});
