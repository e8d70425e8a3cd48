import { describe, expect, it } from 'vitest';
import { compareVersions, schemeForEcosystem, schemeForPurlType, schemeForVersionType, type VersionScheme } from './versions.js';

/** Asserts that the list is strictly ascending under the scheme (every pair, both ways). */
function ascending(scheme: VersionScheme, list: string[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = 0; j < list.length; j++) {
      const want = Math.sign(i - j);
      expect(compareVersions(scheme, list[i]!, list[j]!), `${list[i]} vs ${list[j]}`).toEqual({ known: true, order: want === 0 ? 0 : want });
    }
  }
}

describe('version schemes', () => {
  it('semver: strict, pre-releases before the release, no coercion', () => {
    ascending('semver', ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0']);
    expect(compareVersions('semver', '1.0', '1.0.0')).toEqual({ known: false, reason: expect.stringContaining('"1.0"') });
    expect(compareVersions('semver', 'v1.0.0', '1.0.0').known).toBe(false);
  });

  it('go: the v prefix is removed, pseudo-versions order as pre-releases', () => {
    ascending('go', ['v0.0.0-20210101000000-abcdefabcdef', 'v0.1.0', 'v1.2.3', 'v2.0.0']);
    expect(compareVersions('go', 'v1.2.3', '1.2.3')).toEqual({ known: true, order: 0 });
  });

  it('PEP 440: dev < pre < release < post, epochs, normalisation of spellings, local versions', () => {
    ascending('pypi', ['1.0.dev0', '1.0a1', '1.0b2', '1.0rc1', '1.0', '1.0.post1', '1.0.post2.dev1', '1.0.post2', '1.1', '1!0.5']);
    expect(compareVersions('pypi', '1.0', '1.0.0')).toEqual({ known: true, order: 0 });
    expect(compareVersions('pypi', '1.0ALPHA1', '1.0a1')).toEqual({ known: true, order: 0 });
    expect(compareVersions('pypi', '1.0-1', '1.0.post1')).toEqual({ known: true, order: 0 });
    expect(compareVersions('pypi', '1.0+abc', '1.0')).toEqual({ known: true, order: 1 });
    expect(compareVersions('pypi', '1.0+abc.5', '1.0+abc.foo')).toEqual({ known: true, order: 1 });
    expect(compareVersions('pypi', 'not a version', '1.0').known).toBe(false);
  });

  it('Debian: dpkg ordering with epochs, tilde before anything, revisions', () => {
    ascending('debian', ['1.0~rc1', '1.0', '1.0-1', '1.0-1+deb11u1', '1.0a', '1.0.1', '1.1.1n-0+deb11u4', '1.1.1n-0+deb11u5', '2:0.1']);
    expect(compareVersions('debian', '5.50-1.2', '5.50-1.2')).toEqual({ known: true, order: 0 });
    expect(compareVersions('debian', '1.2.3~bpo1', '1.2.3')).toEqual({ known: true, order: -1 });
    expect(compareVersions('debian', '0010', '10')).toEqual({ known: true, order: 0 });
    expect(compareVersions('debian', 'abc', '1.0')).toEqual({ known: false, reason: expect.stringContaining('digit') });
  });

  it('maven and numeric: dotted numbers only, trailing zeros ignored; qualifiers are unknown', () => {
    ascending('maven', ['2.5.0', '2.5.1', '2.5.16']);
    expect(compareVersions('maven', '2.5', '2.5.0')).toEqual({ known: true, order: 0 });
    expect(compareVersions('maven', '2.5.0-RC1', '2.5.0').known).toBe(false);
    ascending('numeric', ['2.6.32', '3.2.94', '4.9.30', '4.9.50', '4.13.2']);
    expect(compareVersions('numeric', '2022-03-26', '2023.12').known).toBe(false);
  });

  it('git and custom never order', () => {
    expect(compareVersions('git', '4b6346dc1edf', '61ac7284346c')).toEqual({ known: false, reason: expect.stringContaining('repository') });
    expect(compareVersions('custom', '0304', '0305')).toEqual({ known: false, reason: expect.stringContaining('custom') });
  });

  it('maps ecosystems, purl types and CVE 5 version types to schemes', () => {
    expect(schemeForEcosystem('Debian:11')).toBe('debian');
    expect(schemeForEcosystem('crates.io')).toBe('semver');
    expect(schemeForEcosystem('Alpine:v3.18')).toBe('custom');
    expect(schemeForPurlType('deb')).toBe('debian');
    expect(schemeForPurlType('generic')).toBe('numeric');
    expect(schemeForVersionType('custom')).toBe('custom');
    expect(schemeForVersionType('rpm')).toBe('custom');
    expect(schemeForVersionType(undefined)).toBe('custom');
  });
});
