import { describe, expect, it } from 'vitest';
import type { AffectedEntry, SourceRef, Vulnerability } from '../model.js';
import { scoreCvss } from './cvss.js';
import { importFeedDocuments } from './index.js';
import { mergeVulnerabilities } from './merge.js';

const ref = (kind: SourceRef['kind'], provider?: string): SourceRef => ({ kind, document: `${kind}.json`, ...(provider ? { provider } : {}) });
const entry = (s: SourceRef): AffectedEntry => ({ basis: 'cve5-product', source: s, vendor: 'v', product: 'p', versions: [], ranges: [] });
const vuln = (id: string, s: SourceRef, extra: Partial<Vulnerability> = {}): Vulnerability => ({
  id,
  aliases: [],
  sources: [s],
  cvss: [],
  ssvc: [],
  cwes: [],
  references: [],
  affected: [entry(s)],
  ...extra,
});

describe('merging records about one vulnerability', () => {
  it('CNA and NVD disagreeing on CVSS: both scores kept, the disagreement listed; CNA text wins', () => {
    const cna = ref('cve5-cna', 'bosch');
    const nvd = ref('nvd', 'nvd@nist.gov');
    const [m, ...rest] = mergeVulnerabilities([
      vuln('CVE-2025-0001', nvd, { description: 'NVD text', modified: '2025-03-01', cvss: [scoreCvss({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, nvd)] }),
      vuln('CVE-2025-0001', cna, { description: 'CNA text', modified: '2025-01-01', cvss: [scoreCvss({ vector: 'CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, cna)] }),
    ]);
    expect(rest).toEqual([]);
    expect(m!.description).toBe('CNA text');
    expect(m!.descriptions).toEqual([{ text: 'NVD text', source: nvd }]);
    expect(m!.modified).toBe('2025-03-01');
    expect(m!.cvss.map((c) => c.baseScore)).toEqual([9.8, 6.8]);
    expect(m!.affected.map((a) => a.source.kind)).toEqual(['nvd', 'cve5-cna']);
    expect(m!.disagreements).toEqual(['CVSS 3.x severity: nvd (nvd@nist.gov) 9.8 CRITICAL; cve5-cna (bosch) 6.8 MEDIUM']);
  });

  it('a GHSA aliasing the CVE joins it; withdrawn on its own, it marks only its entries', () => {
    const osv = ref('osv', 'GHSA');
    const [m] = mergeVulnerabilities([
      vuln('CVE-2015-3227', ref('cve5-cna')),
      vuln('CVE-2015-3227', osv, { aliases: ['GHSA-35c4-f3rq-f9g3'], withdrawn: { at: '2018-10-11', source: osv } }),
    ]);
    expect(m!.aliases).toEqual(['GHSA-35c4-f3rq-f9g3']);
    expect(m!.withdrawn).toBeUndefined();
    expect(m!.affected.map((a) => [a.source.kind, a.withdrawn ?? false])).toEqual([
      ['cve5-cna', false],
      ['osv', true],
    ]);
  });

  it('a record with only an advisory id joins the CVE through a shared alias; two CVE ids never join', () => {
    const merged = mergeVulnerabilities([
      vuln('GHSA-xxxx-yyyy-zzzz', { ...ref('osv'), recordId: 'GHSA-xxxx-yyyy-zzzz' }),
      vuln('CVE-2024-0002', { ...ref('osv'), recordId: 'OSV-2024-0002' }, { aliases: ['GHSA-xxxx-yyyy-zzzz', 'CVE-2024-0003'] }),
      vuln('CVE-2024-0003', ref('nvd')),
    ]);
    expect(merged.map((v) => [v.id, v.sources.length])).toEqual([
      ['CVE-2024-0002', 2],
      ['CVE-2024-0003', 1],
    ]);
    expect(merged[0]!.affected).toHaveLength(2);
  });

  it('CVE 5 REJECTED while NVD still lists it: withdrawn, and the disagreement said', () => {
    const cna = ref('cve5-cna');
    const [m] = mergeVulnerabilities([vuln('CVE-2024-0004', cna, { withdrawn: { reason: 'duplicate', source: cna } }), vuln('CVE-2024-0004', ref('nvd'))]);
    expect(m!.withdrawn?.reason).toBe('duplicate');
    expect(m!.disagreements).toEqual(['withdrawn by cve5-cna but not by nvd']);
  });

  it('the same document imported twice gives the same vulnerability, not doubled statements', () => {
    const nvd = ref('nvd');
    const one = vuln('CVE-2024-0006', nvd, { cvss: [scoreCvss({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, nvd)] });
    const [m] = mergeVulnerabilities([one, structuredClone(one)]);
    expect([m!.sources.length, m!.cvss.length, m!.affected.length]).toEqual([1, 1, 1]);
  });

  it('KEV and EPSS enrich the CVE record imported from other feeds', () => {
    const kev = { title: 't', catalogVersion: '1', dateReleased: '2025-01-01T00:00:00Z', count: 1, vulnerabilities: [{ cveID: 'CVE-2024-0005', vendorProject: 'V', product: 'P', vulnerabilityName: 'N', dateAdded: '2025-01-01', shortDescription: 'd', requiredAction: 'a', dueDate: '2025-01-22', knownRansomwareCampaignUse: 'Unknown' }] };
    const osv = { id: 'GHSA-1111-2222-3333', modified: '2025-01-01T00:00:00Z', aliases: ['CVE-2024-0005'], affected: [{ package: { ecosystem: 'npm', name: 'n', purl: 'pkg:npm/n' }, versions: ['1.0.0'] }] };
    const r = importFeedDocuments([
      { name: 'kev.json', text: JSON.stringify(kev) },
      { name: 'osv.json', text: JSON.stringify(osv) },
      { name: 'epss.csv', text: 'cve,epss,percentile\nCVE-2024-0005,0.2,0.9\n' },
    ]);
    expect(r.vulnerabilities).toHaveLength(1);
    const v = r.vulnerabilities[0]!;
    expect(v).toMatchObject({ id: 'CVE-2024-0005', aliases: ['GHSA-1111-2222-3333'], kev: { knownRansomware: false, dueDate: '2025-01-22' }, epss: { score: 0.2, percentile: 0.9 } });
    expect(v.affected).toEqual([expect.objectContaining({ basis: 'purl', purl: 'pkg:npm/n', explicitVersions: ['1.0.0'] })]);
    expect(v.sources.map((s) => s.kind)).toEqual(['kev', 'osv', 'epss']);
    expect(r.report.every((l) => l.status === 'ok')).toBe(true);
  });
});
