import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import type { VersionRange } from '../model.js';
import { evaluateOsv } from './osv.js';

const osvDir = dataset('intel/osv', 'osv.test');

interface OsvAffected { package: { ecosystem: string; name: string }; ranges?: VersionRange[]; versions?: string[] }
const load = (file: string): OsvAffected[] => (JSON.parse(readFileSync(`${osvDir.path}/${file}`, 'utf8')) as { affected: OsvAffected[] }).affected;
const st = (v: string, a: OsvAffected): string => evaluateOsv(v, a.ranges ?? [], a.versions, a.package.ecosystem).status;

describe.skipIf(osvDir.skip)('OSV records from the shared datasets', () => {
  it('Maven ECOSYSTEM range introduced 2.5.0, fixed 2.5.16 (GHSA-mr95-9rr4-668f)', () => {
    const [akka] = load('full_ranges.osv.json');
    expect(st('2.5.0', akka!)).toBe('affected');
    expect(st('2.5.15', akka!)).toBe('affected');
    expect(st('2.5.16', akka!)).toBe('unaffected');
    expect(st('2.4.20', akka!)).toBe('unaffected');
    expect(evaluateOsv('2.5.16-RC1', akka!.ranges!, [], 'Maven')).toMatchObject({ status: 'unknown', reason: expect.stringContaining('Maven') });
  });

  it('npm SEMVER range from 0 (i18next)', () => {
    const [i18n] = load('less_than_equals_with_patch.osv.json');
    expect(st('0.1.0', i18n!)).toBe('affected');
    expect(st('1.10.2', i18n!)).toBe('affected');
    expect(st('1.10.3', i18n!)).toBe('unaffected');
  });

  it('an ecosystem without an implemented order (RubyGems) is unknown, never affected', () => {
    const [passenger] = load('multiple_ranges_in_package.osv.json');
    expect(evaluateOsv('4.0.2', passenger!.ranges!, [], 'RubyGems')).toMatchObject({ status: 'unknown', reason: expect.stringContaining('RubyGems') });
  });
});

describe('OSV evaluation', () => {
  // the passenger events, but in an ordered ecosystem: events out of order, two introduced
  const multi: VersionRange[] = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { introduced: '4.0.1' }, { fixed: '4.0.5' }, { fixed: '3.0.21' }] }];
  it('sorts events before walking them', () => {
    expect(evaluateOsv('3.0.20', multi, [], 'npm').status).toBe('affected');
    expect(evaluateOsv('3.5.0', multi, [], 'npm').status).toBe('unaffected');
    expect(evaluateOsv('4.0.1', multi, [], 'npm').status).toBe('affected');
    expect(evaluateOsv('4.0.5', multi, [], 'npm').status).toBe('unaffected');
  });

  it('last_affected includes its version; limit caps the range', () => {
    const la: VersionRange[] = [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.2' }] }];
    expect(evaluateOsv('1.4.2', la).status).toBe('affected');
    expect(evaluateOsv('1.4.3', la).status).toBe('unaffected');
    const lim: VersionRange[] = [{ type: 'SEMVER', events: [{ introduced: '0' }, { limit: '2.0.0' }] }];
    expect(evaluateOsv('1.9.9', lim).status).toBe('affected');
    expect(evaluateOsv('2.0.0', lim).status).toBe('unaffected');
  });

  it('Debian ecosystem uses dpkg order', () => {
    const deb: VersionRange[] = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1.1n-0+deb11u5' }] }];
    expect(evaluateOsv('1.1.1n-0+deb11u4', deb, [], 'Debian:11').status).toBe('affected');
    expect(evaluateOsv('1.1.1n-0+deb11u5', deb, [], 'Debian:11').status).toBe('unaffected');
    expect(evaluateOsv('1.1.1n~rc1', deb, [], 'Debian:11').status).toBe('affected');
  });

  it('GIT: only commits named in the events (or listed versions) are decided', () => {
    const git: VersionRange[] = [{ type: 'GIT', repo: 'https://git.kernel.org/x', events: [{ introduced: '4b6346dc1edf0a1b' }, { fixed: '61ac7284346c32f1' }] }];
    expect(evaluateOsv('4b6346dc1edf', git).status).toBe('affected');
    expect(evaluateOsv('61ac7284346c32f1', git).status).toBe('unaffected');
    expect(evaluateOsv('deadbeefcafe', git)).toMatchObject({ status: 'unknown', reason: expect.stringContaining('history') });
    expect(evaluateOsv('deadbeefcafe', git, ['deadbeefcafe']).status).toBe('affected');
  });
});
