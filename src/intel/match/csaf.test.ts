import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { parseCsaf } from '../feeds/csaf.js';
import type { CsafDocument } from '../model.js';
import type { SbomComponent } from '../sbom/types.js';
import { matchCsaf } from './csaf.js';

const csafDir = dataset('intel/csaf', 'csaf match test');
const load = (f: string): CsafDocument => parseCsaf(JSON.parse(readFileSync(`${csafDir.path}/${f}`, 'utf8')), `csaf/${f}`).csaf[0]!;
const comp = (c: Partial<SbomComponent> & { name: string }): SbomComponent => ({ bomRef: c.name, cpes: [], parents: [], ...c });

describe.skipIf(csafDir.skip)('CSAF product_status of the shared advisories', () => {
  it('fixed (use case 1): the product tree names vendor, product and version', () => {
    const doc = load('oasis_csaf_vex/2022-evd-uc-01-f-001.json');
    expect(matchCsaf(doc, comp({ name: 'DEF', version: '1.1', supplier: 'Example Company' }))).toMatchObject([
      { vulnerabilityId: 'CVE-2021-44228', productId: 'CSAFPID-0001', category: 'fixed', result: 'fixed', resolution: { level: 'exact', via: 'name+version' } },
    ]);
    expect(matchCsaf(doc, comp({ name: 'DEF', version: '1.0', supplier: 'Example Company' }))).toEqual([]);
    expect(matchCsaf(doc, comp({ name: 'DEF', version: '1.1', supplier: 'Other Corp' }))).toEqual([]);
  });

  it('known_not_affected and under_investigation', () => {
    const na = load('oasis_csaf_vex/2022-evd-uc-02-na-001.json');
    const m = matchCsaf(na, comp({ name: 'ABC', version: '4.2' }));
    expect(m.length).toBeGreaterThan(0);
    expect(new Set(m.map((x) => x.result))).toEqual(new Set(['not_affected']));
    const ui = load('oasis_csaf_vex/2022-evd-uc-01-ui-001.json');
    const product = Object.values(ui.products)[0]!;
    expect(matchCsaf(ui, comp({ name: product.productName!, version: product.version! }))).toMatchObject([{ category: 'under_investigation', result: 'needs_review' }]);
  });

  it('ICSA-17-208-01 (Continental TCU): vehicle models with model years as the version are known_affected', () => {
    const doc = load('icsa-17-208-01.json');
    const q70 = matchCsaf(doc, comp({ name: 'Infiniti Q70', version: '2014-2016' }));
    expect(q70.length).toBeGreaterThan(0);
    expect(q70.every((x) => x.result === 'affected' && x.category === 'known_affected')).toBe(true);
    expect(matchCsaf(doc, comp({ name: 'Infiniti Q70', version: '2019' }))).toEqual([]);
  });
});

describe('CSAF product resolution by purl and CPE', () => {
  const doc: CsafDocument = {
    trackingId: 'EX-2026-001',
    title: 'example',
    category: 'csaf_security_advisory',
    source: { kind: 'csaf', document: 'ex' },
    products: {
      P1: { productId: 'P1', name: 'openssl 1.1.1n', purl: 'pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u4' },
      P2: { productId: 'P2', name: 'busybox', cpe: 'cpe:2.3:a:busybox:busybox:1.30.1:*:*:*:*:*:*:*' },
      P3: { productId: 'P3', name: 'bluez', cpe: 'cpe:2.3:a:bluez:bluez:*:*:*:*:*:*:*:*' },
      P4: { productId: 'P4', name: 'Telematics unit', productName: 'Telematics unit', version: '>=4.0', versionRange: 'vers:generic/>=4.0|<4.3' },
    },
    productStatus: [{ vulnerabilityId: 'CVE-2099-0001', status: { known_affected: ['P1', 'P2', 'P3', 'P4'] } }],
  };
  it('purl: same package and version; another version does not resolve', () => {
    expect(matchCsaf(doc, comp({ name: 'openssl', purl: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u4?arch=armhf' }))).toMatchObject([{ productId: 'P1', result: 'affected', resolution: { via: 'purl', level: 'exact' } }]);
    expect(matchCsaf(doc, comp({ name: 'openssl', purl: 'pkg:deb/debian/openssl@1.1.1w-0+deb11u1' }))).toEqual([]);
  });
  it('CPE: a versioned product CPE resolves exactly; one with version ANY only to the product (needs review)', () => {
    expect(matchCsaf(doc, comp({ name: 'busybox', cpes: ['cpe:2.3:a:busybox:busybox:1.30.1:*:*:*:*:*:*:*'] }))).toMatchObject([{ productId: 'P2', result: 'affected' }]);
    expect(matchCsaf(doc, comp({ name: 'busybox', cpes: ['cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*'] }))).toEqual([]);
    expect(matchCsaf(doc, comp({ name: 'bluez', cpes: ['cpe:2.3:a:bluez:bluez:5.55:*:*:*:*:*:*:*'] }))).toMatchObject([{ productId: 'P3', result: 'needs_review', resolution: { level: 'product' } }]);
  });
  it('a product_version_range is not evaluated: needs review', () => {
    expect(matchCsaf(doc, comp({ name: 'Telematics unit', version: '4.2' }))).toMatchObject([{ productId: 'P4', result: 'needs_review', resolution: { reason: expect.stringContaining('vers:generic') } }]);
  });
});
