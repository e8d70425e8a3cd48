/**
 * Reading an ingest request body with limits: at most `maxBytes` on the wire, and at most
 * `maxBytes` after gzip decompression (a gzip bomb stops at the cap, it is never inflated
 * whole). Past either limit the request is refused with 413 and nothing is kept: the
 * client still holds the data. A gzip body that does not decompress is returned with its
 * raw bytes, to be dead-lettered.
 */
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** An HTTP refusal that the server's one error handler turns into `{ error, message }`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; code: string; reason: string; raw: Uint8Array };

/** Content codings accepted; `identity` is the same as none. */
export const CONTENT_ENCODINGS = ['gzip', 'x-gzip', 'identity'] as const;

/** The request's content coding, or a 415. */
export function contentEncoding(header: string | string[] | undefined): 'gzip' | 'identity' {
  const value = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  throw new HttpError(415, 'UnsupportedContentEncoding', `Content-Encoding ${JSON.stringify(value.slice(0, 64))} is not supported; send gzip or no encoding`);
}

/** The body as sent, with at most `maxBytes`; 413 past it (checked against Content-Length first). */
export function readRaw(stream: Readable | undefined, contentLength: string | undefined, maxBytes: number): Promise<Uint8Array> {
  if (contentLength !== undefined && Number(contentLength) > maxBytes) return Promise.reject(tooLarge(maxBytes, `Content-Length ${contentLength}`));
  if (!stream) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total <= maxBytes) chunks.push(chunk);
      else {
        // Stop buffering; the rest of the upload is read and discarded, so the client gets the 413.
        failed = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes, 'the body'));
      }
    });
    stream.once('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    });
    stream.once('error', (e) => {
      if (failed) return;
      failed = true;
      reject(e);
    });
  });
}

/** Decompress a gzip body with the same cap, or say why it cannot be. */
export async function decodeBody(raw: Uint8Array, encoding: 'gzip' | 'identity', maxBytes: number): Promise<BodyResult> {
  if (encoding === 'identity') return { ok: true, bytes: raw };
  try {
    return { ok: true, bytes: await gunzipAsync(raw, { maxOutputLength: maxBytes }) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge(maxBytes, 'the decompressed body');
    return { ok: false, code: 'body.gzip', reason: `gzip body does not decompress: ${err.message}`, raw };
  }
}

function tooLarge(maxBytes: number, what: string): HttpError {
  return new HttpError(413, 'PayloadTooLarge', `${what} exceeds the ingest limit of ${maxBytes} bytes (http.ingest.maxBodyBytes)`);
}
