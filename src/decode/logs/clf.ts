/**
 * Apache/NCSA common and combined log format lines to the log wire object:
 *
 *   %h %l %u %t "%r" %>s %b ["%{Referer}i" "%{User-agent}i"] [anything else]
 *   2001:db8::7 - acct-1842 [10/Oct/2000:13:55:36 -0700] "POST /v1/vehicles/1HGCM82633A004352/unlock HTTP/1.1" 200 512 "-" "VigilApp/4.2"
 *
 * Quoted fields are unescaped as Apache writes them (`\"`, `\\`, `\n`, `\t`, `\xhh`); a
 * closing quote is one followed by a space or the end of the line, so an unescaped quote
 * inside a user agent (nginx before 1.1.6, hand-rolled loggers) does not derail the
 * fields after it. Fields after the user agent (`%D`, X-Forwarded-For, ...) are ignored.
 */
import { reject } from '../reject.js';
import type { Decoded } from '../json.js';
import { parseRequestLine, targetHost, templateEndpoint } from './endpoint.js';
import { parseClfTime } from './time.js';

/** Service name of access-log lines when the source does not name one. */
export const DEFAULT_ACCESS_SERVICE = 'http';

/** Longest line accepted. */
export const MAX_LINE_CHARS = 16_384;

/** Endpoint of a request line that is absent (`-`). */
export const NO_REQUEST = '(none)';
/** Endpoint of a request line that is not HTTP (a TLS handshake on a plain port, scanner garbage). */
export const MALFORMED_REQUEST = '(malformed)';

const hexByte = (s: string): number => Number.parseInt(s, 16);
const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Undo Apache's escaping of `%r` and `%{...}i`: `\"`, `\\`, C escapes and `\xhh` bytes. */
export function unescapeApache(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const pushText = (t: string): void => {
    for (const b of utf8Encoder.encode(t)) bytes.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      pushText(c);
      continue;
    }
    const n = s[++i]!;
    if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(hexByte(s.slice(i + 1, i + 3)));
      i += 2;
    } else if (n === 'n') bytes.push(10);
    else if (n === 't') bytes.push(9);
    else if (n === 'r') bytes.push(13);
    else if (n === 'v') bytes.push(11);
    else if (n === 'f') bytes.push(12);
    else if (n === 'b') bytes.push(8);
    else pushText(n); // \" and \\ (and anything unknown: keep the character)
  }
  return utf8.decode(new Uint8Array(bytes));
}

/** Cursor over one line: unquoted tokens, [bracketed] and "quoted" fields. */
class Fields {
  i = 0;
  /** Positions of the line's unescaped double quotes. */
  private readonly quotes: number[] = [];
  constructor(readonly line: string) {
    for (let k = line.indexOf('"'); k >= 0; k = line.indexOf('"', k + 1)) {
      let backslashes = 0;
      for (let b = k - 1; b >= 0 && line[b] === '\\'; b--) backslashes++;
      if (backslashes % 2 === 0) this.quotes.push(k);
    }
  }

  private skipSpaces(): void {
    while (this.line.charCodeAt(this.i) === 32 || this.line.charCodeAt(this.i) === 9) this.i++;
  }
  get done(): boolean {
    this.skipSpaces();
    return this.i >= this.line.length;
  }
  token(): string | undefined {
    this.skipSpaces();
    if (this.i >= this.line.length) return undefined;
    // Apache writes an empty %u as "" (a quoted empty string).
    if (this.line.startsWith('"" ', this.i)) {
      this.i += 2;
      return '';
    }
    const start = this.i;
    while (this.i < this.line.length && this.line.charCodeAt(this.i) !== 32 && this.line.charCodeAt(this.i) !== 9) this.i++;
    return this.line.slice(start, this.i);
  }
  bracketed(): string | undefined {
    this.skipSpaces();
    if (this.line[this.i] !== '[') return undefined;
    const end = this.line.indexOf(']', this.i);
    if (end < 0) return undefined;
    const v = this.line.slice(this.i + 1, end);
    this.i = end + 1;
    return v;
  }
  /**
   * A quoted field, unescaped; undefined when the next field is not quoted or never closes.
   * The closing quote is the first unescaped one that is followed by a space or the line
   * end and leaves an even number of quotes after it (so the later fields still pair up);
   * failing that, the first one followed by a space or the line end.
   */
  quoted(): string | undefined {
    this.skipSpaces();
    if (this.line[this.i] !== '"') return undefined;
    const open = this.quotes.indexOf(this.i);
    if (open < 0) return undefined;
    let close = -1;
    let fallback = -1;
    for (let k = open + 1; k < this.quotes.length; k++) {
      const q = this.quotes[k]!;
      const next = this.line.charCodeAt(q + 1);
      if (!(q + 1 >= this.line.length || next === 32 || next === 9)) continue;
      if ((this.quotes.length - k - 1) % 2 === 0) {
        close = q;
        break;
      }
      if (fallback < 0) fallback = q;
    }
    if (close < 0) close = fallback;
    if (close < 0) return undefined;
    const raw = this.line.slice(this.i + 1, close);
    this.i = close + 1;
    return unescapeApache(raw);
  }
}

const dash = (s: string | undefined): string | undefined => (s === undefined || s === '-' || s === '' ? undefined : s);

export interface AccessContext {
  readonly service?: string;
}

/** Decode one common/combined log line into the log wire object (`decodeLog` checks it next). */
export function decodeClfLine(payload: string, ctx: AccessContext = {}): Decoded<Record<string, unknown>> {
  const line = payload.replace(/\r?\n$/, '');
  if (line.length > MAX_LINE_CHARS) return bad('message.too_large', `access-log line of ${line.length} characters exceeds ${MAX_LINE_CHARS}`);
  const f = new Fields(line);
  const host = f.token();
  const ident = f.token();
  const user = f.token();
  if (host === undefined || ident === undefined || user === undefined) return bad('clf.shape', 'expected `host ident user [time] "request" status bytes`');
  const time = f.bracketed();
  if (time === undefined) return bad('clf.shape', 'expected a [time] field after host, ident and user');
  const ts = parseClfTime(time);
  if (ts === undefined) return bad('time.invalid', `unrecognised access-log time [${time.slice(0, 40)}] (expected 10/Oct/2000:13:55:36 -0700)`);
  const request = f.quoted();
  if (request === undefined) return bad('clf.shape', 'expected a "request" field after the time');
  const statusText = f.token();
  if (statusText === undefined || !/^\d{3}$/.test(statusText)) return bad('log.status', `status ${JSON.stringify(statusText ?? '')} is not a three-digit HTTP status`);
  const bytesText = f.token();
  if (bytesText !== undefined && bytesText !== '-' && !/^\d+$/.test(bytesText)) return bad('clf.shape', `response size ${JSON.stringify(bytesText.slice(0, 20))} is not a number or -`);
  // Combined format: referer and user agent. Both optional (common format has neither).
  let ua: string | undefined;
  let referer: string | undefined;
  if (!f.done) {
    referer = f.quoted();
    if (referer === undefined) return bad('clf.shape', 'expected a "referer" field after the response size');
    if (!f.done) ua = f.quoted();
  }

  const out: Record<string, unknown> = { ts, service: ctx.service ?? DEFAULT_ACCESS_SERVICE };
  const req = request === '-' ? undefined : parseRequestLine(request);
  if (req?.method) out.method = req.method;
  if (req?.target) {
    const ep = templateEndpoint(req.target);
    out.endpoint = ep.template || '/';
    if (ep.vin) {
      out.vin = ep.vin;
      out.vinFrom = ep.vinFrom;
    }
  } else out.endpoint = req === undefined ? NO_REQUEST : MALFORMED_REQUEST;
  out.status = Number(statusText);
  const ip = dash(host);
  if (ip) out.ip = ip;
  const actor = dash(user);
  if (actor) out.actor = actor;
  const agent = dash(ua);
  if (agent) out.ua = agent;
  // For threat indicators (src/intel/indicators): the host of an absolute-form target, and the referring page.
  const asked = req?.target ? targetHost(req.target) : undefined;
  const from = dash(referer);
  if (asked || from) out.detail = { ...(asked ? { host: asked } : {}), ...(from ? { referer: from } : {}) };
  return { ok: true, value: out };
}

function bad(code: string, reason: string): Decoded<Record<string, unknown>> {
  return { ok: false, reject: reject(code, reason) };
}
