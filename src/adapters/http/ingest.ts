/**
 * HTTP batch ingest: `POST /v1/ingest/{signals|security|logs}` with `application/json` (one
 * object or an array of objects), `application/x-ndjson` (one object per line) or
 * `application/msgpack` (one MessagePack object), optionally `Content-Encoding: gzip`. Each
 * record becomes one pipeline message; the answer waits until every record taken is durable
 * (stored, or dead-lettered by its lane) and every dead letter written here is durable.
 *
 * Answers (the README's "HTTP ingest" has the table):
 * - 202 `{accepted, rejected, errors}` when at least one record was taken. A batch with some
 *   unframeable records is still 202: those are dead-lettered and listed in `errors`, and
 *   sending the batch again would only duplicate the good ones.
 * - 400 with the same per-record `errors` when no record could be taken.
 * - 413 past `maxBodyBytes` (as sent or decompressed) or `maxRecords`; 415 for other media
 *   types or content codings; 404 for a kind that does not exist under `/v1/ingest/`. These
 *   refuse the request whole, and keep its first bytes as sent (at most 1 MiB) as one dead
 *   letter (`body.too_large`, `body.too_many_records`, `body.media_type`,
 *   `body.content_encoding`, `path.invalid`), so what was refused can be looked at.
 * - Not kept: 503 (backpressure: the client still holds the data and sends it again), 405
 *   (wrong method), an empty body, and a refused sender (bad or conflicting tenant; later,
 *   a bad token): a stranger must not be able to write to the store.
 * - 503 with `Retry-After` when the pipeline is full before the body is read (nothing taken),
 *   or stays full for `maxWaitMs` in the middle of a batch: then the records before
 *   `retryFrom` are durable and the client sends the rest again. The event loop never blocks.
 * Records a lane refuses later (bad VIN, unknown signal) count as accepted: they are
 * dead-lettered by the lane, with their reason, like records from any other source.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BackpressureError } from '../../core/errors.js';
import type { DeadLetter, RecordKind } from '../../core/records.js';
import { parseMsgpackObject } from '../../decode/msgpack.js';
import type { InputItem } from '../../runtime/lane.js';
import type { Ack, Pipeline } from '../../runtime/pipeline.js';
import { requestTenant } from './api.js';
import { errorHandler } from './errors.js';
import { contentEncoding, decodeBody, HttpError, MAX_KEPT_BYTES, readHead, readRaw, tooLarge } from './ingest-body.js';
import { frameBody, type Framed, type FramingReject } from './ingest-framing.js';

/** Route path segment -> record kind. */
export const INGEST_KINDS: Readonly<Record<string, RecordKind>> = { signals: 'signals', security: 'security', logs: 'log' };
/** Per-record errors listed in one answer at most; the counts are always complete. */
export const MAX_LISTED_ERRORS = 100;
/** The `source` of every HTTP record and dead letter. */
export const HTTP_SOURCE = 'http';

type BodyFormat = 'json' | 'ndjson' | 'msgpack';
const MEDIA_TYPES: Readonly<Record<string, BodyFormat>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
  'application/vnd.msgpack': 'msgpack',
};
const ACCEPTED_TYPES = 'application/json, application/x-ndjson or application/msgpack';
/** Methods answered 405 on an ingest path (HEAD comes with GET). */
const OTHER_METHODS = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;

export interface IngestLimits {
  /** Largest body, as sent and after decompression (413 past it). */
  readonly maxBodyBytes: number;
  /** Most records in one request (413 past it). */
  readonly maxRecords: number;
  /** How long a batch being taken waits for room before answering 503 with `retryFrom`. */
  readonly maxWaitMs: number;
  /** The Retry-After of a 503, seconds. */
  readonly retryAfterS: number;
}

/** Who sent an ingest request: the tenant its records belong to. */
export interface IngestPrincipal {
  readonly tenant: string;
}

/**
 * The authentication seam: resolves the sender of a request or throws (400/401/403). The
 * default takes the tenant of the request's API token (an operator token names it with
 * `?tenant=` or `X-Vigil-Tenant`; see api.ts `requestTenant`).
 */
export type IngestAuthenticator = (req: FastifyRequest) => IngestPrincipal | Promise<IngestPrincipal>;

export interface IngestDeps extends IngestLimits {
  readonly pipeline: Pipeline;
  readonly defaultTenant: string;
  readonly authenticate?: IngestAuthenticator;
}

/** Register the ingest routes on the server, in their own scope (raw bodies, no JSON parser). */
export function registerIngest(app: FastifyInstance, deps: IngestDeps): void {
  const m = deps.pipeline.metrics;
  m.counter('vigil_http_ingest_records_total', 'Records taken by HTTP ingest (stored, or dead-lettered by a lane)', { rate: true });
  m.counter('vigil_http_ingest_rejected_total', 'Records HTTP ingest could not frame (dead-lettered with raw bytes)');
  m.counter('vigil_http_ingest_refused_total', 'Ingest requests refused whole: 400 (sender), 404, 405, 413, 415, or 503 with nothing taken');
  m.counter('vigil_http_ingest_refusals_kept_total', 'Requests refused whole whose first bytes were dead-lettered (413, 415, 404)');
  const authenticate = deps.authenticate ?? ((req: FastifyRequest): IngestPrincipal => ({ tenant: requestTenant(req, deps.defaultTenant) }));
  const handle = async (req: FastifyRequest, reply: FastifyReply, kind: RecordKind | undefined, stream: Readable | undefined): Promise<FastifyReply> => {
    let who: IngestPrincipal | undefined;
    try {
      who = await authenticate(req);
      if (kind) return await ingest(req, reply, kind, who, stream, deps);
      const path = req.url.split('?')[0]!;
      throw new HttpError(404, 'NotFound', `no ingest route POST ${JSON.stringify(path.slice(0, 200))}: POST /v1/ingest/signals, /v1/ingest/security or /v1/ingest/logs`, { code: 'path.invalid', raw: await readHead(stream) });
    } catch (e) {
      if (e instanceof HttpError || e instanceof BackpressureError) m.inc('vigil_http_ingest_refused_total');
      if (e instanceof HttpError && e.kept && who) {
        m.inc('vigil_http_ingest_refusals_kept_total');
        await durable(deps.pipeline, [{ id: randomUUID(), tenant: who.tenant, source: HTTP_SOURCE, kind: kind ?? 'unknown', code: e.kept.code, reason: e.message, receivedAt: Date.now(), raw: e.kept.raw }]);
      }
      throw e;
    }
  };
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // The body stays a stream: the handler reads it under its own limits, after admission.
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    // Fastify refuses a Content-Type it cannot even parse ("json", "a/b/c") before any handler:
    // such a request gets the same 415 and dead letter as any other type not accepted.
    scope.setErrorHandler(async function (error, req, reply) {
      let failure = error as FastifyError;
      if (failure.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && req.method === 'POST') {
        try {
          const segment = req.url.split('?')[0]!.slice('/v1/ingest/'.length);
          return await handle(req, reply, Object.hasOwn(INGEST_KINDS, segment) ? INGEST_KINDS[segment] : undefined, req.raw);
        } catch (e) {
          failure = e as FastifyError;
        }
      }
      errorHandler.call(this, failure, req, reply);
      return reply;
    });
    for (const [path, kind] of Object.entries(INGEST_KINDS)) {
      scope.post(`/v1/ingest/${path}`, { config: { permission: 'ingest' }, schema: { hide: true } }, (req, reply) => handle(req, reply, kind, req.body as Readable | undefined));
      scope.route({
        method: [...OTHER_METHODS],
        url: `/v1/ingest/${path}`,
        config: { permission: 'ingest' },
        schema: { hide: true },
        handler: async (req, reply) => {
          m.inc('vigil_http_ingest_refused_total');
          return reply.status(405).header('allow', 'POST').send({ error: 'MethodNotAllowed', message: `${req.method} ${req.url.split('?')[0]} is not allowed: POST records to it` });
        },
      });
    }
    // Any other path under /v1/ingest/: an ingest request sent to the wrong place, kept like a bad MQTT topic.
    scope.post('/v1/ingest/*', { config: { permission: 'ingest' }, schema: { hide: true } }, (req, reply) => handle(req, reply, undefined, req.body as Readable | undefined));
  });
}

interface ListedError {
  readonly index: number;
  readonly line?: number;
  readonly code: string;
  readonly reason: string;
}

async function ingest(req: FastifyRequest, reply: FastifyReply, kind: RecordKind, who: IngestPrincipal, stream: Readable | undefined, deps: IngestDeps): Promise<FastifyReply> {
  const { pipeline } = deps;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const format = Object.hasOwn(MEDIA_TYPES, mediaType) ? MEDIA_TYPES[mediaType] : undefined;
  if (!format) {
    const what = mediaType ? `Content-Type ${JSON.stringify(mediaType.slice(0, 64))} is not accepted` : 'no Content-Type';
    throw new HttpError(415, 'UnsupportedMediaType', `${what}; send ${ACCEPTED_TYPES}`, { code: 'body.media_type', raw: await readHead(stream) });
  }
  const encoding = contentEncoding(req.headers['content-encoding']);
  if (typeof encoding === 'object') throw new HttpError(415, 'UnsupportedContentEncoding', encoding.refused, { code: 'body.content_encoding', raw: await readHead(stream) });
  // Admission before reading the body: a full pipeline takes nothing and costs no upload.
  if (!pipeline.canAccept()) throw new BackpressureError('pipeline is full; nothing was taken', deps.retryAfterS * 1000);
  const sent = await readRaw(stream, req.headers['content-length'], deps.maxBodyBytes);
  if (!sent.ok) throw tooLarge(deps.maxBodyBytes, sent.why, sent.head);
  const raw = sent.bytes;
  const receivedAt = Date.now();
  const body = await decodeBody(raw, encoding, deps.maxBodyBytes);
  const framed: Framed[] = !body.ok ? [{ ok: false, index: 0, code: body.code, reason: body.reason, raw: body.raw }] : format === 'msgpack' ? frameMsgpack(body.bytes) : frameBody(body.bytes, format);
  if (framed.length > deps.maxRecords) {
    throw new HttpError(413, 'TooManyRecords', `${framed.length} records exceed the ingest limit of ${deps.maxRecords} per request (http.ingest.maxRecords)`, { code: 'body.too_many_records', raw: raw.subarray(0, MAX_KEPT_BYTES) });
  }
  if (framed.length === 0) return reply.status(400).send({ error: 'EmptyBody', message: 'the body holds no records', accepted: 0, rejected: 0, errors: [] });

  const r = await take(framed, kind, format === 'msgpack' ? 'msgpack' : 'json', who.tenant, receivedAt, deps);
  pipeline.metrics.inc('vigil_http_ingest_records_total', r.accepted);
  pipeline.metrics.inc('vigil_http_ingest_rejected_total', r.rejected);
  const result = { accepted: r.accepted, rejected: r.rejected, errors: r.errors, ...(r.errorsTruncated ? { errorsTruncated: true } : {}) };
  if (r.retryFrom !== undefined) {
    return reply
      .status(503)
      .header('retry-after', String(deps.retryAfterS))
      .send({ error: 'BackpressureError', message: `pipeline stayed full; records from index ${r.retryFrom} on were not taken: send them again`, retryFrom: r.retryFrom, ...result });
  }
  if (r.accepted === 0) return reply.status(400).send({ error: 'NoRecordAccepted', message: 'no record could be framed; each is dead-lettered with its reason', ...result });
  return reply.status(202).send(result);
}

/**
 * A MessagePack body is one record. It is decoded here as well as in the lane (as a JSON
 * record is parsed twice), so a body that is not a MessagePack map is answered 400 with its reason.
 */
function frameMsgpack(body: Uint8Array): Framed[] {
  if (body.length === 0) return [];
  const parsed = parseMsgpackObject(body);
  if (!parsed.ok) return [{ ok: false, index: 0, code: parsed.reject.code, reason: parsed.reject.reason, raw: body }];
  return [{ ok: true, index: 0, payload: body }];
}

/** Store dead letters and resolve once they are durable. */
function durable(pipeline: Pipeline, records: DeadLetter[]): Promise<void> {
  return new Promise((resolve) => pipeline.deadLetter(records, resolve));
}

interface TakeResult {
  accepted: number;
  rejected: number;
  errors: ListedError[];
  errorsTruncated: boolean;
  /** Index of the first record not taken because the pipeline stayed full. */
  retryFrom?: number;
}

/** Offer the records and dead-letter the rejects in order; resolve once all of it is durable. */
async function take(framed: readonly Framed[], kind: RecordKind, encoding: 'json' | 'msgpack', tenant: string, receivedAt: number, deps: IngestDeps): Promise<TakeResult> {
  const res: TakeResult = { accepted: 0, rejected: 0, errors: [], errorsTruncated: false };
  const dead: DeadLetter[] = [];
  let pending = 1;
  let allDurable!: () => void;
  const durable = new Promise<void>((resolve) => (allDurable = resolve));
  const ack: Ack = () => {
    if (--pending === 0) allDurable();
  };
  const deadline = Date.now() + deps.maxWaitMs;
  for (const f of framed) {
    if (!f.ok) {
      res.rejected++;
      dead.push(deadLetter(f, kind, tenant, receivedAt));
      listError(res, f);
      continue;
    }
    const item: InputItem = { kind, tenant, source: HTTP_SOURCE, payload: f.payload, ...(encoding === 'msgpack' ? { encoding } : {}), receivedAt };
    pending++;
    if (!(await offerBefore(deps.pipeline, item, ack, deadline))) {
      pending--;
      res.retryFrom = f.index;
      break;
    }
    res.accepted++;
  }
  if (dead.length) {
    pending++;
    deps.pipeline.deadLetter(dead, ack);
  }
  ack();
  await durable;
  return res;
}

/** Offer, waiting for room until `deadline` without blocking; false if the pipeline stayed full. */
async function offerBefore(pipeline: Pipeline, item: InputItem, ack: Ack, deadline: number): Promise<boolean> {
  for (;;) {
    try {
      if (pipeline.offer(item, ack)) return true;
    } catch (e) {
      if (!(e instanceof BackpressureError)) throw e;
    }
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pipeline.ready(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
}

function listError(res: TakeResult, f: FramingReject): void {
  if (res.errors.length >= MAX_LISTED_ERRORS) {
    res.errorsTruncated = true;
    return;
  }
  res.errors.push({ index: f.index, ...(f.line !== undefined ? { line: f.line } : {}), code: f.code, reason: f.reason });
}

function deadLetter(f: FramingReject, kind: RecordKind, tenant: string, receivedAt: number): DeadLetter {
  return { id: randomUUID(), tenant, source: HTTP_SOURCE, kind, code: f.code, reason: f.reason, receivedAt, raw: f.raw };
}
