import { describe, expect, it } from 'vitest';
import { parseCve5 } from './cve5.js';

const record = (cna: Record<string, unknown>, state = 'PUBLISHED'): Record<string, unknown> => ({
  dataType: 'CVE_RECORD',
  dataVersion: '5.1',
  cveMetadata: { cveId: 'CVE-2025-10001', assignerOrgId: '00000000-0000-4000-8000-000000000001', state, datePublished: '2025-02-01T00:00:00Z' },
  containers: { cna: { providerMetadata: { orgId: '00000000-0000-4000-8000-000000000001', shortName: 'ExampleCNA' }, ...cna } },
});
const base = { descriptions: [{ lang: 'en', value: 'Heap overflow in the telematics unit.' }], references: [{ url: 'https://example.com/advisory' }] };

describe('CVE JSON 5 version semantics are kept as written', () => {
  it('changes, package-style entries (collectionURL + packageName), CNA CPEs, platforms, CVSS 4.0', () => {
    const r = parseCve5(
      record({
        ...base,
        affected: [
          {
            vendor: 'Example',
            product: 'TCU firmware',
            cpes: ['cpe:2.3:o:example:tcu_firmware:*:*:*:*:*:*:*:*'],
            platforms: ['ARM'],
            defaultStatus: 'unaffected',
            versions: [{ version: '3.0', lessThan: '3.*', versionType: 'semver', status: 'affected', changes: [{ at: '3.2.1', status: 'unaffected' }, { at: '3.4.0', status: 'affected' }] }],
          },
          { collectionURL: 'https://registry.npmjs.org', packageName: 'can-parser', versions: [{ version: '1.0.0', lessThanOrEqual: '1.4.2', versionType: 'semver', status: 'affected' }] },
        ],
        metrics: [{ cvssV4_0: { version: '4.0', vectorString: 'CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', baseScore: 8.7, baseSeverity: 'HIGH' } }],
        problemTypes: [{ descriptions: [{ lang: 'en', type: 'CWE', cweId: 'CWE-122', description: 'CWE-122 Heap-based Buffer Overflow' }] }],
      }),
      'c.json',
    );
    expect(r.report).toEqual([{ document: 'c.json', format: 'cve5', recordId: 'CVE-2025-10001', status: 'ok', problems: [] }]);
    const v = r.vulnerabilities[0]!;
    const [tcu, pkg] = v.affected;
    expect(tcu).toMatchObject({ basis: 'cpe', cpe: 'cpe:2.3:o:example:tcu_firmware:*:*:*:*:*:*:*:*', vendor: 'Example', product: 'TCU firmware', platforms: ['ARM'], defaultStatus: 'unaffected' });
    expect(tcu!.versions).toEqual([
      { version: '3.0', lessThan: '3.*', versionType: 'semver', status: 'affected', changes: [{ at: '3.2.1', status: 'unaffected' }, { at: '3.4.0', status: 'affected' }] },
    ]);
    expect(pkg).toMatchObject({ basis: 'cve5-product', collectionURL: 'https://registry.npmjs.org', packageName: 'can-parser' });
    expect(pkg!.vendor).toBeUndefined();
    expect(v.cvss).toEqual([expect.objectContaining({ version: '4.0', baseScore: 8.7, severity: 'HIGH', source: expect.objectContaining({ kind: 'cve5-cna', provider: 'ExampleCNA' }) })]);
    expect(v.cwes.map((c) => c.cwe)).toEqual(['CWE-122']);
    expect(v.published).toBe('2025-02-01T00:00:00Z');
  });

  it('schema rules: lessThan without versionType, an entry with neither vendor/product nor package, an unknown state', () => {
    const r = parseCve5(
      record(
        {
          ...base,
          affected: [
            { vendor: 'Example', product: 'HU', versions: [{ version: '1.0', lessThan: '2.0', status: 'affected' }] },
            { product: 'orphan', versions: [{ version: '1', status: 'affected' }] },
          ],
        },
        'RESERVED',
      ),
      'c.json',
    );
    expect(r.report[0]!.status).toBe('partial');
    expect(r.report[0]!.problems).toEqual([
      'cveMetadata.state "RESERVED" is not PUBLISHED or REJECTED: checked as PUBLISHED',
      'schema: cveMetadata.state: Invalid input: expected "PUBLISHED"',
      'schema: containers.cna.affected[0].versions[0]: lessThan/lessThanOrEqual require versionType',
      'schema: containers.cna.affected[1]: needs vendor and product, or collectionURL and packageName',
    ]);
    // still imported as written: the matcher decides what an untyped range means
    expect(r.vulnerabilities[0]!.affected[0]!.versions).toEqual([{ version: '1.0', lessThan: '2.0', status: 'affected' }]);
  });
});
