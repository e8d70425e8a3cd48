/**
 * The `;`-terminated DBC statements that describe messages and signals declared elsewhere:
 * CM_ comments, BA_DEF_ / BA_DEF_DEF_ / BA_ attributes, VAL_ value descriptions,
 * SIG_VALTYPE_ and SG_MUL_VAL_. Each is recorded with its place; link.ts attaches it.
 */
import type { Cursor } from './cursor.js';
import { ParseFail } from './cursor.js';
import { OBJECT_TYPES, type At, type Drafts, type Target } from './drafts.js';
import type { DbcAttributeDef, DbcAttributeValue } from './model.js';

const IMPORT = /^IMPORT\s+(\S+)\s*$/;

/**
 * `BU_ name` | `BO_ id` | `SG_ id name` | `EV_ name`, or nothing (the network). Two slips seen
 * in real files are read with a warning: a bare id in a comment (`CM_ 145 "..."`, taken as `BO_ 145`) and
 * `SG_ id` without a signal name (the statement is then dropped: `undefined`).
 */
function parseTarget(c: Cursor, statement: string): Target | undefined {
  const t = c.peek();
  if (t?.kind === 'number' && statement === 'CM_') {
    c.warn(t, `${statement} ${t.text}: the object keyword is missing; read as ${statement} BO_ ${t.text}`);
    return { kind: 'message', id: c.uint('message id') };
  }
  if (!t || t.kind !== 'ident' || !(t.text in OBJECT_TYPES)) return { kind: 'network' };
  c.next();
  switch (t.text) {
    case 'BU_':
      return { kind: 'node', name: c.ident('node name after BU_') };
    case 'BO_':
      return { kind: 'message', id: c.uint('message id after BO_') };
    case 'SG_': {
      const id = c.uint('message id after SG_');
      if (c.peek()?.kind === 'string') {
        c.warn(c.here(), `${statement} SG_ ${id} names no signal: ignored`);
        return undefined;
      }
      return { kind: 'signal', id, signal: c.ident('signal name') };
    }
    default:
      return { kind: 'envvar', name: c.ident('environment variable name after EV_') };
  }
}

/** `CM_ [target] "text";` — `CM_ "IMPORT file.dbc";` also records an include. */
export function parseComment(c: Cursor, d: Drafts, kw: At): void {
  const target = parseTarget(c, 'CM_');
  const text = c.string('comment text');
  c.end('CM_');
  const imp = target?.kind === 'network' ? IMPORT.exec(text) : null;
  if (imp) d.imports.push(imp[1]!);
  else if (target) d.comments.push({ line: kw.line, col: kw.col, target, text });
}

/** `BA_DEF_ [BU_|BO_|SG_|EV_] "name" INT min max | HEX min max | FLOAT min max | STRING | ENUM "a","b";` */
export function parseAttributeDef(c: Cursor, d: Drafts, kw: At): void {
  const t = c.peek();
  const objectType = t && t.kind === 'ident' && t.text in OBJECT_TYPES ? OBJECT_TYPES[c.next().text]! : 'network';
  const name = c.string('attribute name');
  const typeTok = c.peek();
  const type = c.ident('attribute type (INT, HEX, FLOAT, STRING, ENUM)');
  let def: DbcAttributeDef;
  switch (type) {
    case 'INT':
    case 'HEX':
    case 'FLOAT': {
      // Bounds are optional in some files (`BA_DEF_ "x" INT;`).
      const min = c.isPunct(';') ? undefined : c.number(`minimum of attribute ${name}`);
      const max = c.isPunct(';') ? undefined : c.number(`maximum of attribute ${name}`);
      def = { name, objectType, type, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
      break;
    }
    case 'STRING':
      def = { name, objectType, type };
      break;
    case 'ENUM': {
      const values: string[] = [];
      while (!c.atStatementEnd()) {
        values.push(c.string(`a label of ENUM attribute ${name}`));
        if (c.isPunct(',')) c.next();
      }
      def = { name, objectType, type, values };
      break;
    }
    default:
      throw new ParseFail(typeTok!, `unknown attribute type '${type}' for ${name}: expected INT, HEX, FLOAT, STRING or ENUM`);
  }
  c.end(`BA_DEF_ ${name}`);
  d.attributeDefs.set(name, { ...def, line: kw.line, col: kw.col });
}

function attributeValue(c: Cursor, name: string): DbcAttributeValue {
  const t = c.peek();
  return t?.kind === 'string' ? c.next().text : c.number(`value of attribute ${name}`);
}

/** `BA_DEF_DEF_ "name" value;` */
export function parseAttributeDefault(c: Cursor, d: Drafts, kw: At): void {
  const name = c.string('attribute name');
  const value = attributeValue(c, name);
  c.end(`BA_DEF_DEF_ ${name}`);
  d.defaults.push({ line: kw.line, col: kw.col, name, value });
}

/** `BA_ "name" [target] value;` */
export function parseAttribute(c: Cursor, d: Drafts, kw: At): void {
  const name = c.string('attribute name');
  const target = parseTarget(c, 'BA_');
  const value = attributeValue(c, name);
  c.end(`BA_ ${name}`);
  if (target) d.attributes.push({ line: kw.line, col: kw.col, target, name, value });
}

/** `VAL_ id signal value "label" ... ;` (the environment-variable form `VAL_ name ...;` is skipped). */
export function parseValues(c: Cursor, d: Drafts, kw: At, report: (s: 'warning', at: At, m: string) => void): void {
  if (c.peek()?.kind === 'ident') {
    const name = c.next().text;
    report('warning', kw, `VAL_ for environment variable ${name} is not used by Vigil: skipped`);
    c.skipStatement();
    return;
  }
  const id = c.uint('message id after VAL_');
  const signal = c.ident('signal name');
  const table = new Map<number, string>();
  while (!c.atStatementEnd()) {
    const v = c.number(`a value or ';' in the value descriptions of ${signal}`);
    table.set(v, c.string(`label for value ${v} of ${signal}`));
  }
  c.end(`VAL_ ${id} ${signal}`);
  d.values.push({ line: kw.line, col: kw.col, id, signal, table });
}

/** `SIG_VALTYPE_ id signal : 1;` — 0 integer, 1 float, 2 double. */
export function parseValueType(c: Cursor, d: Drafts, kw: At): void {
  const id = c.uint('message id after SIG_VALTYPE_');
  const signal = c.ident('signal name');
  if (c.isPunct(':')) c.next();
  const at = c.here();
  const type = c.uint('value type (0 integer, 1 float, 2 double)');
  if (type > 2) throw new ParseFail(at, `value type of ${signal} must be 0 (integer), 1 (float) or 2 (double), found ${type}`);
  c.end('SIG_VALTYPE_');
  d.valueTypes.push({ line: kw.line, col: kw.col, id, signal, type: type as 0 | 1 | 2 });
}

/** `SG_MUL_VAL_ id signal switch lo-hi, lo-hi ;` (extended multiplexing) */
export function parseMuxValues(c: Cursor, d: Drafts, kw: At): void {
  const id = c.uint('message id after SG_MUL_VAL_');
  const signal = c.ident('multiplexed signal name');
  const switchName = c.ident('multiplexor switch name');
  const ranges: [number, number][] = [];
  while (!c.atStatementEnd()) {
    const at = c.here();
    const lo = c.uint('range start');
    c.punct('-', 'in a multiplexor value range (lo-hi)');
    const hi = c.uint('range end');
    if (hi < lo) throw new ParseFail(at, `multiplexor range ${lo}-${hi} of ${signal} is empty (end before start)`);
    ranges.push([lo, hi]);
    if (c.isPunct(',')) c.next();
  }
  c.end('SG_MUL_VAL_');
  if (ranges.length === 0) throw new ParseFail(kw, `SG_MUL_VAL_ for ${signal} lists no value range`);
  d.muxValues.push({ line: kw.line, col: kw.col, id, signal, switchName, ranges });
}
