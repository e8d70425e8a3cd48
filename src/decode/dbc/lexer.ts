/**
 * DBC tokens with their line and column. DBC has no single statement terminator: `BO_`, `SG_`
 * and `BU_` end at the line's end, `CM_`, `BA_` and `VAL_` at a `;` (and their strings may
 * span lines), so every token knows whether it starts its line; the parser uses that to find
 * statement boundaries and to recover after an error.
 */

export type Tok = 'ident' | 'number' | 'string' | 'punct';

export interface Token {
  readonly kind: Tok;
  /** Identifier or punctuation text, number text, or the string's content without quotes. */
  readonly text: string;
  /** 1-based line and column of the token's first character. */
  readonly line: number;
  readonly col: number;
  /** Where the token ends: line and the column just past its last character. */
  readonly endLine: number;
  readonly endCol: number;
  /** First token on its line. */
  readonly bol: boolean;
  /** Whitespace (or a line start) precedes it: `0-0` and `0 -0` differ in SG_MUL_VAL_. */
  readonly spaced: boolean;
}

export interface LexProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

const isIdStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdPart = (c: number): boolean => isIdStart(c) || isDigit(c);
const PUNCT = new Set([':', ';', '|', '@', '+', '-', '(', ')', '[', ']', ',']);

/** Split DBC text into tokens; characters that start no token are reported and skipped. */
export function lex(text: string): { tokens: Token[]; problems: LexProblem[] } {
  const tokens: Token[] = [];
  const problems: LexProblem[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let bol = true;
  let spaced = true;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      bol = true;
      spaced = true;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xfeff) {
      i++;
      spaced = true;
      continue;
    }
    const col = i - lineStart + 1;
    const startLine = line;
    // `//` line comments appear in hand-edited files.
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    let kind: Tok;
    let value: string;
    if (c === 34) {
      // A string runs to the next unescaped quote, across lines; `\"` and `\\` are escapes.
      let j = i + 1;
      let out = '';
      let closed = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92 && (text.charCodeAt(j + 1) === 34 || text.charCodeAt(j + 1) === 92)) {
          out += text[j + 1];
          j += 2;
          continue;
        }
        if (d === 34) {
          closed = true;
          break;
        }
        if (d === 10) {
          line++;
          lineStart = j + 1;
        }
        out += text[j];
        j++;
      }
      if (!closed) problems.push({ line: startLine, col, message: 'unterminated string (no closing ")' });
      kind = 'string';
      value = out.replace(/\r\n/g, '\n');
      i = closed ? j + 1 : j;
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(text.charCodeAt(j))) j++;
      kind = 'ident';
      value = text.slice(i, j);
      i = j;
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      // Unsigned; the parser joins a preceding `-`/`+`. Exponents keep their sign.
      let j = i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 46) {
        j++;
        while (j < n && isDigit(text.charCodeAt(j))) j++;
      }
      const e = text.charCodeAt(j);
      if (e === 69 || e === 101) {
        let k = j + 1;
        const s = text.charCodeAt(k);
        if (s === 43 || s === 45) k++;
        if (isDigit(text.charCodeAt(k))) {
          while (k < n && isDigit(text.charCodeAt(k))) k++;
          j = k;
        }
      }
      // Identifiers may start with digits in some hand-written files (`1stGear`): keep them whole.
      if (j < n && isIdStart(text.charCodeAt(j))) {
        while (j < n && isIdPart(text.charCodeAt(j))) j++;
        kind = 'ident';
      } else {
        kind = 'number';
      }
      value = text.slice(i, j);
      i = j;
    } else if (PUNCT.has(text[i]!)) {
      kind = 'punct';
      value = text[i]!;
      i++;
    } else {
      problems.push({ line, col, message: `unexpected character ${JSON.stringify(text[i])}` });
      i++;
      spaced = true;
      continue;
    }
    tokens.push({ kind, text: value, line: startLine, col, endLine: line, endCol: i - lineStart + 1, bol, spaced });
    bol = false;
    spaced = false;
  }
  return { tokens, problems };
}
