import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { parseCve5 } from '../feeds/cve5.js';
import type { VersionClause, Vulnerability } from '../model.js';
import { evaluateCve5 } from './cve5.js';

const status = (o: ReturnType<typeof evaluateCve5>): string => (o.determined ? o.status : `undetermined:${[...o.possible].sort().join('|')}`);

describe('CVE 5 version semantics', () => {
  it('first matching entry wins, even when a later entry says otherwise', () => {
    const versions: VersionClause[] = [
      { version: '1.2.0', lessThan: '1.3.0', status: 'unaffected', versionType: 'semver' },
      { version: '1.0.0', lessThan: '2.0.0', status: 'affected', versionType: 'semver' },
    ];
    expect(evaluateCve5('1.2.5', versions, 'unknown')).toMatchObject({ determined: true, status: 'unaffected', via: 'range', clause: 0 });
    expect(evaluateCve5('1.1.0', versions, 'unknown')).toMatchObject({ determined: true, status: 'affected', clause: 1 });
    // reversed order, reversed answer
    expect(evaluateCve5('1.2.5', [...versions].reverse(), 'unknown')).toMatchObject({ status: 'affected', clause: 0 });
  });

  it('lessThan excludes and lessThanOrEqual includes the bound; the lower bound is inclusive', () => {
    const lt: VersionClause[] = [{ version: '2.0.0', lessThan: '2.4.1', status: 'affected', versionType: 'semver' }];
    const le: VersionClause[] = [{ version: '2.0.0', lessThanOrEqual: '2.4.1', status: 'affected', versionType: 'semver' }];
    expect(status(evaluateCve5('2.4.1', lt, 'unaffected'))).toBe('unaffected');
    expect(status(evaluateCve5('2.4.1', le, 'unaffected'))).toBe('affected');
    expect(status(evaluateCve5('2.0.0', lt, 'unaffected'))).toBe('affected');
    expect(status(evaluateCve5('1.9.9', lt, 'unaffected'))).toMatch('unaffected');
  });

  it('changes: the status moves at each `at` within the range', () => {
    const versions: VersionClause[] = [
      {
        version: '1.0.0',
        lessThan: '*',
        status: 'affected',
        versionType: 'semver',
        changes: [
          { at: '1.0.5', status: 'unaffected' },
          { at: '1.1.0', status: 'affected' },
          { at: '1.1.3', status: 'unaffected' },
        ],
      },
    ];
    expect(status(evaluateCve5('1.0.4', versions))).toBe('affected');
    expect(status(evaluateCve5('1.0.5', versions))).toBe('unaffected');
    expect(status(evaluateCve5('1.0.9', versions))).toBe('unaffected');
    expect(status(evaluateCve5('1.1.2', versions))).toBe('affected');
    expect(status(evaluateCve5('1.1.3', versions))).toBe('unaffected');
    expect(status(evaluateCve5('9.0.0', versions))).toBe('unaffected');
    expect(evaluateCve5('1.0.9', versions)).toMatchObject({ reason: expect.stringContaining('change at 1.0.5') });
  });

  it('`*` as the upper bound covers every version from `version` on; below it, defaultStatus', () => {
    const versions: VersionClause[] = [{ version: '3.1.0', lessThanOrEqual: '*', status: 'affected', versionType: 'semver' }];
    expect(status(evaluateCve5('3.1.0', versions, 'unaffected'))).toBe('affected');
    expect(status(evaluateCve5('99.0.0', versions, 'unaffected'))).toBe('affected');
    expect(evaluateCve5('3.0.9', versions, 'unaffected')).toMatchObject({ determined: true, status: 'unaffected', via: 'default' });
  });

  it('`x.y.*` bounds a release series (the Linux kernel CNA style) under an ordered scheme', () => {
    const versions: VersionClause[] = [
      { version: '5.4.274', lessThanOrEqual: '5.4.*', status: 'unaffected', versionType: 'semver' },
      { version: '5.4.0', lessThan: '5.4.274', status: 'affected', versionType: 'semver' },
    ];
    expect(status(evaluateCve5('5.4.300', versions, 'unknown'))).toBe('unaffected');
    expect(status(evaluateCve5('5.4.100', versions, 'unknown'))).toBe('affected');
    expect(status(evaluateCve5('5.10.1', versions, 'unknown'))).toBe('unknown');
  });

  it('exact entries match the version only; defaultStatus absent means unknown', () => {
    const versions: VersionClause[] = [{ version: '74.00.311A', status: 'affected' }];
    expect(evaluateCve5('74.00.311a', versions)).toMatchObject({ determined: true, status: 'affected', via: 'exact' });
    expect(evaluateCve5('74.00.312A', versions)).toMatchObject({ determined: true, status: 'unknown', via: 'default' });
  });

  it('a custom scheme is not compared: the answer is undetermined unless every possible outcome agrees', () => {
    // CVE-2023-28902 (MIB3): 0 <= v <= 0304, custom, defaultStatus unaffected
    const mib3: VersionClause[] = [{ version: '0', lessThanOrEqual: '0304', status: 'affected', versionType: 'custom' }];
    const o = evaluateCve5('0250', mib3, 'unaffected');
    expect(o).toMatchObject({ determined: false, reasons: expect.arrayContaining([expect.stringContaining('custom')]) });
    expect(status(o)).toBe('undetermined:affected|unaffected');
    // every outcome is `affected`: then the custom range does not matter
    expect(status(evaluateCve5('0250', mib3, 'affected'))).toBe('affected');
  });

  it('git ranges: the introducing commit is in, the fixing commit is out, any other commit is undetermined', () => {
    const git: VersionClause[] = [{ version: '4b6346dc1edf', lessThan: '61ac7284346c', status: 'affected', versionType: 'git' }];
    expect(status(evaluateCve5('4b6346dc1edfa11', git, 'unaffected'))).toBe('affected');
    expect(status(evaluateCve5('61ac7284346c', git, 'unaffected'))).toBe('unaffected');
    expect(status(evaluateCve5('0123456789ab', git, 'unaffected'))).toBe('undetermined:affected|unaffected');
  });
});

const cve5Dir = dataset('intel/cve5', 'cve5 match test');
const record = (id: string): Vulnerability => parseCve5(JSON.parse(readFileSync(`${cve5Dir.path}/${id}.json`, 'utf8')), `cve5/${id}.json`).vulnerabilities[0]!;

describe.skipIf(cve5Dir.skip)('CVE 5 records of the shared datasets', () => {
  it('CVE-2024-26925 (Linux): the git product cannot place a release; the version product lists 6.5 exactly and custom ranges otherwise', () => {
    const [git, rel] = record('CVE-2024-26925').affected;
    expect(status(evaluateCve5('6.5', git!.versions, git!.defaultStatus))).toBe('undetermined:affected|unaffected');
    expect(evaluateCve5('6.5', rel!.versions, rel!.defaultStatus)).toMatchObject({ determined: true, status: 'affected', via: 'exact', clause: 0 });
    // 6.6.30 could be in the custom 6.6.26..6.6.* (unaffected) or fall to defaultStatus affected
    expect(status(evaluateCve5('6.6.30', rel!.versions, rel!.defaultStatus))).toBe('undetermined:affected|unaffected');
    // the fixing commit of a stable branch is outside its git range
    expect(evaluateCve5('61ac7284346c', git!.versions.slice(0, 1), git!.defaultStatus)).toMatchObject({ determined: true, status: 'unaffected', via: 'default' });
  });

  it('CVE-2023-28902 (MIB3): custom 0..0304 with defaultStatus unaffected stays undetermined for any version', () => {
    const [e] = record('CVE-2023-28902').affected;
    for (const v of ['0100', '0304', '0400']) expect(evaluateCve5(v, e!.versions, e!.defaultStatus).determined).toBe(false);
  });
});
