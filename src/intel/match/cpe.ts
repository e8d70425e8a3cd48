/**
 * CPE 2.3 names (NISTIR 7695, naming) and name matching (NISTIR 7696).
 *
 * A name is held as a WFN (well-formed name): eleven attributes, each ANY, NA or a value in
 * the WFN's own quoting — every character other than a letter, digit or `_` is preceded by
 * `\`, and unquoted `*` / `?` are wildcards (only at the start or end of a value). Both
 * bindings unbind to this form, so `cpe:2.3:a:x:y:1.0` and `cpe:/a:x:y:1.0` are the same
 * name, and matching compares WFN strings exactly as NISTIR 7696 §6 does.
 */

export const CPE_ATTRIBUTES = [
  'part', 'vendor', 'product', 'version', 'update', 'edition',
  'language', 'sw_edition', 'target_sw', 'target_hw', 'other',
] as const;
export type CpeAttribute = (typeof CPE_ATTRIBUTES)[number];

/** One WFN attribute value. `value` is in WFN quoting (`1\.0`, `foo\-bar`, `*bar`). */
export type CpeValue = { kind: 'ANY' } | { kind: 'NA' } | { kind: 'value'; value: string };
export type Wfn = Record<CpeAttribute, CpeValue>;

export class CpeParseError extends Error {
  override readonly name = 'CpeParseError';
  constructor(readonly input: string, readonly reason: string) {
    super(`not a CPE name: ${reason} (${JSON.stringify(input)})`);
  }
}

const ANY: CpeValue = { kind: 'ANY' };
const NA: CpeValue = { kind: 'NA' };
const isWordChar = (c: string): boolean => /^[A-Za-z0-9_]$/.test(c);

/** Parses either binding (`cpe:2.3:...` formatted string or `cpe:/...` URI). Throws CpeParseError. */
export function parseCpe(text: string): Wfn {
  const s = text.trim();
  if (/^cpe:2\.3:/i.test(s)) return unbindFormattedString(s);
  if (/^cpe:\//i.test(s)) return unbindUri(s);
  throw new CpeParseError(text, 'neither `cpe:2.3:` nor `cpe:/`');
}

/** Like parseCpe, but returns the reason instead of throwing. */
export function tryParseCpe(text: string): { wfn: Wfn } | { error: string } {
  try {
    return { wfn: parseCpe(text) };
  } catch (e) {
    return { error: e instanceof CpeParseError ? e.reason : String(e) };
  }
}

// ------------------------------------------------------------------ formatted string

/** NISTIR 7695 §6.2.3: split on unescaped colons, then unbind each value. */
function unbindFormattedString(s: string): Wfn {
  const parts: string[] = [];
  let cur = '';
  for (let i = 'cpe:2.3:'.length; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      if (i + 1 >= s.length) throw new CpeParseError(s, 'a trailing `\\` escapes nothing');
      cur += c + s[i + 1]!;
      i++;
    } else if (c === ':') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  if (parts.length !== 11) throw new CpeParseError(s, `${parts.length} components, a formatted string has 11 after \`cpe:2.3:\``);
  const wfn = {} as Wfn;
  CPE_ATTRIBUTES.forEach((attr, i) => {
    wfn[attr] = unbindFsValue(parts[i]!, s, attr);
  });
  checkPart(wfn, s);
  return wfn;
}

function unbindFsValue(v: string, whole: string, attr: CpeAttribute): CpeValue {
  if (v === '') throw new CpeParseError(whole, `${attr} is empty (use * for ANY)`);
  if (v === '*') return ANY;
  if (v === '-') return NA;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\') {
      const next = v[i + 1]!;
      out += isWordChar(next) ? next : `\\${next}`; // `\a` is just `a`
      i++;
    } else if (c === '*') {
      if (i !== 0 && i !== v.length - 1) throw new CpeParseError(whole, `${attr}: an unquoted * may only begin or end a value`);
      out += '*';
    } else if (c === '?') {
      // a run of ? must touch the start or the end of the value
      const before = /^\?*$/.test(v.slice(0, i));
      const after = /^\?*$/.test(v.slice(i + 1));
      if (!before && !after) throw new CpeParseError(whole, `${attr}: an unquoted ? may only begin or end a value`);
      out += '?';
    } else if (isWordChar(c)) out += c;
    else if (c.charCodeAt(0) < 0x21 || c.charCodeAt(0) > 0x7e) throw new CpeParseError(whole, `${attr}: character ${JSON.stringify(c)} is not printable ASCII`);
    else out += `\\${c}`;
  }
  if (out === '*' || out === '') throw new CpeParseError(whole, `${attr}: bad value`);
  return { kind: 'value', value: out.toLowerCase() };
}

// ------------------------------------------------------------------ URI (CPE 2.2)

/** NISTIR 7695 §6.1.3: `cpe:/part:vendor:product:version:update:edition:language`, percent-decoded, packed edition. */
function unbindUri(s: string): Wfn {
  const comps = s.slice('cpe:/'.length).split(':');
  if (comps.length > 7) throw new CpeParseError(s, `${comps.length} components, a URI has at most 7`);
  const get = (i: number): string => comps[i] ?? '';
  const wfn = {} as Wfn;
  for (const a of CPE_ATTRIBUTES) wfn[a] = ANY;
  const order: CpeAttribute[] = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language'];
  order.forEach((attr, i) => {
    const raw = get(i);
    if (attr === 'edition' && raw.startsWith('~')) {
      const packed = raw.split('~');
      if (packed.length !== 6) throw new CpeParseError(s, 'a packed edition has 5 fields: ~edition~sw_edition~target_sw~target_hw~other');
      (['edition', 'sw_edition', 'target_sw', 'target_hw', 'other'] as const).forEach((a, k) => {
        wfn[a] = decodeUriValue(packed[k + 1]!, s, a);
      });
    } else wfn[attr] = decodeUriValue(raw, s, attr);
  });
  checkPart(wfn, s);
  return wfn;
}

function decodeUriValue(v: string, whole: string, attr: CpeAttribute): CpeValue {
  if (v === '') return ANY;
  if (v === '-') return NA;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '%') {
      const hex = v.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/i.test(hex)) throw new CpeParseError(whole, `${attr}: bad percent-encoding %${hex}`);
      i += 2;
      if (hex === '01') {
        out += '?';
        continue;
      }
      if (hex === '02') {
        out += '*';
        continue;
      }
      const ch = String.fromCharCode(parseInt(hex, 16));
      out += isWordChar(ch) ? ch : `\\${ch}`;
    } else if (isWordChar(c)) out += c;
    else if (c === '.' || c === '-' || c === '~') out += `\\${c}`;
    else throw new CpeParseError(whole, `${attr}: character ${JSON.stringify(c)} must be percent-encoded in a URI`);
  }
  return { kind: 'value', value: out.toLowerCase() };
}

function checkPart(wfn: Wfn, whole: string): void {
  const p = wfn.part;
  if (p.kind === 'value' && !/^[aoh]$/.test(p.value)) throw new CpeParseError(whole, `part must be a, o or h, not ${p.value}`);
}

// ------------------------------------------------------------------ binding and text

/** Binds a WFN to the CPE 2.3 formatted string (the inverse of parseCpe for 2.3 input). */
export function formatCpe(wfn: Wfn): string {
  const bind = (v: CpeValue): string => {
    if (v.kind === 'ANY') return '*';
    if (v.kind === 'NA') return '-';
    // WFN quoting of `.`, `-` and `_` is dropped in a formatted string (NISTIR 7695 §6.2.2.2)
    return v.value.replace(/\\([.\-_])/g, '$1');
  };
  return `cpe:2.3:${CPE_ATTRIBUTES.map((a) => bind(wfn[a])).join(':')}`;
}

/** The attribute's plain text (quoting removed), or undefined for ANY/NA. `4\.13\.1` -> `4.13.1`. */
export function cpeText(v: CpeValue): string | undefined {
  return v.kind === 'value' ? v.value.replace(/\\(.)/g, '$1') : undefined;
}

/** True when a value holds an unquoted wildcard. */
export function hasWildcard(v: CpeValue): boolean {
  return v.kind === 'value' && tokens(v.value).some((t) => t === '*' || t === '?');
}

// ------------------------------------------------------------------ matching (NISTIR 7696)

export type CpeRelation = 'SUPERSET' | 'SUBSET' | 'EQUAL' | 'DISJOINT' | 'UNDEFINED';

/**
 * Attribute comparison, NISTIR 7696 Table 6-2. `source` is the pattern (e.g. the
 * vulnerability's CPE), `target` the name being tested (e.g. the SBOM component's CPE); a
 * target holding a wildcard makes the comparison UNDEFINED, as the table says.
 */
export function compareAttribute(source: CpeValue, target: CpeValue): CpeRelation {
  if (hasWildcard(target)) return 'UNDEFINED';
  if (source.kind === 'ANY') return target.kind === 'ANY' ? 'EQUAL' : 'SUPERSET';
  if (source.kind === 'NA') {
    if (target.kind === 'ANY') return 'SUBSET';
    return target.kind === 'NA' ? 'EQUAL' : 'DISJOINT';
  }
  if (target.kind === 'ANY') return 'SUBSET';
  if (target.kind === 'NA') return 'DISJOINT';
  if (hasWildcard(source)) return wildcardMatches(source.value, target.value) ? 'SUPERSET' : 'DISJOINT';
  return source.value === target.value ? 'EQUAL' : 'DISJOINT';
}

/** Name comparison (NISTIR 7696 §6.2): the relation of two whole names. */
export function compareCpe(source: Wfn, target: Wfn): CpeRelation {
  const rel = CPE_ATTRIBUTES.map((a) => compareAttribute(source[a], target[a]));
  if (rel.includes('DISJOINT')) return 'DISJOINT';
  if (rel.includes('UNDEFINED')) return 'UNDEFINED';
  if (rel.every((r) => r === 'EQUAL')) return 'EQUAL';
  if (rel.every((r) => r === 'EQUAL' || r === 'SUBSET')) return 'SUBSET';
  if (rel.every((r) => r === 'EQUAL' || r === 'SUPERSET')) return 'SUPERSET';
  return 'UNDEFINED';
}

/** CPE_SUPERSET or CPE_EQUAL: `source` names the target (the usual "does this CPE match" question). */
export function cpeMatches(source: Wfn, target: Wfn): boolean {
  const r = compareCpe(source, target);
  return r === 'SUPERSET' || r === 'EQUAL';
}

/** WFN value split into units: a quoted pair `\x`, a wildcard, or one character. */
function tokens(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') {
      out.push(value.slice(i, i + 2));
      i++;
    } else out.push(value[i]!);
  }
  return out;
}

/**
 * Wildcard value vs plain value, as the NISTIR 7696 pseudocode (compare_strings) decides it:
 * a leading/trailing `*` matches any run of characters; a leading/trailing run of n `?`
 * matches up to n characters (the pseudocode's `begins < index` / `leftover > ends` tests
 * accept fewer than n, so `??1` matches `1`, `a1` and `ab1`). A quoted pair is one character.
 */
function wildcardMatches(source: string, target: string): boolean {
  const s = tokens(source);
  const t = tokens(target);
  let lead: number = 0; // -1: `*`, n: n `?`
  let trail: number = 0;
  if (s[0] === '*') {
    lead = -1;
    s.shift();
  } else while (s[0] === '?') {
    lead++;
    s.shift();
  }
  if (s[s.length - 1] === '*') {
    trail = -1;
    s.pop();
  } else while (s.length > 0 && s[s.length - 1] === '?') {
    trail++;
    s.pop();
  }
  for (let start = 0; start + s.length <= t.length; start++) {
    if (lead !== -1 && start > lead) break;
    const rest = t.length - start - s.length;
    if (trail !== -1 && rest > trail) continue;
    if (s.every((u, k) => u === t[start + k])) return true;
  }
  return false;
}
