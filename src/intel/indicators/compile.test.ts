import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { importFeedDocuments } from '../feeds/index.js';
import { parseStixPattern } from '../feeds/stix-pattern.js';
import type { Indicator } from '../model.js';
import { compileIndicators, type Fact } from './compile.js';

const T = Date.parse('2026-12-01T12:00:00Z');

function ind(id: string, pattern: string, extra: Partial<Indicator> = {}): Indicator {
  return {
    id: `indicator--${id.padStart(8, '0')}-0000-4000-8000-000000000000`, pattern, patternType: 'stix', parsed: parseStixPattern(pattern),
    labels: [], indicatorTypes: [], killChain: [], indicates: [], vulnerabilities: [], source: { kind: 'stix', document: 'test' }, ...extra,
  };
}
const ip = (value: string, field = 'sourceIp'): Fact => ({ kind: 'ip', field, value });
const dom = (value: string, field = 'context.domain'): Fact => ({ kind: 'domain', field, value });
const ids = (set: ReturnType<typeof compileIndicators>, facts: Fact[], time = T): string[] => set.match(facts, time).map((h) => h.indicator.id.slice(11, 19).replace(/^0+/, ''));

describe('compiled indicators', () => {
  it('matches IPv4 addresses exactly and CIDR blocks by prefix, the longest and shortest alike', () => {
    const set = compileIndicators([
      ind('1', "[ipv4-addr:value = '198.51.100.7']"),
      ind('2', "[ipv4-addr:value = '203.0.113.0/24']"),
      ind('3', "[ipv4-addr:value = '192.0.2.128/25']"),
      ind('4', "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
      ind('5', "[ipv4-addr:value = '0.0.0.0/0']", { validFrom: '2030-01-01T00:00:00Z' }),
    ]);
    expect(ids(set, [ip('198.51.100.7')])).toEqual(['1']);
    expect(ids(set, [ip('198.51.100.8')])).toEqual([]);
    expect(ids(set, [ip('203.0.113.250')])).toEqual(['2']);
    expect(ids(set, [ip('192.0.2.129')])).toEqual(['3']);
    expect(ids(set, [ip('192.0.2.127')])).toEqual([]);
    expect(ids(set, [ip('10.200.3.4')])).toEqual(['4']);
    expect(ids(set, [ip('010.200.3.4'), ip('not an address'), ip('')])).toEqual([]);
  });

  it('matches IPv6 addresses in any spelling, and IPv6 blocks; IPv4 indicators never match IPv6 callers', () => {
    const set = compileIndicators([
      ind('1', "[ipv6-addr:value = '2001:db8::1']"),
      ind('2', "[ipv6-addr:value = '2001:db8:bad::/48']"),
      ind('3', "[ipv6-addr:value = '2001:db8:f000::/37']"),
      ind('4', "[ipv4-addr:value = '0.0.0.0/0']"),
    ]);
    expect(ids(set, [ip('2001:0DB8:0000:0000:0000:0000:0000:0001')])).toEqual(['1']);
    expect(ids(set, [ip('[2001:db8::1]')])).toEqual(['1']);
    expect(ids(set, [ip('2001:db8:bad:1:2:3:4:5')])).toEqual(['2']);
    expect(ids(set, [ip('2001:db8:f7ff::9')])).toEqual(['3']);
    expect(ids(set, [ip('2001:db8:e000::9')])).toEqual([]);
    expect(ids(set, [ip('192.0.2.1')])).toEqual(['4']);
  });

  it('matches domain names exactly (case, trailing dot, IDN), and subdomains only when LIKE says so', () => {
    const set = compileIndicators([
      ind('1', "[domain-name:value = 'c2.Example.net']"),
      ind('2', "[domain-name:value LIKE '%.evil.example']"),
      ind('3', "[domain-name:value = 'bücher.example']"),
      ind('4', "[domain-name:value MATCHES '^update[0-9]+\\\\.example\\\\.org$']"),
    ]);
    expect(ids(set, [dom('C2.EXAMPLE.NET.')])).toEqual(['1']);
    expect(ids(set, [dom('www.c2.example.net')])).toEqual([]);
    expect(ids(set, [dom('a.b.evil.example')])).toEqual(['2']);
    expect(ids(set, [dom('evil.example')])).toEqual([]);
    expect(ids(set, [dom('notevil.example')])).toEqual([]);
    expect(ids(set, [dom('xn--bcher-kva.example')])).toEqual(['3']);
    expect(ids(set, [dom('update42.example.org')])).toEqual(['4']);
    expect(ids(set, [dom('update.example.org')])).toEqual([]);
    expect(set.report.scanned).toBe(1);
  });

  it('matches URLs after normalization: scheme and host case, default port, fragment, unreserved escapes, dot segments', () => {
    const set = compileIndicators([ind('1', "[url:value = 'http://x4z9arb.cn/4712/']"), ind('2', "[url:value = 'https://dl.example.com/a/fw.bin?v=2']")]);
    const url = (value: string): Fact => ({ kind: 'url', field: 'detail.url', value });
    expect(ids(set, [url('HTTP://X4Z9ARB.CN:80/4712/#top')])).toEqual(['1']);
    expect(ids(set, [url('http://x4z9arb.cn/x/../%34712/')])).toEqual(['1']);
    expect(ids(set, [url('http://x4z9arb.cn/4712')])).toEqual([]);
    expect(ids(set, [url('https://dl.example.com:443/a/fw.bin?v=2')])).toEqual(['2']);
    expect(ids(set, [url('https://dl.example.com/a/fw.bin?v=3')])).toEqual([]);
  });

  it('matches file hashes of MD5, SHA-1 and SHA-256 in any case; an algorithm mismatch does not match', () => {
    const sha256 = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c';
    const set = compileIndicators([
      ind('1', `[file:hashes.'SHA-256' = '${sha256.toUpperCase()}']`),
      ind('2', "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
      ind('3', "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"),
      ind('4', "[file:hashes.'SSDEEP' = '3:abc:def']"),
    ]);
    const hash = (value: string): Fact => ({ kind: 'hash', field: 'context.sha256', value });
    expect(ids(set, [hash(`SHA-256:${sha256}`)])).toEqual(['1']);
    expect(ids(set, [hash('MD5:D41D8CD98F00B204E9800998ECF8427E')])).toEqual(['2']);
    expect(ids(set, [hash('SHA-1:da39a3ee5e6b4b0d3255bfef95601890afd80709')])).toEqual(['3']);
    expect(ids(set, [hash('SHA-512:' + 'a'.repeat(128))])).toEqual([]);
    expect(set.report.skipped).toEqual([{ id: expect.stringContaining('00000004'), reason: expect.stringMatching(/hash algorithm SSDEEP is not matched/) }]);
  });

  it('evaluates AND on the same record, OR across groups, and negation (NOT, !=) only when the field is present', () => {
    const set = compileIndicators([
      ind('1', "[ipv4-addr:value = '198.51.100.0/24' AND domain-name:value = 'api.example.com']"),
      ind('2', "[ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'c2.example.net']"),
      ind('3', "[ipv4-addr:value = '203.0.113.0/24' AND ipv4-addr:value != '203.0.113.9']"),
      ind('4', "[domain-name:value = 'cdn.example.org' AND ipv4-addr:value NOT = '192.0.2.0/24']"),
      ind('5', "[email-addr:value = 'Mallory@Example.com'] AND [ipv4-addr:value = '192.0.2.77']"),
    ]);
    expect(ids(set, [ip('198.51.100.3'), dom('api.example.com', 'service')])).toEqual(['1']);
    expect(ids(set, [ip('198.51.100.3')])).toEqual([]);
    expect(ids(set, [dom('api.example.com')])).toEqual([]);
    expect(ids(set, [dom('c2.example.net')])).toEqual(['2']);
    expect(ids(set, [ip('192.0.2.1')])).toEqual(['2']);
    expect(ids(set, [ip('203.0.113.8')])).toEqual(['3']);
    expect(ids(set, [ip('203.0.113.9')])).toEqual([]);
    expect(ids(set, [dom('cdn.example.org'), ip('198.51.100.1')])).toEqual(['4']);
    expect(ids(set, [dom('cdn.example.org'), ip('192.0.2.50')])).toEqual([]);
    // NOT on an absent field: the comparison cannot hold.
    expect(ids(set, [dom('cdn.example.org')])).toEqual([]);
    // AND between observations is required on one record (stricter than STIX, never looser).
    expect(ids(set, [{ kind: 'email', field: 'actor', value: 'mallory@example.com' }, ip('192.0.2.77')])).toEqual(['5']);
    expect(ids(set, [{ kind: 'email', field: 'actor', value: 'mallory@example.com' }])).toEqual([]);
    const hit = set.match([ip('198.51.100.3'), dom('api.example.com', 'service')], T)[0]!;
    expect(hit.matched.map((m) => [m.observable.path, m.field, m.value])).toEqual([['ipv4-addr:value', 'sourceIp', '198.51.100.3'], ['domain-name:value', 'service', 'api.example.com']]);
  });

  it('honours validity at the record time (valid_until exclusive) and drops revoked indicators', () => {
    const set = compileIndicators([
      ind('1', "[ipv4-addr:value = '192.0.2.1']", { validFrom: '2026-12-01T00:00:00Z', validUntil: '2026-12-02T00:00:00Z' }),
      ind('2', "[ipv4-addr:value = '192.0.2.1']", { revoked: true }),
    ]);
    expect(ids(set, [ip('192.0.2.1')])).toEqual(['1']);
    expect(ids(set, [ip('192.0.2.1')], Date.parse('2026-11-30T23:59:59Z'))).toEqual([]);
    expect(ids(set, [ip('192.0.2.1')], Date.parse('2026-12-02T00:00:00Z'))).toEqual([]);
    expect(set.report).toMatchObject({ indicators: 2, compiled: 1, skipped: [{ id: expect.stringContaining('00000002'), reason: 'revoked' }] });
  });

  it('reports what it cannot match and never takes it as a match', () => {
    const set = compileIndicators([
      ind('1', "[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES"),
      ind('2', "[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'c2.example.net']"),
      ind('3', "[ipv4-addr:value = '192.0.2.1'] WITHIN 60 SECONDS"),
      ind('4', "[file:name = 'payload.exe']"),
      ind('5', "[ipv4-addr:value != '192.0.2.1']"),
      ind('6', "[ipv4-addr:value > '192.0.2.1']"),
      ind('7', "[x-custom:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.1']"),
      { ...ind('8', "[ipv4-addr:value = '192.0.2.1']"), pattern: '[ipv4-addr:value = ', parsed: undefined },
      { ...ind('9', "[ipv4-addr:value = '192.0.2.1']"), pattern: 'alert tcp any any', patternType: 'snort', parsed: undefined },
      ind('10', "[ipv4-addr:value = '999.0.2.1']"),
    ]);
    expect(ids(set, [ip('192.0.2.1'), ip('192.0.2.2', 'detail.ip'), dom('c2.example.net')])).toEqual(['7']);
    const reasons = Object.fromEntries(set.report.skipped.map((s) => [s.id.slice(11, 19).replace(/^0+/, ''), s.reason]));
    expect(reasons).toEqual({
      1: expect.stringContaining('REPEATS'), 2: expect.stringContaining('FOLLOWEDBY'), 3: expect.stringContaining('WITHIN'),
      4: expect.stringContaining('file names are not seen'), 5: expect.stringContaining('only negated'), 6: expect.stringContaining('operator >'),
      8: 'pattern could not be parsed', 9: expect.stringContaining("pattern_type 'snort'"), 10: expect.stringContaining('not an IPv4 address'),
    });
    expect(set.report.groupsSkipped).toEqual([{ id: expect.stringContaining('00000007'), reason: expect.stringContaining("'x-custom' objects") }]);
    expect(set.report.compiled).toBe(1);
  });
});

const stix = dataset('intel/stix', 'STIX indicators compile');

describe.skipIf(stix.skip)('the shared STIX files', () => {
  it('import, and every indicator in them compiles and matches what it names', () => {
    const docs = readdirSync(stix.path).filter((f) => f.endsWith('.json')).map((f) => ({ name: f, text: readFileSync(`${stix.path}/${f}`, 'utf8') }));
    const { indicators, report } = importFeedDocuments(docs);
    expect(report.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(indicators).toHaveLength(3);
    const set = compileIndicators(indicators);
    expect(set.report).toMatchObject({ indicators: 3, compiled: 3, skipped: [], groupsSkipped: [] });
    const at = Date.parse('2030-01-01T00:00:00Z');
    expect(set.match([{ kind: 'ip', field: 'sourceIp', value: '10.0.0.0' }], at).map((h) => h.indicator.pattern)).toEqual(["[ipv4-addr:value = '10.0.0.0']"]);
    expect(set.match([{ kind: 'url', field: 'detail.url', value: 'http://X4Z9ARB.cn/4712/' }], at)).toHaveLength(1);
    expect(set.match([{ kind: 'hash', field: 'context.sha256', value: 'SHA-256:EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C' }], at)).toHaveLength(1);
  });
});
