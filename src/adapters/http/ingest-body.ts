/**
 * Reading an ingest request body with limits: at most `maxBytes` on the wire, and at most
 * `maxBytes` after gzip decompression (a gzip bomb stops at the cap, it is never inflated
 * whole). Past either limit the request is refused with 413, and its first bytes (as sent,
 * at most `MAX_KEPT_BYTES`) are kept as a dead letter: evidence of what was refused, in
 * bounded space. A gzip body that does not decompress is returned with its raw bytes, to
 * be dead-lettered whole.
 */
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { MAX_MESSAGE_BYTES } from '../../decode/json.js';

const gunzipAsync = promisify(gunzip);

/** Most bytes of a refused body (413, 415, unknown path) kept in its dead letter. */
export const MAX_KEPT_BYTES = MAX_MESSAGE_BYTES;

/** What a refusal keeps: the dead letter's reason code and the body's first bytes as sent. */
export interface Kept {
  readonly code: string;
  readonly raw: Uint8Array;
}

/**
 * An HTTP refusal that the server's one error handler turns into `{ error, message }`.
 * With `kept`, the ingest route first stores a dead letter of the refused body.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly kept?: Kept,
  ) {
    super(message);
  }
}

export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; code: string; reason: string; raw: Uint8Array };

/** The body as sent, or the first bytes of one past the limit. */
export type RawBody = { ok: true; bytes: Uint8Array } | { ok: false; head: Uint8Array; why: string };

/** Content codings accepted; `identity` is the same as none. */
export const CONTENT_ENCODINGS = ['gzip', 'x-gzip', 'identity'] as const;

/** The request's content coding, or an explanation of why it is not accepted. */
export function contentEncoding(header: string | string[] | undefined): 'gzip' | 'identity' | { refused: string } {
  const value = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  return { refused: `Content-Encoding ${JSON.stringify(value.slice(0, 64))} is not supported; send gzip or no encoding` };
}

/**
 * Read the body: all of it up to `maxBytes`, or — past `maxBytes`, as sent or as declared by
 * Content-Length — its first `keepBytes` and a refusal. The rest of an upload refused early is
 * read and discarded, so the client gets the answer rather than a reset connection.
 */
export function readRaw(stream: Readable | undefined, contentLength: string | undefined, maxBytes: number, keepBytes = MAX_KEPT_BYTES): Promise<RawBody> {
  if (!stream) return Promise.resolve({ ok: true, bytes: new Uint8Array(0) });
  const declared = contentLength !== undefined && Number(contentLength) > maxBytes ? `Content-Length ${contentLength}` : undefined;
  const limit = declared ? Math.min(keepBytes, maxBytes) : maxBytes;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const refuse = (why: string): void => {
      settled = true;
      const all = Buffer.concat(chunks, Math.min(total, limit));
      chunks.length = 0;
      resolve({ ok: false, head: all.subarray(0, Math.min(all.length, keepBytes)), why });
    };
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (total + chunk.length <= limit) {
        chunks.push(chunk);
        total += chunk.length;
        return;
      }
      chunks.push(chunk.subarray(0, limit - total));
      total = limit;
      refuse(declared ?? 'the body');
    });
    stream.once('end', () => {
      if (settled) return;
      settled = true;
      if (declared) refuse(declared);
      else resolve({ ok: true, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) });
    });
    stream.once('error', (e) => {
      if (settled) return;
      settled = true;
      reject(e);
    });
  });
}

/** The first `keepBytes` of the body, the rest read and discarded: for a request refused before its body is read. */
export async function readHead(stream: Readable | undefined, keepBytes = MAX_KEPT_BYTES): Promise<Uint8Array> {
  const r = await readRaw(stream, undefined, keepBytes, keepBytes);
  return r.ok ? r.bytes : r.head;
}

/** Decompress a gzip body with the same cap, or say why it cannot be. Past the cap: 413, keeping the compressed head. */
export async function decodeBody(raw: Uint8Array, encoding: 'gzip' | 'identity', maxBytes: number): Promise<BodyResult> {
  if (encoding === 'identity') return { ok: true, bytes: raw };
  try {
    return { ok: true, bytes: await gunzipAsync(raw, { maxOutputLength: maxBytes }) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge(maxBytes, 'the decompressed body', raw);
    return { ok: false, code: 'body.gzip', reason: `gzip body does not decompress: ${err.message}`, raw };
  }
}

/** The 413 for a body past `maxBytes`, keeping its first bytes as sent. */
export function tooLarge(maxBytes: number, what: string, raw: Uint8Array): HttpError {
  const head = raw.subarray(0, Math.min(raw.length, MAX_KEPT_BYTES));
  return new HttpError(413, 'PayloadTooLarge', `${what} exceeds the ingest limit of ${maxBytes} bytes (http.ingest.maxBodyBytes)`, { code: 'body.too_large', raw: head });
}
