/**
 * The condition language: selection names combined with `and`, `or`, `not` and parentheses,
 * plus Sigma's quantifiers `1 of sel*`, `all of sel*`, `1 of them`, `all of them`.
 * Precedence: not > and > or. Parsed once into a tree; `compileCondition` turns the tree
 * into one predicate over already-compiled selections.
 *
 *   selection and not filter
 *   1 of unlock* and (moving or parked_long)
 */

export type Cond =
  | { readonly op: 'sel'; readonly name: string }
  | { readonly op: 'not'; readonly arg: Cond }
  | { readonly op: 'and' | 'or'; readonly args: readonly Cond[] };

export class ConditionError extends Error {}

const TOKEN = /\s*(\(|\)|[A-Za-z_][\w*-]*|\*|\d+)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw new ConditionError(`unexpected ${JSON.stringify(text.slice(at).trim().slice(0, 20))} at column ${at + 1}`);
    out.push(m[1]!);
    at = TOKEN.lastIndex;
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them']);

/** Parse a condition against the selection names it may use; throws ConditionError. */
export function parseCondition(text: string, names: readonly string[]): Cond {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw new ConditionError('condition ends too early');
    return t;
  };

  const quantified = (quant: string): Cond => {
    if (take() !== 'of') throw new ConditionError(`expected "of" after "${quant}"`);
    const pattern = take();
    const matched = pattern === 'them' ? [...names] : names.filter((n) => globMatch(pattern, n));
    if (matched.length === 0) throw new ConditionError(`"${quant} of ${pattern}" matches no selection`);
    const args = matched.map((name): Cond => ({ op: 'sel', name }));
    return args.length === 1 ? args[0]! : { op: quant === 'all' ? 'and' : 'or', args };
  };

  const atom = (): Cond => {
    const t = take();
    if (t === '(') {
      const inner = or();
      if (take() !== ')') throw new ConditionError('expected ")"');
      return inner;
    }
    if (t === 'not') return { op: 'not', arg: atom() };
    if (t === '1' || t === 'any' || t === 'all') return quantified(t);
    if (KEYWORDS.has(t) || t === ')') throw new ConditionError(`unexpected "${t}"`);
    if (t.includes('*')) throw new ConditionError(`a pattern (${t}) needs "1 of" or "all of"`);
    if (!names.includes(t)) throw new ConditionError(`unknown selection "${t}" (have: ${names.join(', ') || 'none'})`);
    return { op: 'sel', name: t };
  };
  const and = (): Cond => {
    const args = [atom()];
    while (peek() === 'and') {
      i++;
      args.push(atom());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  };
  const or = (): Cond => {
    const args = [and()];
    while (peek() === 'or') {
      i++;
      args.push(and());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  };

  const tree = or();
  if (i < tokens.length) throw new ConditionError(`unexpected "${tokens[i]}" after the end of the condition`);
  return tree;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** Selection names a condition uses. */
export function usedSelections(c: Cond, out = new Set<string>()): Set<string> {
  if (c.op === 'sel') out.add(c.name);
  else if (c.op === 'not') usedSelections(c.arg, out);
  else for (const a of c.args) usedSelections(a, out);
  return out;
}

/** One predicate for the tree; `leaf` gives each selection's compiled predicate. */
export function compileCondition<C>(c: Cond, leaf: (name: string) => (ctx: C) => boolean): (ctx: C) => boolean {
  switch (c.op) {
    case 'sel':
      return leaf(c.name);
    case 'not': {
      const f = compileCondition(c.arg, leaf);
      return (x) => !f(x);
    }
    case 'and': {
      const fs = c.args.map((a) => compileCondition(a, leaf));
      if (fs.length === 2) {
        const [a, b] = fs as [(x: C) => boolean, (x: C) => boolean];
        return (x) => a(x) && b(x);
      }
      return (x) => fs.every((f) => f(x));
    }
    case 'or': {
      const fs = c.args.map((a) => compileCondition(a, leaf));
      if (fs.length === 2) {
        const [a, b] = fs as [(x: C) => boolean, (x: C) => boolean];
        return (x) => a(x) || b(x);
      }
      return (x) => fs.some((f) => f(x));
    }
  }
}
