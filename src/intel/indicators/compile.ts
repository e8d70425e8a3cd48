/**
 * STIX indicators compiled for matching in the stream. `compileIndicators(indicators)` turns
 * each indicator's parsed pattern (OR of AND groups of comparisons, see stix-pattern.ts) into
 * hash-indexed tests; `set.match(facts, time)` answers which indicators a record matches.
 *
 * Indexing: every AND group has one *anchor*, a positive comparison that can be looked up:
 * an exact IPv4/IPv6 address or a CIDR block (one hash map per prefix length present, so a
 * lookup costs one probe per distinct prefix length), a host name (exact; or, for `LIKE
 * '%.example.com'`, every subdomain of it, found by walking up the record's host labels), a
 * URL, an e-mail or MAC address, a file hash. A record's facts are looked up in those maps
 * and only the groups found are checked in full, all their comparisons on that same record.
 * Groups whose only positive comparisons are other LIKE or MATCHES patterns are scanned: one
 * regular expression per such group and fact of its kind (counted in `report.scanned`).
 *
 * What is not matched, and why, is in `report.skipped` (per indicator) and `report.groupsSkipped`;
 * nothing unsupported is ever taken as a match.
 */
import type { Indicator, Observable } from '../model.js';
import {
  canonicalEmail, canonicalHash, canonicalHost, canonicalMac, canonicalUrl, hashAlgorithm, likeToRegExp, maskIpv4, maskIpv6, parseIpBlock,
  parseIpv4, parseIpv6,
} from './values.js';

/** What a record field holds, for matching. */
export type FactKind = 'ip' | 'domain' | 'url' | 'email' | 'mac' | 'hash';

/** One value a record carries: its kind, the field it came from and the value as written. */
export interface Fact {
  readonly kind: FactKind;
  readonly field: string;
  readonly value: string;
}

/** One comparison of a matching group that held, with the record field it held on. */
export interface MatchedObservable {
  readonly observable: Observable;
  readonly field: string;
  readonly value: string;
}

export interface IndicatorHit {
  readonly indicator: Indicator;
  /** The comparisons of the group that matched (negated ones included), each with its field. */
  readonly matched: readonly MatchedObservable[];
}

export interface CompileReport {
  /** Indicators given. */
  readonly indicators: number;
  /** Indicators with at least one group that can match. */
  readonly compiled: number;
  /** Indicators not matched at all, with why (revoked, unsupported qualifier, no usable comparison...). */
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
  /** Groups of compiled indicators left out, with why. */
  readonly groupsSkipped: readonly { readonly id: string; readonly reason: string }[];
  /** Groups matched by scanning a pattern against every fact of its kind (not indexed). */
  readonly scanned: number;
}

/** Canonical form of one fact; computed once per record. */
interface Norm {
  readonly fact: Fact;
  readonly v4?: number;
  readonly v6?: string;
  /** domain, url, email, mac, hash: the canonical text. */
  readonly text?: string;
}

/**
 * One comparison, compiled, as plain data (100,000 indicators are 100,000 of these; no
 * closure each): `how` says how `holds` compares a canonical fact with the positive form.
 */
interface Test {
  readonly observable: Observable;
  readonly kind: FactKind;
  readonly negated: boolean;
  /** v4 / v6: the fact's address in the block (`num` or `key`, `bits`); eq: equal to `key`; sub: a strict subdomain of `key`; re: `re` matches. */
  readonly how: 'v4' | 'v6' | 'eq' | 'sub' | 're';
  readonly num?: number;
  readonly bits?: number;
  readonly key?: string;
  readonly re?: RegExp;
}

/** Whether the canonical fact `n` satisfies the positive form of `t`. */
function holds(t: Test, n: Norm): boolean {
  switch (t.how) {
    case 'v4':
      return n.v4 !== undefined && maskIpv4(n.v4, t.bits!) === t.num;
    case 'v6':
      return n.v6 !== undefined && maskIpv6(n.v6, t.bits!) === t.key;
    case 'eq':
      return n.text === t.key;
    case 'sub':
      return n.text !== undefined && n.text.length > t.key!.length && n.text.endsWith(t.key!) && n.text.charCodeAt(n.text.length - t.key!.length - 1) === 46;
    case 're':
      return (n.text !== undefined && t.re!.test(n.text)) || t.re!.test(n.fact.value);
  }
}

interface Group {
  readonly indicator: number;
  readonly tests: readonly Test[];
}

interface Compiled {
  readonly indicator: Indicator;
  readonly from: number;
  readonly until: number;
}

/** Key -> group, or groups when several share the key (most keys have one: no array for them). */
type Index<K> = Map<K, number | number[]>;
const add = <K>(m: Index<K>, k: K, g: number): void => {
  const l = m.get(k);
  if (l === undefined) m.set(k, g);
  else if (typeof l === 'number') m.set(k, [l, g]);
  else l.push(g);
};

/** Pattern problems that make an indicator unmatchable in one record (the parser lists them in `unsupported`). */
const REFUSED_QUALIFIERS = /WITHIN|REPEATS|START\/STOP|FOLLOWEDBY/;

/** Which fact kind each observable kind is compared with. */
const FACT_OF: Partial<Record<Observable['kind'], FactKind>> = {
  ipv4: 'ip', ipv6: 'ip', domain: 'domain', url: 'url', email: 'email', mac: 'mac', 'file-hash': 'hash',
};

/** The object property each kind is matched on; others (`ipv4-addr:resolves_to_refs`...) are not. */
const VALUE_PROPERTY = /^(ipv4-addr|ipv6-addr|domain-name|url|email-addr|mac-addr):value$/;

export class IndicatorSet {
  readonly report: CompileReport;
  /** Indicators that can match. */
  get size(): number {
    return this.report.compiled;
  }

  private readonly v4Exact: Index<number> = new Map();
  /** prefix length -> network -> groups; `v4Lengths` lists the lengths present, longest first. */
  private readonly v4Blocks = new Map<number, Index<number>>();
  private readonly v4Lengths: number[] = [];
  private readonly v6Exact: Index<string> = new Map();
  private readonly v6Blocks = new Map<number, Index<string>>();
  private readonly v6Lengths: number[] = [];
  private readonly domains: Index<string> = new Map();
  /** `LIKE '%.example.com'`: example.com -> groups matching its strict subdomains. */
  private readonly subdomains: Index<string> = new Map();
  private readonly exact: Record<'url' | 'email' | 'mac' | 'hash', Index<string>> = { url: new Map(), email: new Map(), mac: new Map(), hash: new Map() };
  private readonly scans: { kind: FactKind; test: Test; group: number }[] = [];
  private readonly groups: Group[] = [];
  private readonly compiled: Compiled[] = [];
  /** Per group: the record it was last checked for (so a group found twice is checked once). */
  private stamps: Uint32Array = new Uint32Array(0);
  private stamp = 0;

  constructor(indicators: readonly Indicator[]) {
    const skipped: { id: string; reason: string }[] = [];
    const groupsSkipped: { id: string; reason: string }[] = [];
    let scanned = 0;
    for (const ind of indicators) {
      const why = unmatchable(ind);
      if (why) {
        skipped.push({ id: ind.id, reason: why });
        continue;
      }
      const from = ind.validFrom === undefined ? -Infinity : Date.parse(ind.validFrom);
      const until = ind.validUntil === undefined ? Infinity : Date.parse(ind.validUntil);
      if (Number.isNaN(from) || Number.isNaN(until)) {
        skipped.push({ id: ind.id, reason: `validity ${ind.validFrom ?? ''}..${ind.validUntil ?? ''} is not a readable time` });
        continue;
      }
      const index = this.compiled.length;
      let usable = 0;
      const problems: string[] = [];
      for (const obs of ind.parsed!.anyOf) {
        const tests: Test[] = [];
        let problem: string | undefined;
        for (const o of obs) {
          const t = compileTest(o);
          if ('problem' in t) {
            problem = t.problem;
            break;
          }
          tests.push(t);
        }
        if (!problem && !tests.some((t) => !t.negated)) problem = 'a group of only negated comparisons would match almost every record';
        if (problem) {
          problems.push(problem);
          continue;
        }
        const g = this.groups.length;
        this.groups.push({ indicator: index, tests });
        if (!this.anchor(tests, g)) {
          const first = tests.find((t) => !t.negated)!;
          this.scans.push({ kind: first.kind, test: first, group: g });
          scanned++;
        }
        usable++;
      }
      if (!usable) {
        skipped.push({ id: ind.id, reason: problems.join('; ') || 'no comparison to match' });
        continue;
      }
      for (const p of problems) groupsSkipped.push({ id: ind.id, reason: p });
      this.compiled.push({ indicator: ind, from, until });
    }
    this.v4Lengths.push(...[...this.v4Blocks.keys()].sort((a, b) => b - a));
    this.v6Lengths.push(...[...this.v6Blocks.keys()].sort((a, b) => b - a));
    this.stamps = new Uint32Array(this.groups.length);
    this.report = { indicators: indicators.length, compiled: this.compiled.length, skipped, groupsSkipped, scanned };
  }

  /** Index group `g` under its first indexable positive comparison; false when it has none. */
  private anchor(tests: readonly Test[], g: number): boolean {
    for (const t of tests) {
      if (t.negated) continue;
      switch (t.how) {
        case 'v4':
          if (t.bits === 32) add(this.v4Exact, t.num!, g);
          else add(getOr(this.v4Blocks, t.bits!), t.num!, g);
          return true;
        case 'v6':
          if (t.bits === 128) add(this.v6Exact, t.key!, g);
          else add(getOr(this.v6Blocks, t.bits!), t.key!, g);
          return true;
        case 'sub':
          add(this.subdomains, t.key!, g);
          return true;
        case 'eq':
          add(t.kind === 'domain' ? this.domains : this.exact[t.kind as 'url' | 'email' | 'mac' | 'hash'], t.key!, g);
          return true;
        default:
          break;
      }
    }
    return false;
  }

  /**
   * The indicators `facts` (the fields of one record) match at event time `time`: every
   * comparison of one of an indicator's groups holds on this record, and `time` is inside
   * the indicator's validity (valid_from inclusive, valid_until exclusive). One hit per
   * indicator, in the order the indicators were given.
   */
  match(facts: readonly Fact[], time: number): IndicatorHit[] {
    if (!facts.length || !this.groups.length) return [];
    const norms = facts.map(normalize).filter((n): n is Norm => n !== undefined);
    if (!norms.length) return [];
    if (++this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    const candidates: number[] = [];
    const take = (found: number | readonly number[] | undefined): void => {
      if (found === undefined) return;
      const gs = typeof found === 'number' ? [found] : found;
      for (const g of gs) {
        if (this.stamps[g] === this.stamp) continue;
        this.stamps[g] = this.stamp;
        candidates.push(g);
      }
    };
    for (const n of norms) {
      if (n.v4 !== undefined) {
        take(this.v4Exact.get(n.v4));
        for (const bits of this.v4Lengths) take(this.v4Blocks.get(bits)!.get(maskIpv4(n.v4, bits)));
      } else if (n.v6 !== undefined) {
        take(this.v6Exact.get(n.v6));
        for (const bits of this.v6Lengths) take(this.v6Blocks.get(bits)!.get(maskIpv6(n.v6, bits)));
      } else if (n.fact.kind === 'domain') {
        take(this.domains.get(n.text!));
        if (this.subdomains.size) for (let i = n.text!.indexOf('.'); i >= 0; i = n.text!.indexOf('.', i + 1)) take(this.subdomains.get(n.text!.slice(i + 1)));
      } else take(this.exact[n.fact.kind as 'url' | 'email' | 'mac' | 'hash'].get(n.text!));
    }
    for (const s of this.scans) {
      if (this.stamps[s.group] === this.stamp) continue;
      if (norms.some((n) => n.fact.kind === s.kind && holds(s.test, n))) {
        this.stamps[s.group] = this.stamp;
        candidates.push(s.group);
      }
    }
    if (!candidates.length) return [];
    candidates.sort((a, b) => a - b);
    const hits: IndicatorHit[] = [];
    let last = -1;
    for (const g of candidates) {
      const group = this.groups[g]!;
      if (group.indicator === last) continue;
      const c = this.compiled[group.indicator]!;
      if (time < c.from || time >= c.until) continue;
      const matched = evaluate(group, norms);
      if (!matched) continue;
      last = group.indicator;
      hits.push({ indicator: c.indicator, matched });
    }
    return hits;
  }
}

function getOr<K>(m: Map<number, Index<K>>, bits: number): Index<K> {
  let x = m.get(bits);
  if (!x) m.set(bits, (x = new Map()));
  return x;
}

/** Every comparison of the group on this record: a positive one holds on some fact of its kind; a negated one on some fact of its kind that fails the positive form. */
function evaluate(group: Group, norms: readonly Norm[]): MatchedObservable[] | undefined {
  const out: MatchedObservable[] = [];
  for (const t of group.tests) {
    const n = norms.find((x) => x.fact.kind === t.kind && holds(t, x) !== t.negated && familyFits(t, x));
    if (!n) return undefined;
    out.push({ observable: t.observable, field: n.fact.field, value: n.fact.value });
  }
  return out;
}

/** An IPv4 comparison is about IPv4 facts only (a negated `ipv4-addr:value != x` says nothing of an IPv6 caller). */
function familyFits(t: Test, n: Norm): boolean {
  if (t.kind !== 'ip') return true;
  return t.observable.kind === 'ipv4' ? n.v4 !== undefined : n.v6 !== undefined;
}

function normalize(fact: Fact): Norm | undefined {
  switch (fact.kind) {
    case 'ip': {
      const v4 = parseIpv4(fact.value);
      if (v4 !== undefined) return { fact, v4 };
      const v6 = parseIpv6(fact.value);
      return v6 === undefined ? undefined : { fact, v6 };
    }
    case 'domain': {
      const text = canonicalHost(fact.value);
      return text === undefined ? undefined : { fact, text };
    }
    case 'url': {
      const u = canonicalUrl(fact.value);
      return u === undefined ? undefined : { fact, text: u.url };
    }
    case 'email': {
      const text = canonicalEmail(fact.value);
      return text === undefined ? undefined : { fact, text };
    }
    case 'mac': {
      const text = canonicalMac(fact.value);
      return text === undefined ? undefined : { fact, text };
    }
    case 'hash': {
      // Facts carry `ALGORITHM:hex` (see observe.ts); the hex is compared lower-cased.
      const colon = fact.value.indexOf(':');
      const text = colon > 0 ? canonicalHash(fact.value.slice(0, colon), fact.value.slice(colon + 1)) : undefined;
      return text === undefined ? undefined : { fact, text };
    }
  }
}

/** Why an indicator cannot be matched at all, or undefined. */
function unmatchable(ind: Indicator): string | undefined {
  if (ind.revoked) return 'revoked';
  if (ind.patternType !== 'stix') return `pattern_type '${ind.patternType}' is not matched in the stream`;
  if (!ind.parsed) return 'pattern could not be parsed';
  const refused = (ind.parsed.unsupported ?? []).filter((u) => REFUSED_QUALIFIERS.test(u));
  if (refused.length) return `pattern needs what one record cannot show: ${refused.join('; ')}`;
  return undefined;
}

/** One comparison, or why it cannot be matched. */
function compileTest(o: Observable): Test | { problem: string } {
  const kind = FACT_OF[o.kind];
  const where = (): string => `${o.path} ${o.negated ? 'NOT ' : ''}${o.operator} '${o.value}'`;
  if (!kind) return { problem: `${where()}: ${o.kind === 'file-name' ? 'file names' : `'${o.path.split(':')[0]}' objects`} are not seen in the stream` };
  if (kind !== 'hash' && !VALUE_PROPERTY.test(o.path)) return { problem: `${where()}: only the value property is matched` };
  // `a != b` is `NOT a = b`; `NOT a != b` is `a = b`.
  const op = o.operator === '!=' ? '=' : o.operator;
  const negated = (o.operator === '!=') !== (o.negated === true);
  if (kind === 'ip') {
    if (op !== '=' && op !== 'ISSUBSET') return { problem: `${where()}: operator ${o.operator} is not matched on addresses` };
    const b = parseIpBlock(o.value, o.kind === 'ipv4' ? 4 : 6);
    if ('problem' in b) return { problem: `${where()}: ${b.problem}` };
    return b.v === 4 ? { observable: o, kind, negated, how: 'v4', num: b.base, bits: b.bits } : { observable: o, kind, negated, how: 'v6', key: b.base, bits: b.bits };
  }
  if (op === 'LIKE' || op === 'MATCHES') {
    if (kind === 'domain' && op === 'LIKE') {
      const sub = /^%\.([^%_]+)$/.exec(o.value);
      const parent = sub ? canonicalHost(sub[1]!) : undefined;
      if (parent) return { observable: o, kind, negated, how: 'sub', key: parent };
    }
    try {
      // MATCHES is PCRE in STIX; JavaScript's syntax covers the common subset. Compared with the
      // canonical text and with the value as written (a pattern may be written for either).
      return { observable: o, kind, negated, how: 're', re: op === 'LIKE' ? likeToRegExp(o.value) : new RegExp(o.value, 's') };
    } catch (e) {
      return { problem: `${where()}: ${(e as Error).message}` };
    }
  }
  if (op !== '=') return { problem: `${where()}: operator ${o.operator} is not matched on ${o.kind} values` };
  let key: string | undefined;
  if (kind === 'domain') key = canonicalHost(o.value);
  else if (kind === 'url') key = canonicalUrl(o.value)?.url;
  else if (kind === 'email') key = canonicalEmail(o.value);
  else if (kind === 'mac') key = canonicalMac(o.value);
  else {
    const algo = o.hashAlgorithm === undefined ? undefined : hashAlgorithm(o.hashAlgorithm);
    if (!algo) return { problem: `${where()}: hash algorithm ${o.hashAlgorithm ?? '(none)'} is not matched (MD5, SHA-1, SHA-256, SHA-512 are)` };
    key = canonicalHash(algo, o.value);
  }
  if (key === undefined) return { problem: `${where()}: '${o.value}' is not a valid ${o.kind} value` };
  return { observable: o, kind, negated, how: 'eq', key };
}

/** Compile indicators for matching; see IndicatorSet. */
export const compileIndicators = (indicators: readonly Indicator[]): IndicatorSet => new IndicatorSet(indicators);
