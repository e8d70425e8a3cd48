/**
 * candump text (linux-can/can-utils) to CAN frames. Two layouts are read:
 *
 * Log format (`candump -l`, `-L`, `-f FILE`; also python-can's "canutils" logs):
 *   (1764064800.123456) can0 1D0#0011223344556677        classic, standard id (3 hex digits)
 *   (1764064800.123456) can0 18FEF100#0011223344556677   extended id (8 hex digits)
 *   (000.000123) vcan0 123#11.22.33                      `-t z` (relative time), '.' separators
 *   (1764064800.123456) can0 123#R  |  123#R4  |  123#R8_E   remote frame (optional length, raw dlc)
 *   (1764064800.123456) can0 123#1122334455667788_E      classic 8 bytes with raw dlc 9..F
 *   (1764064800.123456) can0 123##1112233                CAN FD: '##', flags nibble (BRS=1, ESI=2), data
 *   (1764064800.123456) can0 20000080#0000000000000000   error frame (8 digits with CAN_ERR_FLAG)
 *   (1764064800.123456) can0 123#1122 R                  `-x`: trailing R (received) / T (sent)
 * Interface names may be right-aligned with spaces (`%*s`), and `DROPCOUNT:` lines,
 * blank lines and `#` comments are skipped (counted).
 *
 * Screen format with a timestamp (`candump -ta`, `-tz`, `-tA`, with or without `-x`, `-a`):
 *   (1764064800.123456)  can0  1D0   [8]  00 11 22 33 44 55 66 77
 *   (1764064800.123456)  can0  123  [12]  00 11 ...                  CAN FD (two-digit length)
 *   (2025-11-25 10:00:00.123456)  can0  RX - -  123   [2]  11 22   '."'
 *   (...)  can0  123   [4]  remote request
 *   (...)  can0  20000004   [8]  00 04 ...   ERRORFRAME   (tab-indented `-e` details are skipped)
 * Screen lines without a timestamp, `-td` deltas, `-i` binary, `-S` swapped and `-8` raw-dlc
 * views, and CAN XL frames are rejected with a reason. `-tA` dates are local time.
 */
import { CAN_ERR_FLAG, CAN_EXTENDED_FLAG, CAN_RTR_FLAG, ByteScratch, nibble, type FrameSink } from './frames.js';
import { forEachLine, type LineReject } from '../lines.js';
import { reject, type Reject } from '../reject.js';

/** One parsed candump line. `data` is only valid until the next parse. */
export interface CandumpFrame {
  /** ms: epoch for `-t a` logs, from zero for `-t z`. */
  readonly time: number;
  readonly iface: string;
  /** With CAN_EXTENDED_FLAG, CAN_RTR_FLAG or CAN_ERR_FLAG as the frame has them. */
  readonly id: number;
  /** Data bytes; for a remote frame, zeros of the requested length. */
  readonly data: Uint8Array;
  readonly fd: boolean;
  /** CAN FD flags nibble (BRS = 1, ESI = 2); 0 for classic frames. */
  readonly fdFlags: number;
  readonly direction?: 'R' | 'T';
}

export type CandumpLine = { ok: true; frame: CandumpFrame } | { ok: false; reject: Reject } | { ok: 'skip' };

/** FD data lengths (the DLC table of ISO 11898-1). */
const FD_LENGTHS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);
const SKIP = 'skip';

/** Mutable parse state: one per parser, so the hot path allocates nothing but the rare reject. */
class State {
  time = 0;
  ifaceStart = 0;
  ifaceEnd = 0;
  iface: string | undefined;
  id = 0;
  len = 0;
  fd = false;
  fdFlags = 0;
  direction: 'R' | 'T' | undefined;
  /** Set by the screen format for `ERRORFRAME` lines, whose `-e` details follow on tab-indented lines. */
  errorLine = false;
  code = '';
  reason = '';
  readonly scratch = new ByteScratch();

  fail(code: string, reason: string): false {
    this.code = code;
    this.reason = reason;
    return false;
  }
}

const isSpace = (c: number): boolean => c === 32 || c === 9;

/** Index of char code `c` in s[a..b), or -1 (indexOf would search past the line). */
function indexIn(s: string, c: number, a: number, b: number): number {
  for (; a < b; a++) if (s.charCodeAt(a) === c) return a;
  return -1;
}

/** `(sec.frac)` or `(YYYY-MM-DD HH:MM:SS.frac)` at `i`; returns the index after ')' or -1. */
function parseTime(s: string, i: number, end: number, st: State): number {
  i++; // '('
  let sec = 0;
  let digits = 0;
  let c = 0;
  while (i < end && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
    sec = sec * 10 + (c - 48);
    i++;
    digits++;
  }
  if (digits === 4 && c === 45) return parseDateTime(s, i - 4, end, st);
  if (digits === 0) return -1;
  let ms = sec * 1000;
  if (c === 46) {
    i++;
    let frac = 0;
    let scale = 1;
    while (i < end && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      frac = frac * 10 + (c - 48);
      scale *= 10;
      i++;
    }
    ms += (frac * 1000) / scale;
  }
  if (i >= end || s.charCodeAt(i) !== 41) return -1;
  st.time = ms;
  return i + 1;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\)/;

function parseDateTime(s: string, i: number, end: number, st: State): number {
  const m = DATE_TIME.exec(s.slice(i, Math.min(end, i + 40)));
  if (!m) return -1;
  const local = new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!).getTime();
  const frac = m[7] ?? '';
  st.time = local + (frac ? (Number(frac) * 1000) / 10 ** frac.length : 0);
  return i + m[0].length;
}

/** The `ID#...` token between i and `end` (exclusive). */
function parseFrameToken(s: string, i: number, end: number, st: State): boolean {
  const start = i;
  let id = 0;
  let v = 16;
  while (i < end && (v = nibble(s.charCodeAt(i))) < 16) {
    id = id * 16 + v;
    i++;
  }
  if (i >= end || s.charCodeAt(i) !== 35) {
    if (indexIn(s, 58, start, end) >= 0) return st.fail('candump.can_xl', 'CAN XL frames are not supported');
    return st.fail('candump.frame', 'expected ID#DATA');
  }
  const digits = i - start;
  let err = false;
  if (digits === 3) {
    if (id > 0x7ff) return st.fail('candump.id', `standard id ${s.slice(start, i)} is above 7FF`);
  } else if (digits === 8) {
    if (id > 0x3fffffff) return st.fail('candump.id', `extended id ${s.slice(start, i)} is above 1FFFFFFF`);
    if (id >= 0x20000000) {
      err = true;
      id = (CAN_ERR_FLAG | (id & 0x1fffffff)) >>> 0;
    } else id = (id | CAN_EXTENDED_FLAG) >>> 0;
  } else {
    return st.fail('candump.id', `CAN id ${JSON.stringify(s.slice(start, i))} must have 3 (standard) or 8 (extended) hex digits`);
  }
  i++; // '#'
  st.fd = false;
  st.fdFlags = 0;
  const bytes = st.scratch.bytes;
  let max = 8;
  let c = i < end ? s.charCodeAt(i) : -1;
  if (c === 35) {
    if (err) return st.fail('candump.frame', 'an error frame cannot be a CAN FD frame');
    i++;
    const f = i < end ? nibble(s.charCodeAt(i)) : 16;
    if (f === 16) return st.fail('candump.fd_flags', 'CAN FD frame without its flags nibble after ##');
    st.fd = true;
    st.fdFlags = f;
    max = 64;
    i++;
  } else if (c === 82 || c === 114) {
    if (err) return st.fail('candump.frame', 'an error frame cannot be a remote frame');
    i++;
    let len = 0;
    c = i < end ? s.charCodeAt(i) : -1;
    if (c >= 48 && c <= 56) {
      len = c - 48;
      i++;
      if (len === 8 && i < end && s.charCodeAt(i) === 95) i = rawDlc(s, i, end);
    }
    if (i !== end) return st.fail('candump.remote', `bad remote frame ${JSON.stringify(s.slice(start, end))}`);
    bytes.fill(0, 0, len);
    st.id = (id | CAN_RTR_FLAG) >>> 0;
    st.len = len;
    return true;
  }
  let n = 0;
  while (i < end) {
    c = s.charCodeAt(i);
    if (c === 46) {
      i++;
      continue;
    }
    if (c === 95) break;
    const hi = nibble(c);
    const lo = i + 1 < end ? nibble(s.charCodeAt(i + 1)) : 16;
    if (hi === 16 || lo === 16) {
      return st.fail('candump.data', `data ${JSON.stringify(s.slice(start, end))} is not pairs of hex digits`);
    }
    if (n === max) return st.fail('candump.length', `more than ${max} data bytes`);
    bytes[n++] = (hi << 4) | lo;
    i += 2;
  }
  if (i < end) {
    // `_X`: a raw classic DLC 9..F, allowed only with 8 data bytes.
    if (st.fd || n !== 8) return st.fail('candump.data', 'a raw DLC (_X) needs 8 data bytes of a classic frame');
    i = rawDlc(s, i, end);
    if (i !== end) return st.fail('candump.data', `bad raw DLC in ${JSON.stringify(s.slice(start, end))}`);
  }
  if (st.fd && !FD_LENGTHS.has(n)) return st.fail('candump.length', `${n} bytes is not a CAN FD data length`);
  st.id = id;
  st.len = n;
  return true;
}

/** `_X` with X in 9..F at i; returns the index after it, or -1. */
function rawDlc(s: string, i: number, end: number): number {
  if (i + 2 > end) return -1;
  const d = nibble(s.charCodeAt(i + 1));
  return d >= 9 && d < 16 ? i + 2 : -1;
}

/** Parse one line into `st`: true (a frame), false (`st.code`/`st.reason` say why), or 'skip'. */
function parseLine(s: string, a: number, b: number, st: State): boolean | typeof SKIP {
  let i = a;
  while (i < b && isSpace(s.charCodeAt(i))) i++;
  if (i === b) return SKIP;
  const c0 = s.charCodeAt(i);
  if (c0 === 35) return SKIP; // '#' comment
  if (c0 === 68 && s.startsWith('DROPCOUNT:', i)) return SKIP;
  if (st.errorLine && s.charCodeAt(a) === 9) return SKIP; // `-e` details of the previous ERRORFRAME
  st.errorLine = false;
  if (c0 !== 40) return st.fail('candump.no_time', 'no (timestamp): read logs of candump -l / -L, or screen output of -ta / -tz');
  i = parseTime(s, i, b, st);
  if (i < 0) return st.fail('candump.time', 'bad (timestamp)');
  if (i >= b || !isSpace(s.charCodeAt(i))) return st.fail('candump.frame', 'expected an interface and a frame after the timestamp');
  while (i < b && isSpace(s.charCodeAt(i))) i++;
  st.ifaceStart = i;
  while (i < b && !isSpace(s.charCodeAt(i))) i++;
  st.ifaceEnd = i;
  if (st.ifaceEnd === st.ifaceStart) return st.fail('candump.frame', 'missing interface');
  while (i < b && isSpace(s.charCodeAt(i))) i++;
  let e = i;
  while (e < b && !isSpace(s.charCodeAt(e))) e++;
  if (e === i) return st.fail('candump.frame', 'missing frame after the interface');
  if (indexIn(s, 35, i, e) < 0) return parseScreen(s, i, b, st);
  if (!parseFrameToken(s, i, e, st)) return false;
  st.direction = undefined;
  while (e < b && isSpace(s.charCodeAt(e))) e++;
  if (e < b) {
    const d = s.charCodeAt(e);
    let t = e + 1;
    while (t < b && isSpace(s.charCodeAt(t))) t++;
    if ((d !== 82 && d !== 84) || t !== b) return st.fail('candump.trailing', `unexpected ${JSON.stringify(s.slice(e, b))} after the frame`);
    st.direction = d === 82 ? 'R' : 'T';
  }
  return true;
}

const HEX_BYTE = /^[0-9A-Fa-f]{2}$/;
const HEX_ID = /^[0-9A-Fa-f]+$/;

/** The screen layout (fprint_long_canframe) after the interface: the rare, slow path. */
function parseScreen(s: string, i: number, b: number, st: State): boolean {
  const t = s.slice(i, b).trim().split(/[ \t]+/);
  let k = 0;
  st.direction = undefined;
  if (t[k] === 'RX' || t[k] === 'TX') {
    st.direction = t[k] === 'RX' ? 'R' : 'T';
    k += 3; // `RX B E` / `RX - -`
  }
  const idText = t[k++] ?? '';
  const lenText = t[k++] ?? '';
  if (!HEX_ID.test(idText) || (idText.length !== 3 && idText.length !== 8)) {
    return st.fail('candump.frame', `expected ID#DATA or a screen line "ID [LEN] DATA", got ${JSON.stringify(s.slice(i, b))}`);
  }
  const m = /^\[(\d{1,2})\]$/.exec(lenText);
  if (!m) return st.fail('candump.frame', `expected [LEN] after the id, got ${JSON.stringify(lenText)}`);
  let id = parseInt(idText, 16);
  if (idText.length === 3) {
    if (id > 0x7ff) return st.fail('candump.id', `standard id ${idText} is above 7FF`);
  } else if (id > 0x3fffffff) return st.fail('candump.id', `extended id ${idText} is above 1FFFFFFF`);
  else if (id >= 0x20000000) id = (CAN_ERR_FLAG | (id & 0x1fffffff)) >>> 0;
 else id = (id | CAN_EXTENDED_FLAG) >>> 0;
  const len = Number(m[1]);
  st.fd = m[1]!.length === 2;
  st.fdFlags = 0;
  if (st.fd ? !FD_LENGTHS.has(len) : len > 8) return st.fail('candump.length', `bad length [${m[1]}]`);
  const bytes = st.scratch.bytes;
  if (t[k] === 'remote' && t[k + 1] === 'request') {
    bytes.fill(0, 0, len);
    st.id = (id | CAN_RTR_FLAG) >>> 0;
    st.len = len;
    return k + 2 === t.length || st.fail('candump.trailing', 'unexpected text after "remote request"');
  }
  for (let n = 0; n < len; n++) {
    const x = t[k++];
    if (x === undefined || !HEX_BYTE.test(x)) return st.fail('candump.data', `expected ${len} hex bytes (binary -i, swapped -S and raw-dlc -8 views are not read)`);
    bytes[n] = parseInt(x, 16);
  }
  if (t[k]?.startsWith("'")) k = t.length; // `-a` ASCII column
  if (t[k] === 'ERRORFRAME') {
    st.errorLine = true;
    k = t.length;
  }
  if (k !== t.length) return st.fail('candump.trailing', `unexpected ${JSON.stringify(t.slice(k).join(' '))} after the data`);
  st.id = id;
  st.len = len;
  return true;
}

/** Parse one candump line; for tools and tests (the reader uses CandumpParser on whole blocks). */
export function parseCandumpLine(line: string): CandumpLine {
  const st = new State();
  const r = parseLine(line, 0, line.length, st);
  if (r === SKIP) return { ok: SKIP };
  if (!r) return { ok: false, reject: reject(st.code, st.reason) };
  return {
    ok: true,
    frame: {
      time: st.time,
      iface: line.slice(st.ifaceStart, st.ifaceEnd),
      id: st.id,
      data: st.scratch.bytes.slice(0, st.len),
      fd: st.fd,
      fdFlags: st.fdFlags,
      ...(st.direction ? { direction: st.direction } : {}),
    },
  };
}

/** Streams candump text into a FrameSink; one parser per file, fed whole lines in blocks. */
export class CandumpParser {
  readonly rejects: LineReject[] = [];
  /** Lines skipped on purpose (blank, comments, DROPCOUNT, error details). */
  skipped = 0;
  private readonly st = new State();
  private readonly onLine = (s: string, a: number, b: number, line: number): void => this.line(s, a, b, line);

  /** `vin`: the vehicle of every frame (a candump log is one vehicle's buses). */
  constructor(
    private readonly sink: FrameSink,
    private readonly vin: string,
  ) {}

  /** Parse the lines of `text` (complete lines; numbering starts at `firstLine`); returns the line count. */
  block(text: string, firstLine: number): number {
    return forEachLine(text, firstLine, this.onLine);
  }

  private line(s: string, a: number, b: number, line: number): void {
    const st = this.st;
    const r = parseLine(s, a, b, st);
    if (r === SKIP) {
      this.skipped++;
      return;
    }
    if (!r) {
      this.rejects.push({ line, code: st.code, reason: st.reason, raw: s.slice(a, b) });
      return;
    }
    // The interface string is reused while it repeats, so a line allocates nothing.
    const len = st.ifaceEnd - st.ifaceStart;
    let iface = st.iface;
    if (iface === undefined || iface.length !== len || !s.startsWith(iface, st.ifaceStart)) iface = st.iface = s.slice(st.ifaceStart, st.ifaceEnd);
    if (!this.sink.push(this.vin, iface, st.time, st.id, st.scratch.view(st.len), 0)) {
      this.rejects.push({ line, code: 'candump.time', reason: `time ${st.time / 1000} s is outside 1970..2200`, raw: s.slice(a, b) });
    }
  }
}
