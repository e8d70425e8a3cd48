/**
 * CAN CSV traces to frames, driven by a CsvMapping (csv-mapping.ts). Built for speed: a row is
 * read in place by character codes (no split, no per-field strings), so a DAGA row costs well
 * under a microsecond. Rows with quotes take a slower, RFC 4180 path (no newlines inside quotes).
 * A row that cannot be read is a reject with its line number and reason; nothing throws.
 */
import { ByteScratch, nibble, type FrameSink } from './frames.js';
import { forEachLine, utf8OfBytes, type LineReject } from '../lines.js';
import { headerFields, type CsvColumn, type CsvMapping } from './csv-mapping.js';
import { reject, type Reject } from '../reject.js';

/** Bytes per DLC code 9..15 (ISO 11898-1 CAN FD). */
const FD_DLC = [12, 16, 20, 24, 32, 48, 64];
const UNIT_MS = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 } as const;

interface Roles {
  time: number;
  id: number;
  dlc: number;
  payload: number;
  bytes: number[];
  label: number;
  vehicle: number;
  bus: number;
}

const isBlank = (c: number): boolean => c === 32 || c === 9;

export class CsvFrameParser {
  readonly rejects: LineReject[] = [];
  /** Blank lines and header lines. */
  skipped = 0;
  /** Set when the header does not fit the mapping: nothing more is read. */
  fatal: Reject | undefined;
  private roles: Roles | undefined;
  private headerText: string | undefined;
  /** Fields to split per row (Infinity when a negative index needs them all). */
  private need = 0;
  private readonly delim: number;
  private readonly delimStr: string;
  private readonly starts = new Int32Array(256);
  private readonly ends = new Int32Array(256);
  private readonly texts: string[] = new Array<string>(256).fill('');
  private nFields = 0;
  private timeScale: number;
  private readonly trueValues: string[];
  private readonly falseValues: string[] | undefined;
  private readonly reversed: boolean;
  private readonly scratch = new ByteScratch();
  private readonly nibbles = new Uint8Array(130);
  private lastVin: string | undefined;
  private lastBus: string | undefined;
  private code = '';
  private reason = '';
  private readonly onLine = (s: string, a: number, b: number, line: number): void => this.line(s, a, b, line);

  /** `vin`: the vehicle of every row when the mapping has no vehicle column. */
  constructor(
    private readonly sink: FrameSink,
    private readonly m: CsvMapping,
    private readonly vin: string | undefined,
  ) {
    this.delimStr = m.delimiter;
    this.delim = m.delimiter.charCodeAt(0);
    this.timeScale = m.time.unit === 'auto' || m.time.unit === 'iso' ? NaN : UNIT_MS[m.time.unit];
    this.trueValues = m.label ? m.label.true.map((v) => v.trim().toLowerCase()) : [];
    this.falseValues = m.label?.false?.map((v) => v.trim().toLowerCase());
    this.reversed = m.payload?.order === 'reversed';
    if (!m.header) this.resolve(undefined);
    if (!m.vehicle && vin === undefined && !this.fatal) this.fatal = reject('csv.vehicle', 'no vehicle column in the mapping and no VIN given');
  }

  /** Parse the lines of `text` (complete lines; numbering starts at `firstLine`); returns the line count. */
  block(text: string, firstLine: number): number {
    return forEachLine(text, firstLine, this.onLine);
  }

  /** Map column names to indexes against the header (or none when the mapping has no header). */
  private resolve(header: string[] | undefined): void {
    const problems: string[] = [];
    let need = 0;
    const at = (c: CsvColumn | undefined, role: string): number => {
      if (c === undefined) return -1000;
      if (typeof c === 'number') {
        need = c < 0 ? Infinity : Math.max(need, c + 1);
        return c;
      }
      if (!header) {
        problems.push(`${role}: column ${JSON.stringify(c)} is a name, but the mapping says the file has no header (use an index)`);
        return -1000;
      }
      let k = header.indexOf(c);
      if (k < 0) k = header.findIndex((h) => h.toLowerCase() === c.toLowerCase());
      if (k < 0) problems.push(`${role}: no column ${JSON.stringify(c)} in the header`);
      need = Math.max(need, k + 1);
      return k;
    };
    const m = this.m;
    const roles: Roles = {
      time: at(m.time.column, 'time'),
      id: at(m.id.column, 'id'),
      dlc: at(m.dlc?.column, 'dlc'),
      payload: at(m.payload?.column, 'payload'),
      bytes: (m.bytes?.columns ?? []).map((c, k) => at(c, `bytes.columns.${k}`)),
      label: at(m.label?.column, 'label'),
      vehicle: at(m.vehicle?.column, 'vehicle'),
      bus: at(m.bus?.column, 'bus'),
    };
    if (need > 256 && need !== Infinity) problems.push('columns beyond the 256th are not supported');
    if (problems.length) {
      const got = header ? ` (header: ${header.join(this.delimStr)})` : '';
      this.fatal = reject('csv.mapping', `the mapping does not fit this file${got}: ${problems.join('; ')}`);
      return;
    }
    this.roles = roles;
    this.need = need;
  }

  private fail(code: string, reason: string): false {
    this.code = code;
    this.reason = reason;
    return false;
  }

  private short(role: string): false {
    return this.fail('csv.columns', `row has ${this.nFields} fields; no ${role} column`);
  }

  private bad(code: string, reason: string): -1 {
    this.fail(code, reason);
    return -1;
  }

  private line(s: string, a: number, b: number, line: number): void {
    if (this.fatal) return;
    let i = a;
    while (i < b && isBlank(s.charCodeAt(i))) i++;
    if (i === b) {
      this.skipped++;
      return;
    }
    if (!this.roles) {
      const text = s.slice(a, b);
      this.headerText = text;
      this.skipped++;
      this.resolve(headerFields(utf8OfBytes(text), this.delimStr));
      return;
    }
    if (this.headerText !== undefined && b - a === this.headerText.length && s.startsWith(this.headerText, a)) {
      this.skipped++; // a header repeated (concatenated files)
      return;
    }
    if (!this.row(s, a, b)) this.rejects.push({ line, code: this.code, reason: this.reason, raw: s.slice(a, b) });
  }

  private split(s: string, a: number, b: number): void {
    const { starts, ends, texts } = this;
    const need = Math.min(this.need, 256);
    let k = 0;
    let pos = a;
    for (;;) {
      let e = s.indexOf(this.delimStr, pos);
      if (e < 0 || e > b) e = b;
      texts[k] = s;
      starts[k] = pos;
      ends[k] = e;
      k++;
      if (e === b || k === need) break;
      pos = e + 1;
    }
    this.nFields = k;
  }

  /** RFC 4180 fields of a row with quotes; each field becomes its own string. */
  private splitQuoted(s: string, a: number, b: number): boolean {
    const { starts, ends, texts, delim } = this;
    let k = 0;
    let i = a;
    while (k < 256) {
      let field = '';
      if (s.charCodeAt(i) === 34) {
        i++;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0 || q >= b) return this.fail('csv.quote', 'unterminated quoted field');
          field += s.slice(i, q);
          if (s.charCodeAt(q + 1) === 34) {
            field += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        if (i < b && s.charCodeAt(i) !== delim) return this.fail('csv.quote', 'text after a closing quote');
      } else {
        let e = s.indexOf(this.delimStr, i);
        if (e < 0 || e > b) e = b;
        field = s.slice(i, e);
        i = e;
      }
      texts[k] = field;
      starts[k] = 0;
      ends[k] = field.length;
      k++;
      if (i >= b) break;
      i++; // delimiter
      if (i === b) {
        texts[k] = '';
        starts[k] = ends[k] = 0;
        k++;
        break;
      }
    }
    this.nFields = k;
    return true;
  }

  /** Index of a role's field in this row, or -1 when the row is too short. */
  private field(k: number): number {
    const j = k < 0 ? this.nFields + k : k;
    return j >= 0 && j < this.nFields ? j : -1;
  }

  private row(s: string, a: number, b: number): boolean {
    const r = this.roles!;
    this.split(s, a, b);
    // Quotes open a field (RFC 4180): when a field starts with one, split again the slow way.
    for (let k = 0; k < this.nFields; k++) {
      if (s.charCodeAt(this.starts[k]!) === 34) {
        if (!this.splitQuoted(s, a, b)) return false;
        break;
      }
    }

    const { texts, starts, ends } = this;

    // time (ms, relative or epoch; the sink applies the base)
    const tf = this.field(r.time);
    if (tf < 0) return this.short('time');
    const time = this.time(texts[tf]!, starts[tf]!, ends[tf]!);
    if (Number.isNaN(time)) return this.fail('csv.time', `bad time ${JSON.stringify(texts[tf]!.slice(starts[tf]!, ends[tf]!))}`);
    if (time < 0) return this.fail('csv.time', `negative time ${JSON.stringify(texts[tf]!.slice(starts[tf]!, ends[tf]!))}`);

    // id
    let f = this.field(r.id);
    if (f < 0) return this.short('id');
    const id = this.id(texts[f]!, starts[f]!, ends[f]!);
    if (id < 0) return false;

    // dlc
    let dlc = -1;
    if (r.dlc !== -1000) {
      f = this.field(r.dlc);
      if (f < 0) return this.short('dlc');
      dlc = this.dlc(texts[f]!, starts[f]!, ends[f]!);
      if (dlc < 0) return false;
    }

    // data
    let len: number;
    if (r.payload !== -1000) {
      f = this.field(r.payload);
      if (f < 0) return this.short('payload');
      len = this.payload(texts[f]!, starts[f]!, ends[f]!, dlc);
    } else len = this.bytes(r.bytes, dlc);
    if (len < 0) return false;

    // label
    let label = 0;
    if (r.label !== -1000) {
      f = this.field(r.label);
      if (f < 0) return this.short('label');
      label = this.label(texts[f]!, starts[f]!, ends[f]!);
      if (label < 0) return false;
    }

    // vehicle, bus
    let vin = this.vin;
    if (r.vehicle !== -1000) {
      f = this.field(r.vehicle);
      if (f < 0) return this.short('vehicle');
      vin = this.lastVin = this.text(texts[f]!, starts[f]!, ends[f]!, this.lastVin);
      if (vin.length === 0) return this.fail('csv.vehicle', 'empty vehicle');
    }
    let bus: string | undefined;
    if (r.bus !== -1000) {
      f = this.field(r.bus);
      if (f < 0) return this.short('bus');
      bus = this.lastBus = this.text(texts[f]!, starts[f]!, ends[f]!, this.lastBus);
      if (bus.length === 0) bus = undefined;
    }
    if (this.sink.push(vin!, bus, time, id, this.scratch.view(len), label)) return true;
    return this.fail('csv.time', `time ${JSON.stringify(texts[tf]!.slice(starts[tf]!, ends[tf]!).trim())} is outside 1970..2200`);
  }

  /** The trimmed field, reusing `last` when it is the same text (no allocation per row). */
  private text(s: string, a: number, b: number, last: string | undefined): string {
    while (a < b && isBlank(s.charCodeAt(a))) a++;
    while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
    if (last !== undefined && last.length === b - a && s.startsWith(last, a)) return last;
    return s.slice(a, b);
  }

  /** Time in ms (NaN when unreadable). */
  private time(s: string, a: number, b: number): number {
    if (this.m.time.unit === 'iso') return Date.parse(s.slice(a, b).trim());
    const v = decimal(s, a, b);
    if (Number.isNaN(this.timeScale) && !Number.isNaN(v)) {
      const x = Math.abs(v);
      this.timeScale = x < 1e11 ? 1000 : x < 1e14 ? 1 : x < 1e17 ? 1e-3 : 1e-6;
    }
    return v * this.timeScale;
  }

  /** The id with CAN_EXTENDED_FLAG as needed, or -1 (reason set). */
  private id(s: string, a: number, b: number): number {
    while (a < b && isBlank(s.charCodeAt(a))) a++;
    while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
    const start = a;
    const hex = this.m.id.format === 'hex';
    if (hex && b - a > 2 && s.charCodeAt(a) === 48 && (s.charCodeAt(a + 1) | 32) === 120) a += 2;
    let v = 0;
    let digits = 0;
    let x = false;
    for (; a < b; a++) {
      const c = s.charCodeAt(a);
      const d = hex ? nibble(c) : c >= 48 && c <= 57 ? c - 48 : 16;
      if (d < 16) {
        v = v * (hex ? 16 : 10) + d;
        digits++;
        continue;
      }
      if (c === 46 && digits > 0 && onlyZeros(s, a + 1, b)) break; // `290.0`: a float export of an integer-looking id
      if ((c | 32) === 120 && hex && a === b - 1 && digits > 0) {
        x = true; // `18FEF100x`
        break;
      }
      return this.bad('csv.id', `bad id ${JSON.stringify(s.slice(start, b))}`);
    }
    if (digits === 0) return this.bad('csv.id', 'empty id');
    if (v > 0x1fffffff) return this.bad('csv.id', `id ${s.slice(start, b)} is above 1FFFFFFF`);
    const mode = this.m.id.extended;
    if (mode === 'never' && v > 0x7ff) return this.bad('csv.id', `id ${s.slice(start, b)} is above 7FF (mapping says standard ids only)`);
    return mode === 'always' || x || v > 0x7ff ? (v | 0x80000000) >>> 0 : v;
  }

  /** Data length in bytes, or -1. */
  private dlc(s: string, a: number, b: number): number {
    const v = decimal(s, a, b);
    if (!Number.isInteger(v) || v < 0) return this.bad('csv.dlc', `bad DLC ${JSON.stringify(s.slice(a, b))}`);
    const unit = this.m.dlc!.unit;
    let n = v;
    if (unit === 'bits') {
      if (v % 8 !== 0) return this.bad('csv.dlc', `DLC of ${v} bits is not whole bytes`);
      n = v / 8;
    } else if (unit === 'code') {
      if (v > 15) return this.bad('csv.dlc', `DLC code ${v} is above 15`);
      n = v <= 8 ? v : FD_DLC[v - 9]!;
    }
    if (n > 8 && !FD_DLC.includes(n)) return this.bad('csv.dlc', `DLC of ${n} bytes is no CAN length (0-8, or CAN FD 12, 16, 20, 24, 32, 48, 64)`);
    return n;
  }

  /** One hex column into the scratch; returns the length, or -1. */
  private payload(s: string, a: number, b: number, dlc: number): number {
    while (a < b && isBlank(s.charCodeAt(a))) a++;
    while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
    const start = a;
    if (b - a > 2 && s.charCodeAt(a) === 48 && (s.charCodeAt(a + 1) | 32) === 120) a += 2;
    const nib = this.nibbles;
    let n = 0;
    for (; a < b; a++) {
      const c = s.charCodeAt(a);
      const d = nibble(c);
      if (d < 16) {
        if (n === 128) return this.bad('csv.payload', 'payload longer than 64 bytes');
        nib[n++] = d;
      } else if (c !== 32 && c !== 46 && c !== 58 && c !== 45) {
        return this.bad('csv.payload', `bad hex payload ${JSON.stringify(s.slice(start, b))}`);
      }
    }
    let want = dlc;
    if (want < 0) {
      if (n % 2 !== 0) return this.bad('csv.payload', `odd number of hex digits in ${JSON.stringify(s.slice(start, b))}`);
      want = n / 2;
      if (want > 8 && !FD_DLC.includes(want)) return this.bad('csv.payload', `${want} data bytes is no CAN FD length`);
    } else if (n > 2 * want) {
      return this.bad('csv.payload', `payload of ${n} hex digits is longer than the DLC (${want} bytes)`);
    } else if (n < 2 * want && this.m.payload!.pad !== 'left') {
      return this.bad('csv.payload', `payload of ${n} hex digits for a DLC of ${want} bytes`);
    }
    const bytes = this.scratch.bytes;
    const pad = 2 * want - n; // leading zero nibbles
    const last = this.reversed ? want - 1 : -1;
    for (let k = 0; k < want; k++) {
      const h = 2 * k - pad;
      const hi = h >= 0 ? nib[h]! : 0;
      const lo = h + 1 >= 0 ? nib[h + 1]! : 0;
      bytes[last < 0 ? k : last - k] = (hi << 4) | lo;
    }
    return want;
  }

  /** Byte columns into the scratch; returns the length, or -1. */
  private bytes(cols: readonly number[], dlc: number): number {
    if (dlc > cols.length) return this.bad('csv.dlc', `DLC of ${dlc} bytes but only ${cols.length} byte columns`);
    const hex = this.m.bytes!.format === 'hex';
    const out = this.scratch.bytes;
    const { texts, starts, ends } = this;
    let n = 0;
    const max = dlc >= 0 ? dlc : cols.length;
    for (let k = 0; k < max; k++) {
      const f = this.field(cols[k]!);
      let a = f < 0 ? 0 : starts[f]!;
      let b = f < 0 ? 0 : ends[f]!;
      const s = f < 0 ? '' : texts[f]!;
      while (a < b && isBlank(s.charCodeAt(a))) a++;
      while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
      if (a === b) {
        if (dlc >= 0) return this.bad('csv.bytes', `byte ${k + 1} is missing for a DLC of ${dlc}`);
        // Without a DLC the data ends at the first empty column; a later non-empty one is an error.
        for (let j = k + 1; j < cols.length; j++) {
          const g = this.field(cols[j]!);
          if (g >= 0 && this.text(texts[g]!, starts[g]!, ends[g]!, undefined).length > 0) return this.bad('csv.bytes', `byte ${k + 1} is empty but byte ${j + 1} is not`);
        }
        break;
      }
      if (hex && b - a > 2 && s.charCodeAt(a) === 48 && (s.charCodeAt(a + 1) | 32) === 120) a += 2;
      let v = 0;
      for (let i = a; i < b; i++) {
        const c = s.charCodeAt(i);
        const d = hex ? nibble(c) : c >= 48 && c <= 57 ? c - 48 : 16;
        if (d === 16) return this.bad('csv.bytes', `bad byte ${JSON.stringify(s.slice(a, b))}`);
        v = v * (hex ? 16 : 10) + d;
      }
      if (v > 255) return this.bad('csv.bytes', `byte ${JSON.stringify(s.slice(a, b))} is above 255`);
      out[n++] = v;
    }
    if (n > 8 && !FD_DLC.includes(n)) return this.bad('csv.bytes', `${n} data bytes is no CAN FD length`);
    return n;
  }

  /** 1 (attack), 0, or -1 when `false` values are listed and this is neither. */
  private label(s: string, a: number, b: number): number {
    while (a < b && isBlank(s.charCodeAt(a))) a++;
    while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
    if (matchesAny(s, a, b, this.trueValues)) return 1;
    if (!this.falseValues || matchesAny(s, a, b, this.falseValues)) return 0;
    return this.bad('csv.label', `label ${JSON.stringify(s.slice(a, b))} is none of ${[...this.trueValues, ...this.falseValues].join(', ')}`);
  }
}

/** Whether s[a..b) equals one of `values` (lowercase), ignoring ASCII case. */
function matchesAny(s: string, a: number, b: number, values: readonly string[]): boolean {
  outer: for (const v of values) {
    if (v.length !== b - a) continue;
    for (let k = 0; k < v.length; k++) {
      const c = s.charCodeAt(a + k);
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== v.charCodeAt(k)) continue outer;
    }
    return true;
  }
  return false;
}

function onlyZeros(s: string, a: number, b: number): boolean {
  for (; a < b; a++) if (s.charCodeAt(a) !== 48) return false;
  return true;
}

/** A decimal number in s[a..b) (spaces trimmed); plain digits and '.' fast, anything else via Number(); NaN if empty or bad. */
export function decimal(s: string, a: number, b: number): number {
  while (a < b && isBlank(s.charCodeAt(a))) a++;
  while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
  if (a === b) return NaN;
  let i = a;
  const neg = s.charCodeAt(i) === 45;
  if (neg) i++;
  let int = 0;
  let digits = 0;
  let c = 0;
  while (i < b && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
    int = int * 10 + (c - 48);
    i++;
    digits++;
  }
  let v = int;
  if (i < b && c === 46) {
    i++;
    let frac = 0;
    let scale = 1;
    while (i < b && (c = s.charCodeAt(i)) >= 48 && c <= 57 && scale < 1e15) {
      frac = frac * 10 + (c - 48);
      scale *= 10;
      i++;
      digits++;
    }
    v += frac / scale;
  }
  if (i !== b || digits === 0 || digits > 15) return Number(s.slice(a, b)); // exponents (`9e-06`), long digit runs
  return neg ? -v : v;
}
