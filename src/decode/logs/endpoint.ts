/**
 * Request targets to endpoint templates, so detections can group by endpoint:
 * `/v1/vehicles/1HGCM82633A004352/unlock?x=1` -> `/v1/vehicles/{vin}/unlock`, VIN
 * `1HGCM82633A004352`. Variable path segments become placeholders: `{vin}` (ISO 3779
 * shape), `{uuid}`, `{id}` (digits), `{hex}` (16+ hex digits), `{token}` (long opaque
 * strings such as JWTs or base64). The query string is dropped from the endpoint (it
 * carries values, often secrets) but a `vin` parameter, or a VIN-shaped value, is read.
 * The check digit is not looked at here: that is normalize's policy.
 */

/** Longest endpoint template kept; longer ones are cut and marked with `...`. */
export const MAX_ENDPOINT_CHARS = 512;

/** ISO 3779 shape: 17 characters of 0-9 and A-Z without I, O and Q, with a letter and a digit. */
const VIN_SHAPE = /^[A-HJ-NPR-Z0-9]{17}$/;
const HAS_DIGIT = /[0-9]/;
const HAS_LETTER = /[A-Z]/;

export function isVinShaped(s: string): boolean {
  return s.length === 17 && VIN_SHAPE.test(s) && HAS_DIGIT.test(s) && HAS_LETTER.test(s);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^\d+$/;
const HEX = /^(?=.*\d)[0-9a-f]{16,}$/i;
// Opaque tokens: long runs of base64url / JWT characters with both letters and digits.
const TOKEN = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.=~+]{24,}$/;

export interface Endpoint {
  /** The path with variable segments replaced, e.g. `/v1/vehicles/{vin}/unlock`. */
  readonly template: string;
  /** The VIN the request refers to, upper-cased, when a path segment or query value has VIN shape. */
  readonly vin?: string;
  readonly vinFrom?: 'path' | 'query';
}

function decodeSegment(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function placeholder(seg: string): string | undefined {
  if (DIGITS.test(seg)) return '{id}';
  if (UUID.test(seg)) return '{uuid}';
  if (HEX.test(seg)) return '{hex}';
  if (TOKEN.test(seg)) return '{token}';
  return undefined;
}

/**
 * Template a request target: an origin-form path (`/a/b?q`), an absolute URL
 * (`https://host/a/b`), `*`, or an authority (`host:443`, CONNECT). Never throws.
 */
export function templateEndpoint(target: string): Endpoint {
  let t = target;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(t);
  if (scheme) t = t.slice(scheme[0].length) || '/';
  if (!t.startsWith('/')) return { template: t.length > MAX_ENDPOINT_CHARS ? `${t.slice(0, MAX_ENDPOINT_CHARS)}...` : t };
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  const path = q >= 0 ? t.slice(0, q) : t;
  const query = q >= 0 ? t.slice(q + 1) : '';
  let vin: string | undefined;
  let vinFrom: 'path' | 'query' | undefined;
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const raw = parts[i]!;
    if (raw === '') continue;
    const seg = decodeSegment(raw);
    const upper = seg.toUpperCase();
    if (isVinShaped(upper)) {
      parts[i] = '{vin}';
      if (vin === undefined) {
        vin = upper;
        vinFrom = 'path';
      }
      continue;
    }
    parts[i] = placeholder(seg) ?? raw;
  }
  if (vin === undefined && query) {
    const found = vinInQuery(query);
    if (found) {
      vin = found;
      vinFrom = 'query';
    }
  }
  let template = parts.join('/');
  if (template.length > MAX_ENDPOINT_CHARS) template = `${template.slice(0, MAX_ENDPOINT_CHARS)}...`;
  return vin === undefined ? { template } : { template, vin, vinFrom: vinFrom! };
}

/** A `vin=` parameter first, else the first VIN-shaped value. */
function vinInQuery(query: string): string | undefined {
  let shaped: string | undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const value = decodeSegment(pair.slice(eq + 1).replace(/\+/g, ' ')).toUpperCase();
    if (!isVinShaped(value)) continue;
    if (pair.slice(0, eq).toLowerCase() === 'vin') return value;
    shaped ??= value;
  }
  return shaped;
}

/** The authority of an absolute-form request target (`https://api.example.com:443/x` -> `api.example.com:443`), without user info. */
export function targetHost(target: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#@]+)/i.exec(target)?.[1];
}

const METHOD = /^[A-Z][A-Z0-9_-]{0,15}$/;

export interface RequestLine {
  readonly method?: string;
  readonly target?: string;
  readonly protocol?: string;
}

/**
 * Split an HTTP request line (`GET /a?b HTTP/1.1`). A line that is not one (`-`, a TLS
 * handshake sent to an HTTP port, garbage from a scanner) gives an empty object.
 */
export function parseRequestLine(line: string): RequestLine {
  const first = line.indexOf(' ');
  if (first <= 0) return {};
  const method = line.slice(0, first);
  if (!METHOD.test(method)) return {};
  const rest = line.slice(first + 1);
  // The protocol is the last token when it looks like one; a target may contain spaces in broken clients.
  const m = / (HTTP\/\d(?:\.\d)?)$/.exec(rest);
  const target = m ? rest.slice(0, m.index) : rest;
  if (!target) return { method };
  return m ? { method, target, protocol: m[1]! } : { method, target };
}
