/**
 * Framing for HTTP batch ingest: a request body in, one entry per record out, in order.
 * A record is one JSON object of the wire format (see src/decode/README.md); what cannot
 * be framed as one (not UTF-8, not JSON, not an object, too large) is a reject with the
 * decoder's reason code and its raw bytes, so the caller can dead-letter it. The records'
 * shape and values are checked later, by the pipeline's lanes.
 *
 * - `application/json`: one object, or an array of objects. Array elements are passed on as
 *   the exact text the client sent (sliced, not re-serialized).
 * - `application/x-ndjson`: one object per line; blank lines are not records; a trailing
 *   `\r` is ignored. A line is found by its byte 0x0A, which UTF-8 never uses inside a
 *   character, so a line with broken UTF-8 spoils only itself.
 */
import { MAX_MESSAGE_BYTES, parseJsonObject } from '../../decode/json.js';
import type { Reject } from '../../decode/reject.js';

export type BodyFormat = 'json' | 'ndjson';

export interface FramedRecord {
  readonly ok: true;
  /** Position among the request's records (array element, or non-blank NDJSON line), from 0. */
  readonly index: number;
  /** NDJSON line number, from 1. */
  readonly line?: number;
  readonly payload: string | Uint8Array;
}

export interface FramingReject extends Reject {
  readonly ok: false;
  readonly index: number;
  readonly line?: number;
  readonly raw: Uint8Array;
}

export type Framed = FramedRecord | FramingReject;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Frame a whole body. Pure: no I/O, no clock. */
export function frameBody(body: Uint8Array, format: BodyFormat): Framed[] {
  return format === 'ndjson' ? frameNdjson(body) : frameJson(body);
}

/** One object, or an array of objects; anything else is one reject for the whole body. */
export function frameJson(body: Uint8Array): Framed[] {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return [whole(body, 'message.encoding', 'body is not valid UTF-8')];
  }
  if (!text.trim()) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return [whole(body, 'json.malformed', `malformed JSON: ${(e as Error).message}`)];
  }
  if (isObject(value)) {
    if (text.length > MAX_MESSAGE_BYTES) return [whole(body, 'message.too_large', `message of ${text.length} characters exceeds ${MAX_MESSAGE_BYTES}`)];
    return [{ ok: true, index: 0, payload: text }];
  }
  if (!Array.isArray(value)) return [whole(body, 'json.not_object', 'body must be a JSON object or an array of objects')];
  const spans = elementSpans(text);
  const out: Framed[] = [];
  for (let i = 0; i < value.length; i++) {
    // The scanner and JSON.parse agree on valid JSON; re-serializing is the fallback if they ever do not.
    const slice = spans.length === value.length ? text.slice(spans[i]![0], spans[i]![1]) : JSON.stringify(value[i]) ?? 'null';
    if (!isObject(value[i])) out.push({ ok: false, index: i, code: 'json.not_object', reason: `array element ${i} is not a JSON object`, raw: encoder.encode(slice) });
    else if (slice.length > MAX_MESSAGE_BYTES) out.push({ ok: false, index: i, code: 'message.too_large', reason: `array element ${i} of ${slice.length} characters exceeds ${MAX_MESSAGE_BYTES}`, raw: encoder.encode(slice) });
    else out.push({ ok: true, index: i, payload: slice });
  }
  return out;
}

/** One object per line. */
export function frameNdjson(body: Uint8Array): Framed[] {
  const out: Framed[] = [];
  let start = 0;
  let line = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    line++;
    let stop = end;
    if (stop > start && body[stop - 1] === 0x0d) stop--;
    if (!isBlank(body, start, stop)) {
      const index = out.length;
      const bytes = body.subarray(start, stop);
      const parsed = parseLine(bytes);
      if (parsed.ok) out.push({ ok: true, index, line, payload: parsed.text });
      else out.push({ ok: false, index, line, code: parsed.reject.code, reason: `line ${line}: ${parsed.reject.reason}`, raw: bytes.slice() });
    }
    start = end + 1;
  }
  return out;
}

function parseLine(bytes: Uint8Array): { ok: true; text: string } | { ok: false; reject: Reject } {
  if (bytes.length > MAX_MESSAGE_BYTES) {
    return { ok: false, reject: { code: 'message.too_large', reason: `message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}` } };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reject: { code: 'message.encoding', reason: 'line is not valid UTF-8' } };
  }
  const parsed = parseJsonObject(text);
  return parsed.ok ? { ok: true, text } : parsed;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function isBlank(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function whole(body: Uint8Array, code: string, reason: string): FramingReject {
  return { ok: false, index: 0, code, reason, raw: body.slice() };
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

/**
 * [start, end) of each element of a top-level JSON array, in text already known to be
 * valid JSON: a single pass that tracks strings and nesting depth.
 */
function elementSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      last = i;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (depth === 1 && (c === COMMA || c === CLOSE_ARRAY)) {
      if (start >= 0) spans.push([start, last + 1]);
      start = -1;
      if (c === CLOSE_ARRAY) depth = 0;
      continue;
    }
    if (depth === 1 && start < 0) start = i;
    if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    last = i;
  }
  return spans;
}
