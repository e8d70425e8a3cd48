import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { detectJson, detectText } from './detect.js';

const intel = dataset('intel', 'intel/feeds/detect.test.ts');
const EXPECTED: Record<string, string> = { cve5: 'cve5', nvd: 'nvd', csaf: 'csaf', osv: 'osv', stix: 'stix', cyclonedx: 'cyclonedx-vex' };

describe.skipIf(intel.skip)('format detection on the shared files, by content only', () => {
  it('every file of each folder is recognised as that folder\'s format', () => {
    let n = 0;
    for (const [folder, format] of Object.entries(EXPECTED)) {
      const walk = (dir: string): void => {
        for (const f of readdirSync(dir)) {
          const p = join(dir, f);
          if (statSync(p).isDirectory()) walk(p);
          else if (f.endsWith('.json')) {
            expect(detectJson(JSON.parse(readFileSync(p, 'utf8'))), p).toBe(format);
            n++;
          }
        }
      };
      walk(join(intel.path, folder));
    }
    expect(n).toBe(44);
    expect(detectJson(JSON.parse(readFileSync(join(intel.path, 'kev/known_exploited_vulnerabilities.json'), 'utf8')))).toBe('kev');
    expect(detectJson(JSON.parse(readFileSync(join(intel.path, 'kev/known_exploited_vulnerabilities_schema.json'), 'utf8')))).toBe('kev-schema');
    // the ATM matrix is not a feed
    expect(detectJson(JSON.parse(readFileSync(join(intel.path, 'atm/atm_v4.00.json'), 'utf8')))).toBe('unknown');
  });
});

describe('format detection on shapes not in the datasets', () => {
  it('NVD paged response, {cve} item; OSV arrays; EPSS text; unknown things', () => {
    expect(detectJson({ resultsPerPage: 0, startIndex: 0, totalResults: 0, format: 'NVD_CVE', version: '2.0', vulnerabilities: [] })).toBe('nvd');
    expect(detectJson({ cve: { id: 'CVE-2024-0001' } })).toBe('nvd');
    expect(detectJson([{ id: 'GHSA-1', modified: '2024-01-01T00:00:00Z', affected: [] }])).toBe('osv');
    expect(detectJson([{ id: 'GHSA-1' }])).toBe('unknown');
    expect(detectJson({ type: 'indicator', id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' })).toBe('stix');
    expect(detectJson(null)).toBe('unknown');
    expect(detectJson('CVE-2024-0001')).toBe('unknown');
    expect(detectText('#model_version:v2023.03.01,score_date:2023-03-28T00:00:00+0000\ncve,epss,percentile\n')).toBe('epss');
    expect(detectText('cve,epss,percentile\nCVE-2024-0001,0.1,0.2\n')).toBe('epss');
    expect(detectText('name,value\n')).toBe('unknown');
  });
});
