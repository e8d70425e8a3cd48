import { describe, expect, it } from 'vitest';
import { compareAttribute, compareCpe, cpeMatches, cpeText, formatCpe, parseCpe, tryParseCpe, type CpeValue } from './cpe.js';

const v = (value: string): CpeValue => ({ kind: 'value', value });
const ANY: CpeValue = { kind: 'ANY' };
const NA: CpeValue = { kind: 'NA' };

describe('CPE 2.3 formatted string', () => {
  it('reads ANY, NA and values, lower-cased, with WFN quoting of punctuation', () => {
    const w = parseCpe('cpe:2.3:o:Linux:linux_kernel:4.13.1:-:*:*:*:*:*:*');
    expect(w.part).toEqual(v('o'));
    expect(w.vendor).toEqual(v('linux'));
    expect(w.version).toEqual(v('4\\.13\\.1'));
    expect(cpeText(w.version)).toBe('4.13.1');
    expect(w.update).toEqual(NA);
    expect(w.edition).toEqual(ANY);
  });

  it('keeps escaped special characters as data, not as separators or wildcards', () => {
    const w = parseCpe('cpe:2.3:a:hp:insight_diagnostics:7\\.4\\.0\\.1570:-:*:*:online:win2003\\:x64:*:*');
    expect(cpeText(w.version)).toBe('7.4.0.1570');
    expect(cpeText(w.target_sw)).toBe('win2003:x64');
    const star = parseCpe('cpe:2.3:a:foo\\*bar:baz\\?:1:*:*:*:*:*:*:*');
    expect(star.vendor).toEqual(v('foo\\*bar'));
    expect(cpeText(star.product)).toBe('baz?');
    // a quoted * is a character: it matches only itself
    expect(cpeMatches(star, parseCpe('cpe:2.3:a:fooXbar:baz\\?:1:*:*:*:*:*:*:*'))).toBe(false);
    expect(cpeMatches(parseCpe('cpe:2.3:a:foo\\*bar:baz\\?:1:*:*:*:*:*:*:*'), star)).toBe(true);
  });

  it('rejects malformed names with a reason', () => {
    expect(tryParseCpe('cpe:2.3:a:vendor:product')).toEqual({ error: expect.stringContaining('11') });
    expect(tryParseCpe('cpe:2.3:x:v:p:1:*:*:*:*:*:*:*')).toEqual({ error: expect.stringContaining('part') });
    expect(tryParseCpe('cpe:2.3:a:v:pro*duct:1:*:*:*:*:*:*:*')).toEqual({ error: expect.stringContaining('*') });
    expect(tryParseCpe('cpe:2.3:a:v:p:1?0:*:*:*:*:*:*:*')).toEqual({ error: expect.stringContaining('?') });
    expect(tryParseCpe('cpe:2.3:a:v:p:1:*:*:*:*:*:*:*\\')).toEqual({ error: expect.stringContaining('\\') });
    expect(tryParseCpe('pkg:npm/x@1')).toEqual({ error: expect.stringContaining('cpe:2.3') });
  });

  it('binds back to the same formatted string', () => {
    for (const s of [
      'cpe:2.3:a:blackberry:qnx_software_development_platform:6.5.0:sp1:*:*:*:*:*:*',
      'cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*',
      'cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003\\:x64:*:*',
      'cpe:2.3:a:vendor:pro\\!duct:1.*:*:*:*:*:*:*:*',
    ]) expect(formatCpe(parseCpe(s))).toBe(s);
  });
});

describe('CPE 2.2 URI', () => {
  it('unbinds to the same WFN as the formatted string, including percent-encoding and packed editions', () => {
    expect(parseCpe('cpe:/o:linux:linux_kernel:4.9.30')).toEqual(parseCpe('cpe:2.3:o:linux:linux_kernel:4.9.30:*:*:*:*:*:*:*'));
    expect(parseCpe('cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003%3ax64~~')).toEqual(
      parseCpe('cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003\\:x64:*:*'),
    );
    expect(parseCpe('cpe:/a:foo%21:bar:1.%02').version).toEqual(v('1\\.*'));
    expect(parseCpe('cpe:/h:tesla:model_3:-').version).toEqual(NA);
    expect(tryParseCpe('cpe:/a:foo bar:x')).toEqual({ error: expect.stringContaining('percent-encoded') });
  });
});

describe('NISTIR 7696 attribute comparison (Table 6-2)', () => {
  const rows: [CpeValue, CpeValue, string][] = [
    [ANY, ANY, 'EQUAL'],
    [ANY, NA, 'SUPERSET'],
    [ANY, v('1\\.0'), 'SUPERSET'],
    [ANY, v('1\\.*'), 'UNDEFINED'],
    [NA, ANY, 'SUBSET'],
    [NA, NA, 'EQUAL'],
    [NA, v('1\\.0'), 'DISJOINT'],
    [NA, v('1\\.*'), 'UNDEFINED'],
    [v('1\\.0'), ANY, 'SUBSET'],
    [v('1\\.0'), NA, 'DISJOINT'],
    [v('1\\.0'), v('1\\.0'), 'EQUAL'],
    [v('1\\.0'), v('1\\.1'), 'DISJOINT'],
    [v('1\\.0'), v('1\\.*'), 'UNDEFINED'],
    [v('1\\.*'), ANY, 'SUBSET'],
    [v('1\\.*'), NA, 'DISJOINT'],
    [v('1\\.*'), v('1\\.2\\.3'), 'SUPERSET'],
    [v('1\\.*'), v('2\\.0'), 'DISJOINT'],
    [v('1\\.*'), v('1\\.?'), 'UNDEFINED'],
  ];
  it.each(rows)('%j vs %j -> %s', (s, t, want) => {
    expect(compareAttribute(s, t)).toBe(want);
  });

  it('question marks match up to their count, at either end; * matches any run', () => {
    const ver = (s: string): CpeValue => parseCpe(`cpe:2.3:a:v:p:${s}:*:*:*:*:*:*:*`).version;
    expect(compareAttribute(ver('??1'), ver('ab1'))).toBe('SUPERSET');
    expect(compareAttribute(ver('??1'), ver('1'))).toBe('SUPERSET');
    expect(compareAttribute(ver('??1'), ver('abc1'))).toBe('DISJOINT');
    expect(compareAttribute(ver('2.?'), ver('2.x'))).toBe('SUPERSET');
    expect(compareAttribute(ver('2.?'), ver('2.10'))).toBe('DISJOINT');
    // a quoted character counts as one: `2.\:` is three characters
    expect(compareAttribute(ver('?.\\:'), ver('2.\\:'))).toBe('SUPERSET');
    expect(compareAttribute(ver('*1.0'), ver('v1.0'))).toBe('SUPERSET');
    expect(compareAttribute(ver('*1.0'), ver('v1.01'))).toBe('DISJOINT');
  });
});

describe('NISTIR 7696 name comparison', () => {
  const kernel = parseCpe('cpe:2.3:o:linux:linux_kernel:4.9.30:*:*:*:*:*:*:*');
  it('ANY version in the pattern is a superset of one version; the reverse is a subset', () => {
    const any = parseCpe('cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*');
    expect(compareCpe(any, kernel)).toBe('SUPERSET');
    expect(compareCpe(kernel, any)).toBe('SUBSET');
    expect(compareCpe(kernel, kernel)).toBe('EQUAL');
    expect(cpeMatches(any, kernel)).toBe(true);
  });
  it('NA (`-`) matches only NA: a hardware CPE with version - does not name a versioned product', () => {
    const hw = parseCpe('cpe:2.3:h:tesla:model_3:-:*:*:*:*:*:*:*');
    expect(compareCpe(hw, parseCpe('cpe:2.3:h:tesla:model_3:2023.12:*:*:*:*:*:*:*'))).toBe('DISJOINT');
    expect(compareCpe(hw, parseCpe('cpe:/h:tesla:model_3:-'))).toBe('EQUAL');
  });
  it('a different vendor is disjoint; a mix of SUBSET and SUPERSET is no relation', () => {
    expect(compareCpe(parseCpe('cpe:2.3:o:google:linux_kernel:*:*:*:*:*:*:*:*'), kernel)).toBe('DISJOINT');
    const mixed = compareCpe(parseCpe('cpe:2.3:o:linux:linux_kernel:*:sp1:*:*:*:*:*:*'), parseCpe('cpe:2.3:o:linux:linux_kernel:4.9:*:*:*:*:*:*:*'));
    expect(mixed).toBe('UNDEFINED');
  });
});
