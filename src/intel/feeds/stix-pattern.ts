/**
 * A parser for STIX 2.x patterns (STIX 2.1 §9, the patterning grammar): observation
 * expressions `[...]` joined by AND / OR / FOLLOWEDBY with parentheses, comparison
 * expressions inside with AND / OR / NOT and the operators = != < <= > >= IN LIKE MATCHES
 * ISSUBSET ISSUPERSET EXISTS, and the literals of the grammar (strings, numbers, booleans,
 * t'timestamp', h'hex', b'base64', sets).
 *
 * The result is reduced to disjunctive normal form (OR of AND groups of observables) for
 * matching in a stream. That reduction treats an AND between two observations like an AND
 * inside one, and FOLLOWEDBY like AND; qualifiers (WITHIN, REPEATS, START/STOP) are not
 * applied. Each such loss is listed in `unsupported`, so a matcher knows what it ignores.
 */
import type { Observable, ObservableKind, ParsedPattern } from '../model.js';

type Token = { t: 'lb' | 'rb' | 'lp' | 'rp' | 'comma' } | { t: 'op'; v: string } | { t: 'word'; v: string } | { t: 'lit'; v: string };

const OPS = ['<=', '>=', '!=', '=', '<', '>'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '[') out.push({ t: 'lb' });
    else if (c === ']') out.push({ t: 'rb' });
    else if (c === '(') out.push({ t: 'lp' });
    else if (c === ')') out.push({ t: 'rp' });
    else if (c === ',') out.push({ t: 'comma' });
    if ('[]()'.includes(c) || c === ',') {
      i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op });
      i += op.length;
      continue;
    }
    // a quoted literal, optionally prefixed t' h' b'
    if (c === "'" || (/[thb]/.test(c) && src[i + 1] === "'")) {
      let j = c === "'" ? i + 1 : i + 2;
      let v = '';
      while (j < src.length && src[j] !== "'") {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        v += src[j];
        j++;
      }
      if (j >= src.length) throw new Error(`unterminated string at ${i}`);
      out.push({ t: 'lit', v });
      i = j + 1;
      continue;
    }
    // a word: keyword, number, or an object path (which may hold quoted parts: hashes.'SHA-256')
    let j = i;
    let w = '';
    while (j < src.length && !/[\s[\]()=!<>,]/.test(src[j]!)) {
      if (src[j] === "'") {
        const end = src.indexOf("'", j + 1);
        if (end < 0) throw new Error(`unterminated quoted path part at ${j}`);
        w += src.slice(j, end + 1);
        j = end + 1;
      } else w += src[j++];
    }
    if (!w) throw new Error(`unexpected character '${c}' at ${i}`);
    out.push({ t: 'word', v: w });
    i = j;
  }
  return out;
}

/** DNF: an array of AND groups. */
type Dnf = Observable[][];
const and = (a: Dnf, b: Dnf): Dnf => a.flatMap((x) => b.map((y) => [...x, ...y]));
const or = (a: Dnf, b: Dnf): Dnf => [...a, ...b];
/** Patterns whose DNF grows past this are refused rather than expanded without bound. */
export const MAX_DNF_GROUPS = 4096;

function kindOf(path: string): { kind: ObservableKind; hashAlgorithm?: string } {
  const [type, prop = ''] = path.split(':');
  const hash = /^hashes\.'?([^']+)'?$/.exec(prop);
  switch (type) {
    case 'ipv4-addr':
      return { kind: 'ipv4' };
    case 'ipv6-addr':
      return { kind: 'ipv6' };
    case 'domain-name':
      return { kind: 'domain' };
    case 'url':
      return { kind: 'url' };
    case 'email-addr':
      return { kind: 'email' };
    case 'mac-addr':
      return { kind: 'mac' };
    case 'file':
      if (hash) return { kind: 'file-hash', hashAlgorithm: hash[1]!.toUpperCase() };
      return prop === 'name' ? { kind: 'file-name' } : { kind: 'other' };
    case 'process':
      return { kind: 'process' };
    default:
      return { kind: 'other' };
  }
}

class Parser {
  i = 0;
  readonly unsupported: string[] = [];
  constructor(readonly toks: Token[]) {}
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  word(v: string): boolean {
    const t = this.peek();
    return t?.t === 'word' && t.v.toUpperCase() === v;
  }
  expect(t: Token['t']): void {
    const k = this.toks[this.i++];
    if (k?.t !== t) throw new Error(`expected ${t} at token ${this.i - 1}, found ${k ? (('v' in k && k.v) || k.t) : 'end of pattern'}`);
  }
  guard(d: Dnf): Dnf {
    if (d.length > MAX_DNF_GROUPS) throw new Error(`pattern expands to more than ${MAX_DNF_GROUPS} alternatives`);
    return d;
  }
  // observation level: FOLLOWEDBY < OR < AND
  observations(): Dnf {
    let d = this.obsOr();
    while (this.word('FOLLOWEDBY')) {
      this.i++;
      this.unsupported.push('FOLLOWEDBY read as AND (order not checked)');
      d = this.guard(and(d, this.obsOr()));
    }
    return d;
  }
  obsOr(): Dnf {
    let d = this.obsAnd();
    while (this.word('OR')) {
      this.i++;
      d = this.guard(or(d, this.obsAnd()));
    }
    return d;
  }
  obsAnd(): Dnf {
    let d = this.observation();
    while (this.word('AND')) {
      this.i++;
      const right = this.observation();
      this.unsupported.push('AND between observations read as AND within one observation');
      d = this.guard(and(d, right));
    }
    return d;
  }
  observation(): Dnf {
    let d: Dnf;
    const t = this.peek();
    if (t?.t === 'lb') {
      this.i++;
      d = this.cmpOr();
      this.expect('rb');
    } else if (t?.t === 'lp') {
      this.i++;
      d = this.observations();
      this.expect('rp');
    } else throw new Error(`expected '[' or '(' at token ${this.i}`);
    for (;;) {
      if (this.word('WITHIN')) {
        this.qualifier(['WITHIN', '#', 'SECONDS']);
        this.unsupported.push('WITHIN qualifier not applied');
      } else if (this.word('REPEATS')) {
        this.qualifier(['REPEATS', '#', 'TIMES']);
        this.unsupported.push('REPEATS qualifier not applied');
      } else if (this.word('START')) {
        this.qualifier(['START', "'", 'STOP', "'"]);
        this.unsupported.push('START/STOP qualifier not applied');
      } else break;
    }
    return d;
  }
  /** Consume a qualifier: keywords, `#` a number, `'` a quoted literal. */
  qualifier(shape: string[]): void {
    for (const want of shape) {
      const t = this.toks[this.i++];
      const ok =
        want === '#' ? t?.t === 'word' && /^\d+(\.\d+)?$/.test(t.v) : want === "'" ? t?.t === 'lit' : t?.t === 'word' && t.v.toUpperCase() === want;
      if (!ok) throw new Error(`malformed ${shape[0]} qualifier at token ${this.i - 1}`);
    }
  }
  // comparison level: OR < AND
  cmpOr(): Dnf {
    let d = this.cmpAnd();
    while (this.word('OR')) {
      this.i++;
      d = this.guard(or(d, this.cmpAnd()));
    }
    return d;
  }
  cmpAnd(): Dnf {
    let d = this.test();
    while (this.word('AND')) {
      this.i++;
      d = this.guard(and(d, this.test()));
    }
    return d;
  }
  test(): Dnf {
    const t = this.peek();
    if (t?.t === 'lp') {
      this.i++;
      const d = this.cmpOr();
      this.expect('rp');
      return d;
    }
    if (this.word('EXISTS')) {
      this.i++;
      const p = this.toks[this.i++];
      if (p?.t !== 'word') throw new Error('EXISTS needs an object path');
      return [[{ ...kindOf(p.v), path: p.v, operator: 'EXISTS', value: '' }]];
    }
    const path = this.toks[this.i++];
    if (path?.t !== 'word' || !path.v.includes(':')) throw new Error(`expected an object path at token ${this.i - 1}`);
    let negated = false;
    if (this.word('NOT')) {
      negated = true;
      this.i++;
    }
    const opTok = this.toks[this.i++];
    const operator = opTok?.t === 'op' ? opTok.v : opTok?.t === 'word' ? opTok.v.toUpperCase() : '';
    if (!['=', '!=', '<', '<=', '>', '>=', 'IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'].includes(operator)) {
      throw new Error(`unknown comparison operator after ${path.v}`);
    }
    const base = { ...kindOf(path.v), path: path.v, ...(negated ? { negated } : {}) };
    if (operator === 'IN') {
      this.expect('lp');
      const values: string[] = [];
      for (;;) {
        values.push(this.literal());
        const n = this.toks[this.i++];
        if (n?.t === 'rp') break;
        if (n?.t !== 'comma') throw new Error('expected , or ) in a set');
      }
      // `x IN (a, b)` is `x = a OR x = b`; NOT IN is the AND of the negations
      return negated ? [values.map((value) => ({ ...base, operator: '=', value }))] : values.map((value) => [{ ...base, operator: '=', value }]);
    }
    return [[{ ...base, operator, value: this.literal() }]];
  }
  literal(): string {
    const t = this.toks[this.i++];
    if (t?.t === 'lit' || t?.t === 'word') return t.v;
    throw new Error(`expected a literal at token ${this.i - 1}`);
  }
}

/** Parse a STIX pattern; throws with a reason when it is not valid patterning syntax. */
export function parseStixPattern(pattern: string): ParsedPattern {
  const p = new Parser(tokenize(pattern));
  const anyOf = p.observations();
  if (p.i !== p.toks.length) throw new Error(`unexpected text after the pattern at token ${p.i}`);
  const out: ParsedPattern = { anyOf };
  const unsupported = [...new Set(p.unsupported)];
  if (unsupported.length) out.unsupported = unsupported;
  return out;
}
