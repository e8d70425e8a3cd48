/**
 * JSON access logs (nginx `log_format ... escape=json`, Envoy JSON access logs, AWS ALB
 * converted to JSON, Elastic Common Schema, the wire form itself) to the log wire object,
 * through one field-alias table. For each wire field the aliases are tried in order; the
 * first one holding a string or number wins. A dotted alias (`http.request.method`) is
 * looked up as a literal key first, then as a path into nested objects (ECS).
 *
 * `X-Forwarded-For` is deliberately not an alias for the source address: anyone can send
 * it. Put a trusted proxy's rewritten address into `remote_addr` instead.
 */
import { parseJsonObject, type Decoded } from '../json.js';
import { reject } from '../reject.js';
import { DEFAULT_ACCESS_SERVICE, MALFORMED_REQUEST, NO_REQUEST, type AccessContext } from './clf.js';
import { parseRequestLine, targetHost, templateEndpoint } from './endpoint.js';
import { epochToMs, parseAnyTime } from './time.js';

/** Wire field <- aliases, in order of preference. Documented in README.md; change both together. */
export const ACCESS_LOG_ALIASES = {
  ts: ['ts', '@timestamp', 'timestamp', 'time', 'time_iso8601', 'time_local', 'msec', 'start_time', 'request_creation_time', 'date'],
  ip: ['ip', 'client_ip', 'remote_addr', 'source.ip', 'client.ip', 'downstream_remote_address', 'client', 'clientip', 'c-ip'],
  method: ['method', 'request_method', 'http.request.method', 'http_method', 'verb'],
  /** The request target (path and query, or an absolute URL). */
  target: ['endpoint', 'path', 'uri', 'request_uri', 'url.original', 'url.path', 'url', 'request_url', 'cs-uri-stem'],
  /** A whole request line, `GET /path HTTP/1.1`; gives the method and target when those are absent. */
  request: ['request', 'request_line'],
  status: ['status', 'status_code', 'response_code', 'http.response.status_code', 'elb_status_code', 'sc-status'],
  ua: ['ua', 'user_agent', 'http_user_agent', 'user_agent.original', 'agent', 'useragent', 'cs(User-Agent)'],
  actor: ['actor', 'remote_user', 'user.name', 'user', 'username', 'account', 'user_id'],
  /** After `service`, the source's configured service wins over these guesses. */
  service: ['upstream_cluster', 'upstream_name', 'upstream', 'service.name', 'server_name', 'authority', 'http_host', 'host'],
  /** The host the client asked for (kept as `detail.host`; else the authority of an absolute-form target). */
  host: ['http_host', 'host', 'authority', 'url.domain', 'server_name'],
  /** The Referer header (kept as `detail.referer`). */
  referer: ['http_referer', 'referer', 'referrer', 'http.request.referrer'],
} as const;

/** Values that loggers write for "no value". */
const EMPTY = new Set(['', '-', 'null', 'undefined']);

function lookup(o: Record<string, unknown>, key: string): unknown {
  if (key in o) return o[key];
  if (!key.includes('.')) return undefined;
  let cur: unknown = o;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The first alias holding a usable string or number, with the alias that held it. */
function first(o: Record<string, unknown>, aliases: readonly string[]): [string, string | number] | undefined {
  for (const a of aliases) {
    const v = lookup(o, a);
    if (typeof v === 'number' && Number.isFinite(v)) return [a, v];
    if (typeof v === 'string' && !EMPTY.has(v)) return [a, v];
  }
  return undefined;
}

// host:port, [v6]:port, bare v6, v4, comma lists of addresses: an address, not a service name.
const ADDRESS_LIKE = /^[\d.:[\], a-f]+$/i;

/** `203.0.113.7:5123` -> `203.0.113.7`; `[2001:db8::1]:443` -> `2001:db8::1`; a bare IPv6 address is kept. */
export function stripPort(addr: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (v6) return v6[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(addr);
  return v4 ? v4[1]! : addr;
}

function time(o: Record<string, unknown>): number | undefined {
  const hit = first(o, ACCESS_LOG_ALIASES.ts);
  if (!hit) return undefined;
  const [key, v] = hit;
  if (typeof v === 'number') {
    if (key === 'ts') return v >= 0 ? v : undefined; // the wire form: epoch ms
    if (key === 'msec') return Math.round(v * 1000); // nginx $msec: seconds with a ms fraction
    return epochToMs(v);
  }
  return parseAnyTime(v);
}

/** Map one JSON access-log object to the log wire object (`decodeLog` checks it next). */
export function accessJsonToWire(o: Record<string, unknown>, ctx: AccessContext = {}): Decoded<Record<string, unknown>> {
  const ts = time(o);
  if (ts === undefined) {
    return { ok: false, reject: reject('time.invalid', `no usable time in any of ${ACCESS_LOG_ALIASES.ts.join(', ')}`) };
  }
  const out: Record<string, unknown> = { ts };
  const own = first(o, ['service']);
  const guessed = first(o, ACCESS_LOG_ALIASES.service);
  out.service = own?.[1] !== undefined ? String(own[1])
    : ctx.service ?? (guessed && !ADDRESS_LIKE.test(String(guessed[1])) ? String(guessed[1]) : DEFAULT_ACCESS_SERVICE);

  const request = first(o, ACCESS_LOG_ALIASES.request);
  const line = typeof request?.[1] === 'string' ? parseRequestLine(request[1]) : undefined;
  const method = first(o, ACCESS_LOG_ALIASES.method)?.[1] ?? line?.method;
  if (method !== undefined) out.method = String(method).toUpperCase();
  const target = first(o, ACCESS_LOG_ALIASES.target)?.[1] ?? line?.target;
  if (target !== undefined) {
    const ep = templateEndpoint(String(target));
    out.endpoint = ep.template || '/';
    if (ep.vin && o.vin === undefined) {
      out.vin = ep.vin;
      out.vinFrom = ep.vinFrom;
    }
  } else out.endpoint = request ? MALFORMED_REQUEST : NO_REQUEST;
  if (o.vin !== undefined) out.vin = o.vin;

  const status = first(o, ACCESS_LOG_ALIASES.status)?.[1];
  if (status !== undefined) out.status = typeof status === 'number' ? status : /^\d{3}$/.test(status) ? Number(status) : status;
  const ip = first(o, ACCESS_LOG_ALIASES.ip)?.[1];
  if (ip !== undefined) out.ip = stripPort(String(ip));
  const ua = first(o, ACCESS_LOG_ALIASES.ua)?.[1];
  if (ua !== undefined) out.ua = String(ua);
  const actor = first(o, ACCESS_LOG_ALIASES.actor)?.[1];
  if (actor !== undefined) out.actor = String(actor);
  // For threat indicators (src/intel/indicators): the host asked for and the referring page.
  const host = first(o, ACCESS_LOG_ALIASES.host)?.[1] ?? (target === undefined ? undefined : targetHost(String(target)));
  const referer = first(o, ACCESS_LOG_ALIASES.referer)?.[1];
  if (host !== undefined || referer !== undefined) out.detail = { ...(host !== undefined ? { host: String(host) } : {}), ...(referer !== undefined ? { referer: String(referer) } : {}) };
  if (o.seq !== undefined) out.seq = o.seq;
  return { ok: true, value: out };
}

/** Decode a JSON access-log payload: parse, then map through the alias table. */
export function decodeAccessJson(payload: string | Uint8Array, ctx: AccessContext = {}): Decoded<Record<string, unknown>> {
  const parsed = parseJsonObject(payload);
  return parsed.ok ? accessJsonToWire(parsed.value, ctx) : parsed;
}
