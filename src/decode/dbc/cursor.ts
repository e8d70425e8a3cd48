/**
 * A cursor over DBC tokens with `expect*` helpers. A helper that finds something else throws
 * `ParseFail` at that token; the parser turns it into an error with line and column and
 * resumes at the next statement.
 */
import type { Token } from './lexer.js';

/** Every statement keyword of the DBC format (a token at a line start that begins a statement). */
export const KEYWORDS = new Set([
  'VERSION', 'NS_', 'NS_DESC_', 'BS_', 'BU_', 'BO_', 'SG_', 'EV_', 'ENVVAR_DATA_', 'SGTYPE_', 'SGTYPE_VAL_',
  'BA_DEF_SGTYPE_', 'BA_SGTYPE_', 'SIG_TYPE_REF_', 'VAL_TABLE_', 'SIG_GROUP_', 'SIG_VALTYPE_', 'SIGTYPE_VALTYPE_',
  'BO_TX_BU_', 'BA_DEF_REL_', 'BA_REL_', 'BA_DEF_DEF_REL_', 'BU_SG_REL_', 'BU_EV_REL_', 'BU_BO_REL_', 'SG_MUL_VAL_',
  'CM_', 'BA_DEF_', 'BA_DEF_DEF_', 'BA_', 'VAL_', 'CAT_DEF_', 'CAT_', 'FILTER',
]);

export class ParseFail extends Error {
  constructor(
    readonly at: { line: number; col: number },
    message: string,
  ) {
    super(message);
  }
}

/** How a token reads in a message: `"BO_"`, `number 12`, `string "x"`, `end of file`. */
export function describe(t: Token | undefined): string {
  if (!t) return 'end of file';
  switch (t.kind) {
    case 'number':
      return `number ${t.text}`;
    case 'string':
      return `string ${JSON.stringify(t.text.length > 30 ? `${t.text.slice(0, 30)}...` : t.text)}`;
    default:
      return `'${t.text}'`;
  }
}

export class Cursor {
  pos = 0;
  constructor(
    readonly tokens: readonly Token[],
    private readonly eof: { line: number; col: number },
    /** Tolerated deviations (a missing `;`) are reported here and parsing goes on. */
    readonly warn: (at: { line: number; col: number }, message: string) => void,
  ) {}

  get done(): boolean {
    return this.pos >= this.tokens.length;
  }
  peek(k = 0): Token | undefined {
    return this.tokens[this.pos + k];
  }
  /** Where the next token is (or the end of the file). */
  here(): { line: number; col: number } {
    return this.peek() ?? this.eof;
  }
  next(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new ParseFail(this.eof, 'unexpected end of file');
    this.pos++;
    return t;
  }
  /** The next token is on the current statement's line (not the first of a new line). */
  sameLine(): boolean {
    const t = this.peek();
    return t !== undefined && !t.bol;
  }
  isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === 'punct' && t.text === p;
  }
  fail(expected: string, t = this.peek()): never {
    throw new ParseFail(t ?? this.eof, `expected ${expected}, found ${describe(t)}`);
  }
  punct(p: string, context: string): Token {
    if (!this.isPunct(p)) this.fail(`'${p}' ${context}`);
    return this.next();
  }
  ident(what: string): string {
    const t = this.peek();
    if (!t || t.kind !== 'ident') this.fail(what);
    this.pos++;
    return t.text;
  }
  string(what: string): string {
    const t = this.peek();
    if (!t || t.kind !== 'string') this.fail(`${what} (a quoted string)`);
    this.pos++;
    return t.text;
  }
  /** A number with an optional sign (`-` / `+` written right before it). */
  number(what: string): number {
    const start = this.peek();
    let sign = 1;
    if (this.isPunct('-') || this.isPunct('+')) {
      const after = this.peek(1);
      if (!after || after.kind !== 'number' || after.spaced) this.fail(what);
      if (this.next().text === '-') sign = -1;
    }
    const t = this.peek();
    if (!t || t.kind !== 'number') this.fail(what, start);
    this.pos++;
    const v = sign * Number(t.text);
    if (!Number.isFinite(v)) throw new ParseFail(t, `${what}: ${t.text} is not a finite number`);
    return v;
  }
  /** A non-negative integer (ids, bit positions, lengths). */
  uint(what: string): number {
    const t = this.peek();
    const v = this.number(what);
    if (!Number.isSafeInteger(v) || v < 0) throw new ParseFail(t ?? this.eof, `${what}: expected a non-negative integer, found ${v}`);
    return v;
  }
  /** Skip to the first token after the next `;`, stopping early at a line-start keyword. */
  skipStatement(): void {
    while (!this.done) {
      const t = this.peek()!;
      if (t.bol && t.kind === 'ident' && KEYWORDS.has(t.text)) return;
      this.pos++;
      if (t.kind === 'punct' && t.text === ';') return;
    }
  }
  /** Skip to the next line-start keyword. */
  skipToKeyword(): void {
    this.pos++;
    while (!this.done) {
      const t = this.peek()!;
      if (t.bol && t.kind === 'ident' && KEYWORDS.has(t.text)) return;
      this.pos++;
    }
  }
  /** At the `;` ending a statement, or where one is missing: the end of the file or a line-start keyword. */
  atStatementEnd(): boolean {
    const t = this.peek();
    return !t || (t.kind === 'punct' && t.text === ';') || (t.bol && t.kind === 'ident' && KEYWORDS.has(t.text));
  }
  /** Consume the `;` ending a statement; a missing one before the next statement is only a warning (real files omit it). */
  end(statement: string): void {
    if (this.isPunct(';')) {
      this.pos++;
      return;
    }
    if (!this.atStatementEnd()) this.fail(`';' ending ${statement}`);
    const prev = this.tokens[this.pos - 1]!;
    this.warn({ line: prev.endLine, col: prev.endCol }, `missing ';' ending ${statement}`);
  }
}
