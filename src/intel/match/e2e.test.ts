/**
 * End to end: the fixture SBOMs (a Linux TCU, a QNX head unit, an AUTOSAR gateway) parsed
 * and matched against the real records of the shared datasets, imported through the feed
 * importer. Each expectation below follows from what the record itself says.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { importFeedDocuments } from '../feeds/index.js';
import type { IntelImport, VexStatement } from '../model.js';
import { parseCycloneDx } from '../sbom/cyclonedx.js';
import { parseSpdx } from '../sbom/spdx.js';
import type { Sbom } from '../sbom/types.js';
import { matchSbom, type Match } from './index.js';

const intel = dataset('intel', 'match e2e');
const fixture = (f: string): string => readFileSync(fileURLToPath(new URL(`../sbom/fixtures/${f}`, import.meta.url)), 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = `${dir}/${f}`;
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe.skipIf(intel.skip)('fixture SBOMs against the shared intel records', () => {
  let imp: IntelImport;
  let tcu: Sbom;
  let hu: Sbom;
  let cgw: Sbom;
  const find = (ms: Match[], id: string, ref: string): Match[] => ms.filter((m) => m.vulnerabilityId === id && m.componentRef === ref);

  beforeAll(() => {
    // every vulnerability feed (KEV and the ATM matrix carry no product statements)
    const docs = files(intel.path.replace(/\/$/, ''))
      .filter((p) => p.endsWith('.json') && !/\/(kev|atm)\//.test(p))
      .map((p) => ({ name: p.slice(intel.path.length), text: readFileSync(p, 'utf8') }));
    imp = importFeedDocuments(docs);
    tcu = parseCycloneDx(fixture('tcu-linux.cdx.json'), { document: 'tcu-linux.cdx.json' }).sbom!;
    hu = parseSpdx(fixture('headunit-qnx.spdx.json'), { document: 'headunit-qnx.spdx.json', binding: { ecu: 'HU' } }).sbom!;
    cgw = parseCycloneDx(fixture('autosar-gateway.cdx.json'), { document: 'autosar-gateway.cdx.json' }).sbom!;
  });

  it('TCU kernel 4.9.30 is affected by BlueBorne CVE-2017-1000251 through the NVD range 4.5 <= v < 4.9.50', () => {
    const ms = matchSbom(tcu, imp.vulnerabilities, { csaf: imp.csaf });
    const [k] = find(ms, 'CVE-2017-1000251', 'linux-kernel');
    expect(k).toMatchObject({ result: 'affected', basis: 'cpe+range', confidence: 0.8, reason: expect.stringContaining('4.9.30 is within versionStartIncluding 4.5, versionEndExcluding 4.9.50') });
  });

  it('TCU bluez: the BlueBorne records name only the kernel (NVD) or nothing (CNA n/a), so the BlueZ mention is description-only', () => {
    const ms = matchSbom(tcu, imp.vulnerabilities, { csaf: imp.csaf });
    expect(find(ms, 'CVE-2017-1000251', 'bluez')).toMatchObject([{ result: 'needs_review', basis: 'description-only', confidence: 0.2 }]);
  });

  it('TCU i18next 1.10.2 (npm purl) is affected by the OSV SEMVER range fixed in 1.10.3, with the highest confidence', () => {
    const ms = matchSbom(tcu, imp.vulnerabilities, { csaf: imp.csaf });
    const i18n = ms.filter((m) => m.componentRef === 'i18next');
    expect(i18n).toHaveLength(1);
    expect(i18n[0]).toMatchObject({ result: 'affected', basis: 'purl+range', confidence: 0.95 });
    expect(imp.vulnerabilities.find((v) => v.id === i18n[0]!.vulnerabilityId || v.aliases.includes(i18n[0]!.vulnerabilityId))).toBeDefined();
  });

  it('TCU baseband (S-Gold 2 with CPE version NA) needs review for CVE-2017-9647, never affected', () => {
    const ms = find(matchSbom(tcu, imp.vulnerabilities, { csaf: imp.csaf }), 'CVE-2017-9647', 'baseband');
    expect(ms.map((m) => [m.basis, m.result]).sort()).toEqual([['cpe+range', 'needs_review'], ['cve5-product', 'needs_review']]);
    expect(ms.find((m) => m.basis === 'cpe+range')!.reason).toContain('NA');
  });

  it('TCU Qualcomm MDM9628 modem: named in the chipset list of CVE-2020-11292, which is no version: needs review', () => {
    const ms = find(matchSbom(tcu, imp.vulnerabilities, { csaf: imp.csaf }), 'CVE-2020-11292', 'modem');
    expect(ms).toMatchObject([{ result: 'needs_review', basis: 'cve5-product', confidence: 0.4, reason: expect.stringContaining('chipset') }]);
  });

  it('QNX SDP 6.5.0 SP1: the NVD CPE names it exactly (affected); the CNA text "6.5.0 SP1 and earlier" needs review', () => {
    const ms = find(matchSbom(hu, imp.vulnerabilities, { csaf: imp.csaf }), 'CVE-2021-22156', 'SPDXRef-qnx-sdp');
    expect(ms.find((m) => m.basis === 'cpe+range')).toMatchObject({ result: 'affected', reason: expect.stringContaining(':6.5.0:sp1:') });
    expect(ms.find((m) => m.basis === 'cve5-product')).toMatchObject({ result: 'needs_review', reason: expect.stringContaining('free text') });
  });

  it('MIB3 0250 against the custom range 0..0304 of CVE-2023-28902 needs review', () => {
    const [m] = find(matchSbom(hu, imp.vulnerabilities, { csaf: imp.csaf }), 'CVE-2023-28902', 'SPDXRef-mib3');
    expect(m).toMatchObject({ result: 'needs_review', basis: 'cve5-product', reason: expect.stringContaining('custom') });
  });

  it('Bosch infotainment ECU 283C30861E is affected by CVE-2025-32057 and CVE-2025-32063 (exact CNA versions), on a name basis', () => {
    const ms = matchSbom(hu, imp.vulnerabilities, { csaf: imp.csaf }).filter((m) => m.componentRef === 'SPDXRef-infotainment-ecu');
    expect(ms.map((m) => [m.vulnerabilityId, m.result, m.basis, m.confidence]).sort()).toEqual([
      ['CVE-2025-32057', 'affected', 'cve5-product', 0.6],
      ['CVE-2025-32063', 'affected', 'cve5-product', 0.6],
    ]);
  });

  it('the AUTOSAR gateway vendor stack matches nothing in these records', () => {
    expect(matchSbom(cgw, imp.vulnerabilities, { csaf: imp.csaf, vex: imp.vex })).toEqual([]);
  });

  it('across all three SBOMs, nothing is affected on a custom, free-text, ANY/NA or description basis', () => {
    const all = [tcu, hu, cgw].flatMap((s) => matchSbom(s, imp.vulnerabilities, { csaf: imp.csaf, vex: imp.vex }));
    const affected = all.filter((m) => m.result === 'affected');
    expect(affected.length).toBe(5);
    for (const m of affected) {
      expect(m.basis).not.toBe('description-only');
      expect(m.reason).not.toMatch(/custom|free text|\(ANY|\(NA\)/);
    }
  });

  it('an analyst VEX decision for the kernel overrides the computed result and keeps it', () => {
    const decision: VexStatement = {
      vulnerabilityId: 'CVE-2017-1000251',
      productId: 'linux-kernel',
      product: { cpe: 'cpe:2.3:o:linux:linux_kernel:4.9.30:*:*:*:*:*:*:*' },
      status: 'not_affected',
      statedStatus: 'not_affected',
      justification: 'vulnerable_code_not_present',
      source: { kind: 'cyclonedx-vex', document: 'analyst decisions' },
    };
    const ms = matchSbom(tcu, imp.vulnerabilities, { csaf: imp.csaf, vex: [...imp.vex, decision] });
    expect(find(ms, 'CVE-2017-1000251', 'linux-kernel')).toMatchObject([{ result: 'not_affected', vex: { computed: 'affected', justification: 'vulnerable_code_not_present' } }]);
    // the bluez match of the same CVE is another component identity: untouched
    expect(find(ms, 'CVE-2017-1000251', 'bluez')[0]!.result).toBe('needs_review');
  });
});
