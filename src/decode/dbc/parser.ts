/**
 * `parseDbc(text, file)`: DBC text -> a linked `DbcDatabase` plus every error and warning with
 * file, line and column. Parsing never throws: a statement that cannot be read is an error and
 * the parser resumes at the next statement; sections Vigil does not use (environment
 * variables, signal types, signal groups, categories, relation attributes) and unknown
 * keywords are skipped with a warning.
 *
 * This file reads the line-oriented sections (VERSION, NS_, BS_, BU_, BO_, SG_, VAL_TABLE_,
 * BO_TX_BU_); statements.ts the `;`-terminated ones; link.ts joins and checks them.
 */
import { Cursor, KEYWORDS, ParseFail } from './cursor.js';
import { emptyDrafts, type At, type Drafts, type MessageDraft, type SignalDraft } from './drafts.js';
import { lex } from './lexer.js';
import { link } from './link.js';
import type { DbcParseResult } from './model.js';
import { parseAttribute, parseAttributeDef, parseAttributeDefault, parseComment, parseMuxValues, parseValues, parseValueType } from './statements.js';

/** Sections read and dropped with a warning: nothing in Vigil uses them. */
const SKIPPED: Record<string, string> = {
  EV_: 'environment variable',
  ENVVAR_DATA_: 'environment variable data',
  SGTYPE_: 'signal type',
  SGTYPE_VAL_: 'signal type value table',
  BA_DEF_SGTYPE_: 'signal type attribute definition',
  BA_SGTYPE_: 'signal type attribute',
  SIG_TYPE_REF_: 'signal type reference',
  SIG_GROUP_: 'signal group',
  SIGTYPE_VALTYPE_: 'signal type value type',
  BA_DEF_REL_: 'relation attribute definition',
  BA_REL_: 'relation attribute',
  BA_DEF_DEF_REL_: 'relation attribute default',
  BU_SG_REL_: 'node-signal relation',
  BU_EV_REL_: 'node-environment variable relation',
  BU_BO_REL_: 'node-message relation',
  CAT_DEF_: 'category definition',
  CAT_: 'category',
  FILTER: 'filter',
  NS_DESC_: 'new symbol description',
};

/** Parse DBC text; `file` names it in diagnostics. */
export function parseDbc(text: string, file = '<dbc>'): DbcParseResult {
  const d = emptyDrafts();
  const report = (severity: 'error' | 'warning', at: At, message: string): void => {
    d.diagnostics.push({ severity, file, line: at.line, col: at.col, message });
  };
  const { tokens, problems } = lex(text);
  for (const p of problems) report('error', p, p.message);
  const lines = text.split('\n');
  const c = new Cursor(tokens, { line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1 }, (at, m) => report('warning', at, m));

  // The BO_ that SG_ lines belong to; 'failed' when that BO_ line could not be read (its
  // signals are then skipped quietly: the BO_ error already says what is wrong).
  let message: MessageDraft | 'failed' | undefined;
  while (!c.done) {
    const t = c.peek()!;
    const start = c.pos;
    try {
      if (t.kind !== 'ident' || !KEYWORDS.has(t.text)) {
        if (t.kind === 'ident' && t.bol) {
          report('warning', t, `unknown section '${t.text}' skipped`);
          c.next();
          c.skipStatement();
        } else {
          report('error', t, `unexpected ${t.kind} ${JSON.stringify(t.text)}: expected a statement keyword (BO_, SG_, CM_, ...)`);
          c.skipToKeyword();
        }
        continue;
      }
      if (t.text !== 'SG_') message = undefined;
      c.next();
      switch (t.text) {
        case 'VERSION':
          d.version = c.sameLine() && c.peek()!.kind === 'string' ? c.next().text : '';
          break;
        case 'NS_':
          skipNewSymbols(c);
          break;
        case 'BS_':
          if (c.isPunct(':')) c.next();
          while (c.sameLine()) c.next(); // baud rate and BTR registers: obsolete, ignored
          break;
        case 'BU_':
          if (c.isPunct(':')) c.next();
          while (!c.done && c.peek()!.kind === 'ident' && !(c.peek()!.bol && KEYWORDS.has(c.peek()!.text))) d.nodes.push(c.next().text);
          break;
        case 'BO_':
          message = parseMessage(c, t);
          d.messages.push(message);
          break;
        case 'SG_': {
          if (message === 'failed') {
            c.pos--;
            c.skipToKeyword();
            continue;
          }
          if (!message) throw new ParseFail(t, 'SG_ outside a message: a signal must follow its BO_ line');
          message.signals.push(parseSignal(c, t));
          break;
        }
        case 'VAL_TABLE_':
          parseValueTable(c, d);
          break;
        case 'BO_TX_BU_': {
          const id = c.uint('message id after BO_TX_BU_');
          c.punct(':', 'after the message id');
          const nodes: string[] = [];
          while (!c.atStatementEnd()) {
            nodes.push(c.ident('a node name'));
            if (c.isPunct(',')) c.next();
          }
          c.end('BO_TX_BU_');
          d.senders.push({ line: t.line, col: t.col, id, nodes });
          break;
        }
        case 'CM_':
          parseComment(c, d, t);
          break;
        case 'BA_DEF_':
          parseAttributeDef(c, d, t);
          break;
        case 'BA_DEF_DEF_':
          parseAttributeDefault(c, d, t);
          break;
        case 'BA_':
          parseAttribute(c, d, t);
          break;
        case 'VAL_':
          parseValues(c, d, t, report);
          break;
        case 'SIG_VALTYPE_':
          parseValueType(c, d, t);
          break;
        case 'SG_MUL_VAL_':
          parseMuxValues(c, d, t);
          break;
        default:
          report('warning', t, `${t.text} (${SKIPPED[t.text] ?? 'section'}) is not used by Vigil: skipped`);
          c.skipStatement();
          continue;
      }
      if (c.sameLine() && !c.isPunct(';') && !KEYWORDS.has(c.peek()!.text)) {
        const extra = c.peek()!;
        report('warning', extra, `unexpected ${JSON.stringify(extra.text)} after the ${t.text} statement: ignored`);
        c.pos--;
        c.skipToKeyword();
      } else if (c.isPunct(';') && c.sameLine()) {
        c.next(); // a stray `;` after a line statement is harmless
      }
    } catch (e) {
      if (!(e instanceof ParseFail)) throw e;
      report('error', e.at, `${t.text}: ${e.message}`);
      if (c.pos === start) c.pos++;
      c.skipStatement();
      if (t.text === 'BO_') message = 'failed';
    }
  }
  return link(d, file);
}

/** `NS_ :` then the new-symbol names, one per indented line; ends at the first unindented keyword. */
function skipNewSymbols(c: Cursor): void {
  if (c.isPunct(':')) c.next();
  while (!c.done) {
    const t = c.peek()!;
    if (t.kind !== 'ident') return;
    if (t.bol && t.col === 1) return;
    if (t.text === 'BS_' || t.text === 'BU_' || t.text === 'BO_') return;
    c.next();
  }
}

/** `BO_ id name: size transmitter` */
function parseMessage(c: Cursor, kw: At): MessageDraft {
  const id = c.uint('message id');
  if (id > 0xffffffff) throw new ParseFail(kw, `message id ${id} does not fit in 32 bits`);
  const name = c.ident('message name');
  c.punct(':', 'after the message name');
  const size = c.uint('message size in bytes');
  const transmitter = c.sameLine() && c.peek()!.kind === 'ident' ? c.next().text : '';
  return { line: kw.line, col: kw.col, id, name, size, transmitter, signals: [] };
}

/** `SG_ name [M|mN|mNM] : start|length@order sign (factor,offset) [min|max] "unit" receivers` */
function parseSignal(c: Cursor, kw: At): SignalDraft {
  const name = c.ident('signal name');
  let multiplexor = false;
  let muxValue: number | undefined;
  if (!c.isPunct(':')) {
    const m = c.peek();
    const match = m && m.kind === 'ident' ? /^(?:m(\d+))?(M)?$/.exec(m.text) : null;
    if (m && m.kind === 'ident' && m.text === 'm') {
      // Seen in real files (vw_pq.dbc): a lone `m` on the switch that SG_MUL_VAL_ lines name.
      c.warn(m, `multiplexer indicator 'm' of signal ${name} read as 'M' (the switch)`);
      multiplexor = true;
    } else {
      if (!match) c.fail(`':' or a multiplexer indicator (M, mN, mNM) after signal ${name}`);
      if (match[1] !== undefined) muxValue = Number(match[1]);
      multiplexor = match[2] === 'M';
    }
    c.next();
  }
  c.punct(':', `after signal ${name}`);
  const startBit = c.uint('start bit');
  c.punct('|', 'between start bit and length');
  const length = c.uint('signal length');
  c.punct('@', 'before the byte order');
  const orderTok = c.peek();
  const order = c.uint('byte order (0 Motorola, 1 Intel)');
  if (order !== 0 && order !== 1) throw new ParseFail(orderTok!, `byte order must be 0 (Motorola) or 1 (Intel), found ${order}`);
  const sign = c.isPunct('+') || c.isPunct('-') ? c.next().text : c.fail("'+' (unsigned) or '-' (signed) after the byte order");
  c.punct('(', 'opening (factor,offset)');
  const factor = c.number('factor');
  c.punct(',', 'between factor and offset');
  const offset = c.number('offset');
  c.punct(')', 'closing (factor,offset)');
  c.punct('[', 'opening [min|max]');
  const min = c.number('minimum');
  c.punct('|', 'between minimum and maximum');
  const max = c.number('maximum');
  c.punct(']', 'closing [min|max]');
  const unit = c.string('unit');
  const receivers: string[] = [];
  while (c.sameLine() && (c.peek()!.kind === 'ident' || c.isPunct(','))) {
    const t = c.next();
    if (t.kind === 'ident') receivers.push(t.text);
  }
  return {
    line: kw.line, col: kw.col, name, startBit, length, byteOrder: order === 0 ? 'big_endian' : 'little_endian', signed: sign === '-',
    factor, offset, min, max, unit, receivers, multiplexor, ...(muxValue !== undefined ? { muxValue } : {}),
  };
}

/** `VAL_TABLE_ name value "label" ... ;` */
function parseValueTable(c: Cursor, d: Drafts): void {
  const name = c.ident('value table name');
  const table = new Map<number, string>();
  while (!c.atStatementEnd()) {
    const v = c.number(`a value or ';' in value table ${name}`);
    table.set(v, c.string(`label for value ${v}`));
  }
  c.end(`VAL_TABLE_ ${name}`);
  d.valueTables.set(name, table);
}
