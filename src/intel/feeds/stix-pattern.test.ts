import { describe, expect, it } from 'vitest';
import { parseStixPattern } from './stix-pattern.js';

const values = (p: string): string[][] => parseStixPattern(p).anyOf.map((g) => g.map((o) => `${o.kind}${o.negated ? '!' : ''} ${o.operator} ${o.value}`));

describe('STIX patterns to OR-of-AND observables', () => {
  it('single comparisons of each observable kind', () => {
    expect(values("[ipv6-addr:value = '2001:db8::1']")).toEqual([['ipv6 = 2001:db8::1']]);
    expect(values("[domain-name:value = 'evil.example.com']")).toEqual([['domain = evil.example.com']]);
    expect(values("[email-addr:value = 'a@b.c']")).toEqual([['email = a@b.c']]);
    expect(parseStixPattern("[file:hashes.'SHA-256' = 'aa11']").anyOf[0]![0]).toMatchObject({ kind: 'file-hash', hashAlgorithm: 'SHA-256', path: "file:hashes.'SHA-256'" });
    expect(parseStixPattern("[file:hashes.MD5 = 'bb22']").anyOf[0]![0]).toMatchObject({ kind: 'file-hash', hashAlgorithm: 'MD5' });
    expect(values("[x-vehicle:vin = 'WVW']")).toEqual([['other = WVW']]);
  });

  it('OR and AND inside an observation, with AND binding tighter', () => {
    expect(values("[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2' AND domain-name:value = 'x.test']")).toEqual([
      ['ipv4 = 198.51.100.1'],
      ['ipv4 = 198.51.100.2', 'domain = x.test'],
    ]);
    expect(values("[(ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2') AND url:value = 'http://a/']")).toEqual([
      ['ipv4 = 1.1.1.1', 'url = http://a/'],
      ['ipv4 = 2.2.2.2', 'url = http://a/'],
    ]);
  });

  it('OR and AND between observations; FOLLOWEDBY and qualifiers are listed as unsupported', () => {
    expect(values("[domain-name:value = 'a.test'] OR [domain-name:value = 'b.test']")).toEqual([['domain = a.test'], ['domain = b.test']]);
    const p = parseStixPattern("([ipv4-addr:value = '10.0.0.1'] AND [url:value = 'http://c2/']) WITHIN 300 SECONDS FOLLOWEDBY [file:name = 'x.bin'] REPEATS 2 TIMES");
    expect(p.anyOf).toHaveLength(1);
    expect(p.anyOf[0]!.map((o) => o.kind)).toEqual(['ipv4', 'url', 'file-name']);
    expect(p.unsupported).toEqual([
      'AND between observations read as AND within one observation',
      'WITHIN qualifier not applied',
      'FOLLOWEDBY read as AND (order not checked)',
      'REPEATS qualifier not applied',
    ]);
  });

  it('IN sets, NOT, LIKE, MATCHES, EXISTS and escaped quotes', () => {
    expect(values("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]")).toEqual([['ipv4 = 1.1.1.1'], ['ipv4 = 2.2.2.2']]);
    expect(values("[ipv4-addr:value NOT IN ('1.1.1.1', '2.2.2.2')]")).toEqual([['ipv4! = 1.1.1.1', 'ipv4! = 2.2.2.2']]);
    expect(values("[domain-name:value LIKE '%.evil.test']")).toEqual([['domain LIKE %.evil.test']]);
    expect(values("[url:value MATCHES '^https?://x']")).toEqual([['url MATCHES ^https?://x']]);
    expect(values("[ipv4-addr:value ISSUBSET '198.51.100.0/24']")).toEqual([['ipv4 ISSUBSET 198.51.100.0/24']]);
    expect(values("[file:name = 'it\\'s.exe']")).toEqual([["file-name = it's.exe"]]);
    expect(values('[EXISTS process:pid]')).toEqual([['process EXISTS ']]);
  });

  it('invalid patterns throw with a reason (the importer reports it on the indicator)', () => {
    expect(() => parseStixPattern("[ipv4-addr:value = '10.0.0.1'")).toThrow(/expected rb/);
    expect(() => parseStixPattern("ipv4-addr:value = '10.0.0.1'")).toThrow(/expected '\[' or '\('/);
    expect(() => parseStixPattern("[ipv4-addr:value == '10.0.0.1']")).toThrow(/expected a literal/);
    expect(() => parseStixPattern("[ipv4-addr:value = 'open")).toThrow(/unterminated string/);
    expect(() => parseStixPattern("[value = '1']")).toThrow(/object path/);
    expect(() => parseStixPattern("[url:value = 'x'] WITHIN ten SECONDS")).toThrow(/malformed WITHIN qualifier/);
    expect(() => parseStixPattern("[url:value = 'x'] START t'2024-01-01T00:00:00Z' STOP")).toThrow(/malformed START qualifier/);
    expect(parseStixPattern("[url:value = 'x'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'").unsupported).toEqual(['START/STOP qualifier not applied']);
  });

  it('refuses a pattern whose expansion would explode', () => {
    const clause = (i: number): string => `(ipv4-addr:value = '10.0.${i}.1' OR ipv4-addr:value = '10.0.${i}.2')`;
    const big = `[${Array.from({ length: 13 }, (_, i) => clause(i)).join(' AND ')}]`; // 2^13 alternatives
    expect(() => parseStixPattern(big)).toThrow(/more than 4096 alternatives/);
  });
});
