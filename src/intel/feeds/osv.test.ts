import { describe, expect, it } from 'vitest';
import { parseOsv } from './osv.js';

describe('OSV ranges', () => {
  it('GIT ranges keep their repo; SEMVER with last_affected and limit; records in an array each reported', () => {
    const r = parseOsv(
      [
        {
          schema_version: '1.6.0',
          id: 'OSV-2024-1',
          modified: '2024-05-01T00:00:00Z',
          affected: [
            {
              package: { ecosystem: 'GIT', name: 'https://github.com/bluez/bluez' },
              ranges: [{ type: 'GIT', repo: 'https://github.com/bluez/bluez', events: [{ introduced: '0' }, { fixed: '9f0e8e8c5fbd' }] }],
            },
            {
              package: { ecosystem: 'npm', name: 'can-parser', purl: 'pkg:npm/can-parser' },
              ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.2' }, { introduced: '2.0.0' }, { limit: '2.1.0' }] }],
              severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
            },
          ],
        },
        { id: 'OSV-2024-2', modified: '2024-05-01T00:00:00Z', affected: [{ package: { ecosystem: 'GIT', name: 'x' }, ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }] },
        { modified: '2024-05-01T00:00:00Z' },
      ],
      'osv.json',
    );
    expect(r.report.map((l) => [l.recordId, l.status])).toEqual([
      ['OSV-2024-1', 'ok'],
      ['OSV-2024-2', 'partial'],
      ['(record 2: no id)', 'rejected'],
    ]);
    expect(r.report[1]!.problems).toEqual(['schema: affected[0].ranges[0]: a GIT range needs repo']);
    const [git, npm] = r.vulnerabilities[0]!.affected;
    expect(git).toMatchObject({ basis: 'osv-package', ecosystem: 'GIT', ranges: [{ type: 'GIT', repo: 'https://github.com/bluez/bluez', events: [{ introduced: '0' }, { fixed: '9f0e8e8c5fbd' }] }] });
    expect(npm).toMatchObject({ basis: 'purl', purl: 'pkg:npm/can-parser', ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.2' }, { introduced: '2.0.0' }, { limit: '2.1.0' }] }] });
    expect(r.vulnerabilities[0]!.cvss[0]).toMatchObject({ baseScore: 8.8, severity: 'HIGH' });
  });
});
