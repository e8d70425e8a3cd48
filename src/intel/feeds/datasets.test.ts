/**
 * Every shared intel file (../shared/datasets/intel, except atm/ — the ATM matrix — and the
 * CycloneDX SBOMs, which the SBOM importer reads) goes through importFeedDocuments as one
 * feed, and facts read off the files themselves come out.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import type { IntelImport, Vulnerability } from '../model.js';
import { importFeedDocuments, type FeedDocument } from './index.js';

const intel = dataset('intel', 'intel/feeds/datasets.test.ts');

function feedFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      const rel = relative(root, p);
      if (statSync(p).isDirectory()) {
        if (rel !== 'atm') walk(p);
      } else if (rel.endsWith('.json') && (!rel.startsWith('cyclonedx/') || rel.startsWith('cyclonedx/VEX_CISA_'))) out.push(rel);
    }
  };
  walk(root);
  return out;
}

describe.skipIf(intel.skip)('the shared intel datasets as one feed', () => {
  let files: string[];
  let r: IntelImport;
  const vuln = (id: string): Vulnerability => {
    const v = r.vulnerabilities.find((x) => x.id === id);
    if (!v) throw new Error(`${id} not imported`);
    return v;
  };

  beforeAll(() => {
    files = feedFiles(intel.path);
    const docs: FeedDocument[] = files.map((f) => ({ name: f, text: readFileSync(join(intel.path, f), 'utf8') }));
    r = importFeedDocuments(docs);
  });

  it('imports every file: each has report lines, none rejected', () => {
    expect(files.length).toBe(44); // 21 CVE 5, 5 NVD, 7 CSAF, 4 OSV, 2 KEV (catalog + schema), 3 STIX, 2 CycloneDX VEX
    for (const f of files) {
      const lines = r.report.filter((l) => l.document === f);
      expect(lines.length, f).toBeGreaterThan(0);
      expect(lines.filter((l) => l.status === 'rejected'), f).toEqual([]);
    }
    expect(new Set(r.report.map((l) => l.format))).toEqual(new Set(['cve5', 'nvd', 'csaf', 'osv', 'kev', 'stix', 'cyclonedx-vex']));
  });

  it('KEV: 1,404 entries, validated with the catalog schema shipped beside it, each a record', () => {
    const kev = r.report.filter((l) => l.document === 'kev/known_exploited_vulnerabilities.json');
    expect(kev.filter((l) => l.recordId.startsWith('CVE-'))).toHaveLength(1404);
    expect(kev.every((l) => l.status === 'ok')).toBe(true);
    expect(kev[0]!.notes).toEqual(['1404 entries; validated with the catalog JSON schema (ajv)']);
    const log4shell = vuln('CVE-2021-44228');
    expect(log4shell.kev).toMatchObject({ dateAdded: '2021-12-10', dueDate: '2021-12-24', knownRansomware: true, vendorProject: 'Apache', catalogVersion: '2025.08.25' });
    expect(r.vulnerabilities.filter((v) => v.kev?.knownRansomware)).toHaveLength(293);
  });

  it('CVE-2024-26925: git ranges and custom (not semver) ranges with `*` upper bounds, kept as written', () => {
    const v = vuln('CVE-2024-26925');
    const [git, custom] = v.affected;
    expect(git).toMatchObject({ basis: 'cve5-product', vendor: 'Linux', product: 'Linux', defaultStatus: 'unaffected', repo: 'https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git' });
    expect(git!.versions).toHaveLength(7);
    expect(git!.versions[0]).toEqual({ version: '4b6346dc1edf', lessThan: '61ac7284346c', status: 'affected', versionType: 'git' });
    expect(custom!.defaultStatus).toBe('affected');
    expect(custom!.versions).toContainEqual({ version: '6.1.86', lessThanOrEqual: '6.1.*', status: 'unaffected', versionType: 'custom' });
    expect(custom!.versions).toContainEqual({ version: '6.9', lessThanOrEqual: '*', status: 'unaffected', versionType: 'original_commit_for_fix' });
    expect(custom!.versions[0]).toEqual({ version: '6.5', status: 'affected' });
  });

  it('CVE-2023-32156: CNA, CISA-ADP and NVD merged into one, each attributed; the ADP custom range kept as custom', () => {
    const v = vuln('CVE-2023-32156');
    expect(v.sources.map((s) => `${s.kind}:${s.provider}`)).toEqual(['cve5-cna:zdi', 'cve5-adp:CISA-ADP', 'cve5-adp:CVE', 'nvd:zdi-disclosures@trendmicro.com']);
    const cna = v.affected.find((a) => a.source.kind === 'cve5-cna')!;
    expect(cna).toMatchObject({ vendor: 'Tesla', product: 'Model 3', freeText: true, rawVersions: ['Model 3 - 2023.6'], defaultStatus: 'unknown' });
    const adp = v.affected.find((a) => a.source.provider === 'CISA-ADP')!;
    expect(adp).toMatchObject({ basis: 'cpe', cpe: 'cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*', defaultStatus: 'unknown' });
    expect(adp.versions).toEqual([{ version: '-', lessThan: '2023.12', status: 'affected', versionType: 'custom' }]);
    expect(adp.freeText).toBeUndefined();
    expect(v.ssvc).toMatchObject([{ exploitation: 'none', automatable: 'no', technicalImpact: 'total', source: { provider: 'CISA-ADP' } }]);
    expect(v.cvss.map((c) => [c.source.kind, c.vector, c.baseScore])).toEqual([
      ['cve5-cna', 'CVSS:3.0/AV:A/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9],
      ['nvd', 'CVSS:3.0/AV:A/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9],
    ]);
    // NVD has no configurations for it: no CPE entries from NVD
    expect(v.affected.filter((a) => a.source.kind === 'nvd')).toEqual([]);
  });

  it('CVE-2021-23906: a non-canonical CVSS vector is normalized, scored, and the record still imports', () => {
    const v = vuln('CVE-2021-23906');
    expect(v.cvss).toEqual([
      expect.objectContaining({
        version: '3.1',
        vector: 'CVSS:3.1/AV:P/AC:H/PR:N/UI:R/S:U/C:N/I:L/A:N',
        statedVector: 'CVSS:3.1/AC:H/AV:P/A:N/C:N/I:L/PR:N/S:U/UI:R',
        baseScore: 1.8,
        severity: 'LOW',
      }),
    ]);
    const line = r.report.find((l) => l.document === 'cve5/CVE-2021-23906.json')!;
    expect(line.status).toBe('ok');
    expect(line.notes?.[0]).toMatch(/normalized to 'CVSS:3.1\/AV:P\/AC:H/);
  });

  it('CVE-2017-1000251: CNA says n/a, NVD has kernel CPE ranges; CNA 5.0 record, NVD v2 and v3.1 scores', () => {
    const v = vuln('CVE-2017-1000251');
    const cna = v.affected.filter((a) => a.source.kind === 'cve5-cna');
    expect(cna).toMatchObject([{ vendor: 'n/a', product: 'n/a', freeText: true, rawVersions: ['n/a'] }]);
    const nvd = v.affected.filter((a) => a.source.kind === 'nvd');
    expect(nvd.length).toBeGreaterThan(5);
    expect(nvd[0]).toMatchObject({
      basis: 'cpe',
      cpe: 'cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*',
      vendor: 'linux',
      product: 'linux_kernel',
      vulnerable: true,
      versionStartIncluding: '2.6.32',
      versionEndExcluding: '3.2.94',
      nvdConfiguration: { config: 0, node: 0, operator: 'OR', negate: false },
    });
    expect(v.cvss.map((c) => `${c.version} ${c.baseScore}`)).toEqual(['3.1 8', '2.0 7.7']);
  });

  it('CVE-2021-22156: NVD cpeMatch version bounds (versionEndExcluding / versionEndIncluding) beside the CNA free text', () => {
    const v = vuln('CVE-2021-22156');
    const ends = v.affected.filter((a) => a.source.kind === 'nvd').map((a) => [a.product, a.versionEndExcluding ?? a.versionEndIncluding ?? null]);
    expect(ends).toContainEqual(['qnx_software_development_platform', '6.5.0']);
    expect(ends).toContainEqual(['qnx_os_for_medical', '1.1.1']);
    const cna = v.affected.find((a) => a.source.kind === 'cve5-cna')!;
    expect(cna.rawVersions).toContain('QNX SDP 6.5.0 SP1 and earlier');
    expect(cna.freeText).toBe(true);
  });

  it('CVE-2020-11292: a chipset list in the version field is kept as raw text, not read as versions', () => {
    const v = vuln('CVE-2020-11292');
    const a = v.affected[0]!;
    expect(a.freeText).toBe(true);
    expect(a.rawVersions?.[0]).toMatch(/^APQ8009, APQ8009W, APQ8017, /);
  });

  it('CSAF ICSA-17-208-01: product tree branches and product_status for a named product', () => {
    const doc = r.csaf.find((d) => d.trackingId === 'ICSA-17-208-01')!;
    expect(Object.keys(doc.products)).toHaveLength(14);
    expect(doc.products['CSAFPID-0002']).toMatchObject({ name: 'Infiniti: 2014-2016 Q70', productName: 'Infiniti Q70', version: '2014-2016' });
    const s = doc.productStatus.find((p) => p.vulnerabilityId === 'CVE-2017-9647')!;
    expect(s.status.known_affected).toContain('CSAFPID-0002');
    // the CSAF statement joins the CVE 5 and NVD records of the same CVE
    const v = vuln('CVE-2017-9647');
    expect(new Set(v.sources.map((x) => x.kind))).toEqual(new Set(['cve5-cna', 'cve5-adp', 'nvd', 'csaf']));
    expect(v.affected.find((a) => a.csafProductId === 'CSAFPID-0002')).toMatchObject({
      basis: 'csaf-product',
      product: 'Infiniti Q70',
      versions: [{ version: '2014-2016', status: 'affected', versionType: 'csaf' }],
    });
    expect(r.vex.find((x) => x.vulnerabilityId === 'CVE-2017-9647' && x.productId === 'CSAFPID-0002')).toMatchObject({ status: 'affected', statedStatus: 'known_affected' });
  });

  it('CSAF VEX: not affected with its impact statement; affected with its action; per document', () => {
    const na = r.vex.filter((x) => x.source.document === 'csaf/oasis_csaf_vex/2022-evd-uc-01-na-001.json');
    expect(na).toEqual([
      expect.objectContaining({ vulnerabilityId: 'CVE-2021-44228', productId: 'CSAFPID-0001', status: 'not_affected', impact: 'Class with vulnerable code was removed before shipping.' }),
    ]);
    expect(na[0]!.product).toMatchObject({ vendor: 'Example Company', productName: 'ABC', version: '4.2' });
    const ms = r.vex.filter((x) => x.source.document === 'csaf/oasis_csaf_vex/2022-evd-uc-03-ms-001.json');
    expect(ms).toHaveLength(19);
    const counts = Object.fromEntries(['affected', 'not_affected', 'fixed', 'under_investigation'].map((s) => [s, ms.filter((x) => x.status === s).length]));
    expect(counts).toEqual({ affected: 5, not_affected: 6, fixed: 3, under_investigation: 5 });
    expect(ms.find((x) => x.vulnerabilityId === 'CVE-2020-11898')!.action).toMatch(/^none_available: /);
  });

  it('CycloneDX VEX (CISA case 1): analysis becomes a VEX statement on the resolved bom-ref', () => {
    const cdx = r.vex.filter((x) => x.source.kind === 'cyclonedx-vex');
    expect(cdx).toEqual([
      expect.objectContaining({
        vulnerabilityId: 'CVE-2021-44228',
        productId: 'product-ABC',
        product: { name: 'ABC', version: '4.2' },
        status: 'not_affected',
        justification: 'code_not_present',
        responses: ['will_not_fix'],
      }),
    ]);
    // the rating's bare v3.1 vector is scored like any other
    expect(vuln('CVE-2021-44228').cvss.find((c) => c.source.kind === 'cyclonedx-vex')).toMatchObject({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', baseScore: 10, source: { provider: 'NVD' } });
  });

  it('OSV: GHSA records take their CVE alias as id; ECOSYSTEM events; withdrawn record kept and flagged', () => {
    const akka = vuln('CVE-2018-16115');
    expect(akka.aliases).toContain('GHSA-mr95-9rr4-668f');
    expect(akka.affected).toHaveLength(2);
    expect(akka.affected[0]).toMatchObject({ basis: 'osv-package', ecosystem: 'Maven', packageName: 'com.typesafe.akka:akka-actor_2.12', ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.5.0' }, { fixed: '2.5.16' }] }] });
    expect(akka.cvss[0]).toMatchObject({ version: '3.0', baseScore: 9.1, statedScore: 9.1 });
    const withdrawn = vuln('CVE-2015-3227');
    expect(withdrawn.withdrawn).toMatchObject({ at: '2018-10-11T17:29:49Z', source: { kind: 'osv' } });
    expect(withdrawn.affected[0]!.ranges[0]!.events).toEqual([{ introduced: '3.2.0' }, { fixed: '3.2.22' }, { introduced: '4.2.0' }, { fixed: '4.2.2' }, { introduced: '4.0.0' }, { fixed: '4.1.11' }]);
    // `description` instead of `details` in these GHSA test files: read, and reported
    expect(r.report.find((l) => l.recordId === 'GHSA-35c4-f3rq-f9g3')).toMatchObject({ status: 'partial', problems: ["non-standard field 'description' read as details"] });
  });

  it('STIX: indicators with their parsed IP, URL and SHA-256; relationships to malware', () => {
    const byName = new Map(r.indicators.map((i) => [i.name, i]));
    expect(byName.get('IP Address for known C2 channel')!.parsed!.anyOf).toEqual([[{ kind: 'ipv4', path: 'ipv4-addr:value', operator: '=', value: '10.0.0.0' }]]);
    expect(byName.get('IP Address for known C2 channel')).toMatchObject({ patternType: 'stix', indicatorTypes: ['malicious-activity'], validFrom: '2014-05-08T09:00:00.000000Z' });
    const url = byName.get('Malicious site hosting downloader')!;
    expect(url.parsed!.anyOf).toEqual([[{ kind: 'url', path: 'url:value', operator: '=', value: 'http://x4z9arb.cn/4712/' }]]);
    expect(url.indicates).toEqual([{ id: 'malware--162d917e-766f-4611-b5d6-652791454fca', type: 'malware', name: 'x4z9arb backdoor' }]);
    const hash = byName.get('File hash for Poison Ivy variant')!;
    expect(hash.parsed!.anyOf[0]![0]).toMatchObject({ kind: 'file-hash', hashAlgorithm: 'SHA-256', value: 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c' });
    expect(hash.labels).toEqual(['malicious-activity']);
  });
});
